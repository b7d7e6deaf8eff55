"""Title and caption overlays: text drawn once with Pillow into transparent PNGs.

ffmpeg then overlays each PNG for the seconds it belongs to. Drawing with Pillow and a
bundled CJK font (Noto Sans SC from the pip package ``pylopdf-fonts-zh-cn``) is more
reliable for Chinese than ffmpeg's drawtext, which needs fontconfig and shapes nothing.

Lines are broken by :func:`creator.text.break_lines`, the breaker the covers use.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from creator.resources import cjk_font_path
from creator.text import break_lines

__all__ = ["TextImage", "font_path", "render_text", "wrap_text"]


@dataclass(frozen=True)
class TextImage:
    """A rendered text overlay: the PNG and where its top-left corner goes in the frame."""

    path: Path
    x: int
    y: int
    width: int
    height: int


def font_path() -> Path:
    """The bundled CJK-capable font (Noto Sans SC), the one the covers use."""
    return cjk_font_path("sans")


@functools.lru_cache(maxsize=16)
def _font(size: int, family: str = "sans") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path(family)), size)


def _look(style: str | None) -> dict:
    """How the cover style sets its title (prompts/cover/styles.yaml), for the video's
    text: one look across the note. Unknown or no style: white sans with an outline."""
    from creator.resources import load_prompt

    spec = (load_prompt("cover/styles.yaml")["styles"].get(style) or {}).get("title", {}) if style else {}
    colors = spec.get("sticker_colors") or []
    return {"family": spec.get("family", "sans"),
            "sticker": spec.get("treatment") == "sticker" and bool(colors),
            "band": colors[0] if colors else None}


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Lines of ``text`` no wider than ``max_width`` in ``font``: the one line breaker of
    :mod:`creator.text` (words kept whole, separators and punctuation first, kinsoku)."""
    return break_lines(text, font.getlength, max_width) or [""]


def render_text(
    text: str,
    path: Path,
    *,
    frame: tuple[int, int],
    role: str = "caption",
    area: tuple[int, int, int, int] | None = None,
    style: str | None = None,
) -> TextImage:
    """Draw ``text`` for a frame of size ``frame`` (w, h) into a transparent PNG at ``path``.

    ``role`` is "title" (large, upper third) or "caption" (smaller, at the bottom of the
    safe area). ``area`` (x0, y0, x1, y1) is the safe area the text is kept inside
    (default: the default VideoSettings' safe zones, plan.safe_area), with a small
    margin; lines are broken to its width and centred in it. The PNG is cropped to the
    text, so the overlay touches as few pixels as possible per frame. ``style``: the
    cover's style (prompts/cover/styles.yaml): its font family, and a sticker style's
    band behind dark text, so the title cards and captions look like the cover.
    """
    fw, fh = frame
    from .plan import safe_area, safe_margin

    if area is None:
        from creator.config import VideoSettings

        area = safe_area(VideoSettings(), frame)
    ax0, ay0, ax1, ay1 = area
    short = min(fw, fh)
    margin = safe_margin(frame)
    size = max(12, round(short * (0.085 if role == "title" else 0.05)))
    look = _look(style)
    font = _font(size, look["family"])
    stroke = max(1, size // 14)
    lines = wrap_text(text.strip(), font, int(ax1 - ax0 - 2 * margin))
    spacing = round(size * 0.25)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = [math.floor(v) if i < 2 else math.ceil(v) for i, v in enumerate(
        probe.multiline_textbbox((0, 0), "\n".join(lines), font=font, spacing=spacing,
                                 align="center", stroke_width=stroke))]
    pad = stroke + max(2, size // 5)  # room for the shadow offset
    w = box[2] - box[0] + 2 * pad
    h = box[3] - box[1] + 2 * pad
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    origin = (pad - box[0], pad - box[1])
    shadow = max(1, size // 16)
    if look["sticker"]:
        # the sticker styles' band (their first sticker colour) behind dark text, as on the cover
        draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=max(2, size // 4), fill=look["band"])
        draw.multiline_text(origin, "\n".join(lines), font=font, fill="#1E1E1E", spacing=spacing,
                            align="center", stroke_width=max(1, stroke // 2), stroke_fill="#1E1E1E")
    else:
        # a soft dark shadow then white text with a dark outline: readable on sky and on snow
        draw.multiline_text((origin[0] + shadow, origin[1] + shadow), "\n".join(lines), font=font,
                            fill=(0, 0, 0, 110), spacing=spacing, align="center",
                            stroke_width=stroke, stroke_fill=(0, 0, 0, 110))
        draw.multiline_text(origin, "\n".join(lines), font=font, fill=(255, 255, 255, 255),
                            spacing=spacing, align="center", stroke_width=stroke,
                            stroke_fill=(20, 20, 20, 200))
    # even position/size keeps the overlay on the chroma grid of yuv420p
    w2, h2 = w + (w % 2), h + (h % 2)
    if (w2, h2) != (w, h):
        canvas = Image.new("RGBA", (w2, h2), (0, 0, 0, 0))
        canvas.paste(img, (0, 0))
        img, w, h = canvas, w2, h2
    # centred in the safe area; a title about a third down, a caption on its bottom edge
    x = max(ax0, ax0 + (ax1 - ax0 - w) // 2) // 2 * 2
    top, bottom = ay0 + margin, ay1 - margin  # the band the text's box must stay in
    y = fh * 0.30 - h / 2 if role == "title" else bottom - h
    y = int(min(max(y, top), bottom - h)) // 2 * 2  # even, on the chroma grid
    if y < top:
        y += 2
    y = max(0, min(y, fh - h))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return TextImage(path=path, x=x, y=y, width=w, height=h)
