"""Title typography: a CJK font, line breaking, size fitting, calm placement, legible ink.

In: a cover-sized PIL image, the title, a :class:`TitleSpec` (from a style in
prompts/cover/styles.yaml), the faces/subject to keep clear (normalised boxes) and an
optional kicker line (place · dates). Out: the image with the title set on it and a
:class:`TitleLayout` saying where and how it was set (box, lines, size, colours,
treatment, WCAG contrast, characters dropped because the font has no glyph for them).

The font is Noto Sans SC / Noto Serif SC from the pip package ``pylopdf-fonts-zh-cn``
(OFL-1.1), found with importlib.resources. It has no emoji, so characters without a
glyph are dropped from what is drawn rather than drawn as tofu boxes.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from creator.errors import ConfigError, InputError
from creator.resources import CJK_FONT_PACKAGE, cjk_font_path
from creator.text import HARD_SEPARATORS, guess_language, layout_lines
from creator.types import Box

__all__ = [
    "FONT_PACKAGE",
    "font_path",
    "load_font",
    "missing_glyphs",
    "clean_title",
    "title_language",
    "relative_luminance",
    "contrast_ratio",
    "colour_contrast",
    "TitleSpec",
    "TitleBlock",
    "TitleLayout",
    "fit_title",
    "set_title",
]

FONT_PACKAGE = CJK_FONT_PACKAGE

# --- the font ----------------------------------------------------------------------

def font_path(family: str = "sans") -> Path:
    """Path of the Noto Sans SC (``family="sans"``) or Noto Serif SC (``"serif"``) font
    file inside the installed ``pylopdf-fonts-zh-cn`` package."""
    return cjk_font_path(family)


@functools.lru_cache(maxsize=128)
def load_font(family: str, size: int) -> ImageFont.FreeTypeFont:
    """The font of ``family`` at ``size`` pixels (cached: fonts are immutable)."""
    return ImageFont.truetype(str(font_path(family)), max(1, int(size)))


@functools.lru_cache(maxsize=4)
def _notdef(family: str) -> bytes:
    # U+E000 is a private-use code point: the font draws its .notdef box for it
    return bytes(load_font(family, 48).getmask("\ue000"))


@functools.lru_cache(maxsize=4096)
def _has_glyph(family: str, ch: str) -> bool:
    if ch.isspace():
        return True
    if unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Sk") and ch not in "\u00b7":
        return False  # joiners, variation selectors, skin tones: nothing to draw alone
    return bytes(load_font(family, 48).getmask(ch)) != _notdef(family)


def missing_glyphs(text: str, family: str = "sans") -> list[str]:
    """The characters of ``text`` the font cannot draw (each once, in order)."""
    return list(dict.fromkeys(ch for ch in text if not _has_glyph(family, ch)))


def clean_title(text: str, family: str = "sans") -> tuple[str, str]:
    """``text`` without the characters the font lacks (emoji...), whitespace tidied.

    Returns (clean text, the dropped characters joined)."""
    dropped = missing_glyphs(text, family)
    kept = "".join(ch for ch in text if ch not in dropped)
    kept = re.sub(r"\s+", " ", kept).strip()
    return kept, "".join(dropped)


def title_language(text: str) -> str:
    """"zh" when the text has CJK letters, else "en" (:func:`creator.text.guess_language`)."""
    return guess_language(text) or "en"


# --- contrast ----------------------------------------------------------------------

def _rgb(colour: str | tuple) -> tuple[int, int, int]:
    if isinstance(colour, str):
        c = colour.lstrip("#")
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return tuple(int(v) for v in colour[:3])  # type: ignore[return-value]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#%02X%02X%02X" % tuple(int(v) for v in rgb[:3])


def relative_luminance(rgb: np.ndarray | tuple) -> np.ndarray | float:
    """WCAG 2 relative luminance of sRGB colours (..., 3) in 0..255."""
    a = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    lum = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    return float(lum) if lum.ndim == 0 else lum


def contrast_ratio(a, b) -> np.ndarray | float:
    """WCAG contrast ratio (1..21) between two relative luminances (floats or arrays)."""
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    out = (hi + 0.05) / (lo + 0.05)
    return float(out) if np.ndim(out) == 0 else out


def colour_contrast(a: str | tuple, b: str | tuple) -> float:
    """WCAG contrast ratio between two colours ("#RRGGBB" or RGB tuples)."""
    return float(contrast_ratio(relative_luminance(_rgb(a)), relative_luminance(_rgb(b))))


def _worst_contrast(ink_lum: float, region_lum: np.ndarray) -> float:
    """Contrast of the ink against the 5 % least contrasting pixels behind it."""
    return float(np.percentile(contrast_ratio(ink_lum, region_lum), 5))


# --- the spec, the block, the layout -----------------------------------------------

@dataclass
class TitleSpec:
    """How a style sets its title (the ``title:`` part of a style in styles.yaml).

    Sizes are fractions of the image width; ``zones`` are the allowed places (``top``,
    ``middle``, ``bottom``), preferred first; ``treatment`` is ``auto`` (shadow,
    outline or band chosen by contrast), ``sticker`` (each line on a coloured label)
    or ``plain``.
    """

    family: str = "sans"
    max_lines: int = 3
    size: tuple[float, float] = (0.06, 0.14)
    max_height: float = 0.34  # of the area's height
    margin: float = 0.07
    zones: tuple[str, ...] = ("top", "bottom", "middle")
    align: str = "center"
    case: str = "none"  # "upper": latin titles in capitals
    weight: float = 0.0  # faux bold: a stroke in the fill colour, fraction of the size
    line_spacing: float = 1.18
    treatment: str = "auto"
    palette: tuple[str, ...] = ("#FFFFFF", "#141414")
    sticker_colors: tuple[str, ...] = ("#FFE14D", "#FF5A5F", "#FFFFFF", "#1E1E1E")
    tilt: float = 0.0
    kicker_scale: float = 0.34
    rule: bool = False
    outline: bool = True  # False: a band or scrim instead of an outline on middling contrast

    @classmethod
    def from_dict(cls, d: dict | None) -> "TitleSpec":
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown title settings in styles.yaml: {sorted(unknown)}")
        for k in ("size", "zones", "palette", "sticker_colors"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass
class TitleBlock:
    """A fitted title: its lines at one font size, and the block's size in pixels."""

    lines: list[str]
    family: str
    size: int
    pitch: float
    widths: list[float]
    width: float
    height: float
    bold: int
    splits_words: bool = False  # a word was wider than the line and had to be split

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.family, self.size)


@dataclass
class TitleLayout:
    """Where and how the title was set: ``box`` (x0, y0, x1, y1) in pixels of the
    cover, the ink, the treatment, and the WCAG contrast of the text against what is
    directly behind each glyph (the band, label or outline when there is one)."""

    text: str
    lines: list[str]
    box: tuple[int, int, int, int]
    size: int
    family: str
    fill: str
    treatment: str
    contrast: float
    zone: str
    language: str
    dropped: str = ""
    kicker: str | None = None
    notes: list[str] = field(default_factory=list)


def _line_metrics(family: str, size: int) -> tuple[float, float]:
    # the ideographic em box: 0.88 above the baseline, 0.12 below (latin descenders reach a bit lower)
    return 0.88 * size, 0.16 * size


#: Clear space between the title's lowest ink and the rule (styles with ``rule``), a
#: fraction of the title size: enough that the rule reads as a decoration, not an underline.
RULE_CLEARANCE = 0.22
#: The rule's thickness as a fraction of the title size (at least 2 px).
RULE_THICKNESS = 0.035


def _rule_thickness(px: int) -> int:
    return max(2, int(RULE_THICKNESS * px))


def _kicker_gap(px: int, kick_px: int, width: int, spec: TitleSpec) -> float:
    """Space between the title block and the kicker: most of a kicker line (at least
    1.2 % of the cover's width, so a small kicker never touches the title); with a rule,
    the rule with clear space above and (a little less, the kicker's ascent adds some) under it."""
    gap = max(kick_px * 0.9, 0.012 * width)
    if spec.rule:
        gap = RULE_CLEARANCE * px + _rule_thickness(px) + max(0.5 * gap, 0.8 * RULE_CLEARANCE * px)
    return gap


def _pad(px: int, spec: TitleSpec) -> int:
    """Room around the text for shadows, outlines, bands and labels."""
    return int(0.30 * px) + int(round(spec.weight * px))


def fit_title(text: str, spec: TitleSpec, max_w: float, max_h: float, image_width: int,
              reserve: Callable[[int], float] | None = None) -> TitleBlock:
    """The largest size in ``spec.size`` at which ``text`` fits ``max_w`` × ``max_h`` in
    at most ``spec.max_lines`` lines without splitting a word (the smallest size, wrapped,
    when nothing fits). A title with a separator (｜) is broken there first: only when its
    parts cannot fit the lines at any size does the separator stay inline (a preferred
    break point then). ``reserve(px)`` is height needed besides the lines at that size
    (kicker, padding)."""
    lo_px = max(12, int(spec.size[0] * image_width))
    hi_px = max(lo_px, int(spec.size[1] * image_width))

    def layout(px: int, hard: bool) -> TitleBlock:
        font = load_font(spec.family, px)
        bold = int(round(spec.weight * px))
        measure = lambda s: font.getlength(s) + 2 * bold  # noqa: E731
        broken = layout_lines(text, measure, max_w, hard_breaks=hard)
        lines = broken.lines
        widths = [measure(s) for s in lines]
        asc, desc = _line_metrics(spec.family, px)
        pitch = px * spec.line_spacing
        height = (len(lines) - 1) * pitch + asc + desc + 2 * bold
        return TitleBlock(lines=lines, family=spec.family, size=px, pitch=pitch, widths=widths,
                          width=max(widths) if widths else 0.0, height=height, bold=bold,
                          splits_words=broken.splits_words)

    def fits(b: TitleBlock) -> bool:
        extra = reserve(b.size) if reserve else 0.0
        return (len(b.lines) <= spec.max_lines and b.width <= max_w + 0.5 and b.height + extra <= max_h
                and not b.splits_words)

    modes = (True, False) if any(sep in text for sep in HARD_SEPARATORS) else (False,)
    for hard in modes:
        best = None
        lo, hi = lo_px, hi_px
        while lo <= hi:
            mid = (lo + hi) // 2
            b = layout(mid, hard)
            if fits(b):
                best, lo = b, mid + 1
            else:
                hi = mid - 1
        if best is not None:
            return best
    return layout(lo_px, False)


# --- placement ---------------------------------------------------------------------

def _energy(image: Image.Image, scale: int) -> np.ndarray:
    """Gradient energy of the image on a grid of ``scale`` pixels, as a summed-area table."""
    small = image.convert("L").reduce(scale) if scale > 1 else image.convert("L")
    g = np.asarray(small, dtype=np.float32)
    e = np.zeros_like(g)
    e[:, 1:] += np.abs(np.diff(g, axis=1))
    e[1:, :] += np.abs(np.diff(g, axis=0))
    sat = np.zeros((e.shape[0] + 1, e.shape[1] + 1), np.float64)
    sat[1:, 1:] = e.cumsum(0).cumsum(1)
    return sat


def _rect_mean(sat: np.ndarray, r: tuple[float, float, float, float], scale: int) -> float:
    h, w = sat.shape[0] - 1, sat.shape[1] - 1
    x0, y0 = int(max(0, min(w, r[0] / scale))), int(max(0, min(h, r[1] / scale)))
    x1, y1 = int(max(x0 + 1, min(w, math.ceil(r[2] / scale)))), int(max(y0 + 1, min(h, math.ceil(r[3] / scale))))
    total = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]
    return float(total) / max(1, (x1 - x0) * (y1 - y0))


def _overlap(r: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Share of ``b`` covered by ``r``."""
    w = max(0.0, min(r[2], b[2]) - max(r[0], b[0]))
    h = max(0.0, min(r[3], b[3]) - max(r[1], b[1]))
    area = max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / area


# --- where the title goes (_place): a cost per candidate spot, the lowest wins ------------
#: The busyness map has about this many cells across: fine enough to find a calm patch
#: of sky, coarse enough that one leaf or wave does not count.
PLACE_CELLS = 160
#: Vertical positions tried between the area's top and bottom margins.
PLACE_STEPS = 25
#: A block whose centre lies above the first third is in "top", below the second "bottom".
ZONE_BOUNDS = (1 / 3, 2 / 3)
#: Each step down the style's list of zones costs this much: a preferred zone wins unless
#: the next one is clearly calmer (busyness is measured relative to the whole image, ~1).
ZONE_ORDER_COST = 0.12
#: Distance from the zone's centre (a fraction of the area's height) times this: on an even
#: background (paper) the title sits in the middle of its zone, not on its edge.
ZONE_CENTRE_COST = 0.1
ZONE_CENTRES = {"top": 1 / 6, "middle": 0.5, "bottom": 5 / 6}
#: Covering a whole face costs this much: more than any background is busy, so a title
#: never sits on a face while another spot is free.
FACE_COST = 8.0
#: Covering the whole subject costs as much as a background twice as busy as average.
SUBJECT_COST = 1.0


def _place(image: Image.Image, size: tuple[float, float], area: tuple[float, float, float, float],
           spec: TitleSpec, margin: float, avoid: list[tuple], subject: tuple | None) -> tuple[float, float, str]:
    """Top-left of the calmest allowed spot for a block of ``size``; and its zone."""
    scale = max(1, image.width // PLACE_CELLS)
    sat = _energy(image, scale)
    overall = _rect_mean(sat, (0, 0, image.width, image.height), scale) + 1e-3
    bw, bh = size
    ax0, ay0, ax1, ay1 = area
    y_lo, y_hi = ay0 + margin, max(ay0 + margin, ay1 - margin - bh)
    xs = {"left": ax0 + margin, "right": max(ax0 + margin, ax1 - margin - bw),
          "center": ax0 + (ax1 - ax0 - bw) / 2}
    x = xs.get(spec.align, xs["center"])
    best: tuple[float, float, float, str] | None = None
    for k in range(PLACE_STEPS):
        y = y_lo + (y_hi - y_lo) * k / (PLACE_STEPS - 1)
        c = (y + bh / 2 - ay0) / max(1.0, ay1 - ay0)
        zone = "top" if c < ZONE_BOUNDS[0] else "middle" if c < ZONE_BOUNDS[1] else "bottom"
        if zone not in spec.zones:
            continue
        r = (x, y, x + bw, y + bh)
        score = _rect_mean(sat, r, scale) / overall
        score += ZONE_ORDER_COST * spec.zones.index(zone)
        score += ZONE_CENTRE_COST * abs(c - ZONE_CENTRES[zone])
        score += FACE_COST * sum(_overlap(r, f) for f in avoid)
        if subject is not None:
            score += SUBJECT_COST * _overlap(r, subject)
        if best is None or score < best[0]:
            best = (score, x, y, zone)
    if best is None:  # no allowed zone fits (tiny area): centre it
        return x, (ay0 + ay1 - bh) / 2, "middle"
    return best[1], best[2], best[3]


# --- ink and drawing ---------------------------------------------------------------

@dataclass
class _Ink:
    fill: tuple[int, int, int]
    treatment: str  # shadow | outline | band | sticker | plain
    contrast: float
    stroke: tuple[int, int, int] | None = None
    band: tuple[int, int, int] | None = None
    band_alpha: int = 0
    stickers: tuple[int, int, int] | None = None


def _opposite(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (20, 20, 20) if relative_luminance(rgb) > 0.18 else (255, 255, 255)


def _choose_ink(region: np.ndarray, spec: TitleSpec) -> _Ink:
    """Colour and treatment for the title over ``region`` (H, W, 3) uint8."""
    lum = relative_luminance(region.reshape(-1, 3))
    if spec.treatment == "sticker":
        # the label that stands out most from the photo, then the text that reads best on it
        med = float(np.median(lum))
        label = max((_rgb(c) for c in spec.sticker_colors),
                    key=lambda c: contrast_ratio(relative_luminance(c), med))
        fill = max(((20, 20, 20), (255, 255, 255)), key=lambda c: colour_contrast(c, label))
        return _Ink(fill=fill, treatment="sticker", stickers=label, contrast=colour_contrast(fill, label))
    options = [(_rgb(c), _worst_contrast(relative_luminance(_rgb(c)), lum)) for c in spec.palette]
    good = [o for o in options if o[1] >= 4.5]
    fill, worst = good[0] if good else max(options, key=lambda o: o[1])
    if worst >= 4.5:
        return _Ink(fill=fill, treatment="plain" if spec.treatment == "plain" else "shadow", contrast=worst)
    if spec.treatment == "plain":
        return _Ink(fill=fill, treatment="plain", contrast=worst)
    stroke = _opposite(fill)
    outline = colour_contrast(fill, stroke)
    if worst >= 2.0 and spec.outline:
        return _Ink(fill=fill, treatment="outline", stroke=stroke, contrast=outline)
    # busy background: a band behind the text, just opaque enough for 4.5:1
    for alpha in (0.45, 0.6, 0.75, 0.9):
        mixed = region.reshape(-1, 3) * (1 - alpha) + np.array(stroke) * alpha
        c = _worst_contrast(relative_luminance(fill), relative_luminance(mixed))
        if c >= 4.5 or alpha == 0.9:
            return _Ink(fill=fill, treatment="band", band=stroke, band_alpha=int(alpha * 255), contrast=c)
    raise AssertionError("unreachable")


# --- drawing (_draw_block): sizes are fractions of the title's font size (px) --------------
#: The kicker's baseline below its line top: the font's ascent (see _line_metrics).
KICKER_ASCENT = 0.88
#: A band's corner radius, and how far inside the padded layer its edge sits (of the pad):
#: the band hugs the text, leaving a little of the pad as margin.
BAND_RADIUS = 0.18
BAND_INSET = 0.35
#: A sticker label reaches this far beyond the ink left and right, above the ascent and
#: below the baseline (descenders); its corners are rounded by STICKER_RADIUS.
STICKER_PAD_X = 0.28
STICKER_PAD_TOP = 0.16
STICKER_PAD_BOTTOM = 0.28
STICKER_RADIUS = 0.16
#: The sticker's drop shadow: offset (at least 2 px) and opacity (0–255): visible on a
#: light photo without looking like a second label.
STICKER_SHADOW_OFFSET = 0.06
STICKER_SHADOW_ALPHA = 110
#: The outline treatment's stroke (at least 2 px): thick enough to separate the letters
#: from any background, thin enough to keep counters open in Chinese strokes.
OUTLINE_WIDTH = 0.06
#: The soft shadow: blur radius (at least 1.5 px), offset down-right (at least 1 px) and
#: opacity: a lift that reads as depth rather than as a second copy of the text.
SHADOW_BLUR = 0.05
SHADOW_OFFSET = 0.035
SHADOW_OPACITY = 0.6
#: The rule under the title: this share of the title's width.
RULE_WIDTH = 0.3
#: The kicker's outline (outline treatment), a fraction of the kicker's size (at least 1 px).
KICKER_OUTLINE = 0.08


def _draw_block(block: TitleBlock, ink: _Ink, spec: TitleSpec, pad: int, kicker: tuple | None) -> Image.Image:
    """The title (and kicker) on a transparent layer of the block's size plus ``pad``."""
    kick_font, kick_text, kick_h, kick_gap = kicker if kicker else (None, None, 0, 0)
    W = int(math.ceil(block.width)) + 2 * pad
    if kick_font is not None:
        W = max(W, int(math.ceil(kick_font.getlength(kick_text))) + 2 * pad)
    H = int(math.ceil(block.height + kick_gap + kick_h)) + 2 * pad
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    font = block.font
    asc, _ = _line_metrics(block.family, block.size)
    px = block.size

    def line_x(w: float) -> float:
        inner = W - 2 * pad
        if spec.align == "left":
            return pad
        if spec.align == "right":
            return pad + inner - w
        return pad + (inner - w) / 2

    positions = [(line_x(w) + block.bold, pad + block.bold + asc + i * block.pitch)
                 for i, w in enumerate(block.widths)]
    kick_pos = None
    if kick_font is not None:
        kw = kick_font.getlength(kick_text)
        kick_pos = (line_x(kw), pad + block.height + kick_gap + KICKER_ASCENT * kick_font.size)

    d = ImageDraw.Draw(layer)
    if ink.treatment == "band":
        r = int(BAND_RADIUS * px)
        inset = pad * BAND_INSET
        d.rounded_rectangle((inset, inset, W - inset, H - inset), radius=r,
                            fill=ink.band + (ink.band_alpha,))
    if ink.treatment == "sticker":
        shadow = Image.new("RGBA", layer.size, (0, 0, 0, 0))
        sd = ImageDraw.Draw(shadow)
        off = max(2, int(STICKER_SHADOW_OFFSET * px))
        rects = []
        for (x, y), w in zip(positions, block.widths):
            rects.append((x - block.bold - STICKER_PAD_X * px, y - asc - STICKER_PAD_TOP * px,
                          x - block.bold + w + STICKER_PAD_X * px, y + STICKER_PAD_BOTTOM * px))
        for r in rects:
            sd.rounded_rectangle((r[0] + off, r[1] + off, r[2] + off, r[3] + off),
                                 radius=int(STICKER_RADIUS * px), fill=(0, 0, 0, STICKER_SHADOW_ALPHA))
        layer.alpha_composite(shadow)
        for r in rects:
            d.rounded_rectangle(r, radius=int(STICKER_RADIUS * px), fill=ink.stickers + (255,))
    if ink.treatment in ("shadow", "outline", "scrim"):
        mask = Image.new("L", layer.size, 0)
        md = ImageDraw.Draw(mask)
        sw = block.bold + (max(2, int(OUTLINE_WIDTH * px)) if ink.treatment == "outline" else 0)
        for (x, y), line in zip(positions, block.lines):
            md.text((x, y), line, font=font, fill=255, anchor="ls", stroke_width=sw)
        if kick_pos:
            md.text(kick_pos, kick_text, font=kick_font, fill=255, anchor="ls", stroke_width=0)
        mask = mask.filter(ImageFilter.GaussianBlur(max(1.5, SHADOW_BLUR * px)))
        off = max(1, int(SHADOW_OFFSET * px))
        shade = _opposite(ink.fill)
        shadow = Image.new("RGBA", layer.size, shade + (0,))
        shadow.putalpha(mask.point(lambda v: int(v * SHADOW_OPACITY)))
        layer.alpha_composite(shadow, (off, off))
    fill = ink.fill + (255,)
    for (x, y), line in zip(positions, block.lines):
        if ink.treatment == "outline":
            d.text((x, y), line, font=font, fill=ink.stroke + (255,), anchor="ls",
                   stroke_width=block.bold + max(2, int(OUTLINE_WIDTH * px)), stroke_fill=ink.stroke + (255,))
        d.text((x, y), line, font=font, fill=fill, anchor="ls", stroke_width=block.bold, stroke_fill=fill)
    if kick_pos:
        if spec.rule:
            rw, rt = min(W - 2 * pad, block.width * RULE_WIDTH), _rule_thickness(px)
            ry = pad + block.height + RULE_CLEARANCE * px
            rx = line_x(rw)
            d.rectangle((rx, ry, rx + rw, ry + rt), fill=fill)
        kw = max(1, int(KICKER_OUTLINE * kick_font.size)) if ink.treatment == "outline" else 0
        d.text(kick_pos, kick_text, font=kick_font, fill=fill, anchor="ls", stroke_width=kw,
               stroke_fill=(ink.stroke or ink.fill) + (255,))
    return layer


def _scrim(image: Image.Image, box: tuple[int, int, int, int], zone: str, colour: tuple, alpha: int) -> Image.Image:
    """``image`` darkened (or lightened) from its top or bottom edge past ``box``."""
    W, H = image.size
    x0, y0, x1, y1 = box
    fade = max(8, int(0.6 * (y1 - y0)))
    a = np.zeros(H, np.float32)
    if zone == "top":
        a[:y1] = alpha
        ramp = np.linspace(alpha, 0, fade, dtype=np.float32)[: max(0, H - y1)]
        a[y1:y1 + len(ramp)] = ramp
    else:
        a[y0:] = alpha
        ramp = np.linspace(0, alpha, fade, dtype=np.float32)[-y0:] if y0 > 0 else np.empty(0, np.float32)
        a[y0 - len(ramp):y0] = ramp
    mask = Image.fromarray(np.repeat(a[:, None], W, axis=1).astype(np.uint8), "L")
    layer = Image.new("RGBA", (W, H), tuple(colour) + (0,))
    layer.putalpha(mask)
    out = image.copy()
    out.alpha_composite(layer)
    return out


def set_title(image: Image.Image, title: str, spec: TitleSpec, *,
              area: tuple[float, float, float, float] | None = None,
              avoid: list[Box] | None = None, subject: Box | None = None,
              kicker: str | None = None, scrim: bool = True) -> tuple[Image.Image, TitleLayout]:
    """Set ``title`` on a copy of ``image`` following ``spec``.

    ``area`` (pixels) limits where the title may go (default: the whole image);
    ``avoid`` are face boxes (normalised) the title must stay off, ``subject`` a box it
    should stay off; ``kicker`` is a small second line (place · dates); ``scrim=False``
    keeps a band a band (a small label must not shade a third of the photo).
    Returns the new image and the :class:`TitleLayout`.
    """
    W, H = image.size
    area = area or (0.0, 0.0, float(W), float(H))
    text, dropped = clean_title(title, spec.family)
    notes = [f"dropped characters the font cannot draw: {dropped}"] if dropped else []
    if not text:
        raise InputError(f"title {title!r} has no character the cover font can draw")
    lang = title_language(text)
    if spec.case == "upper" and lang == "en":
        text = text.upper()
    kick_text = None
    if kicker:
        kick_text, kdrop = clean_title(kicker, "sans")
        if kdrop:
            notes.append(f"dropped from the kicker: {kdrop}")
    margin = spec.margin * W
    aw, ah = area[2] - area[0], area[3] - area[1]

    # 1. fit the size; the kicker line and the padding around the block grow with it
    def kicker_px(px: int) -> int:
        return max(16, int(round(px * spec.kicker_scale))) if kick_text else 0

    def reserve(px: int) -> float:
        k = kicker_px(px)
        return (k * 1.1 + _kicker_gap(px, k, W, spec) if k else 0.0) + 2 * _pad(px, spec)

    block = fit_title(text, spec, aw - 2 * margin, spec.max_height * ah, W, reserve=reserve)
    kick_px = kicker_px(block.size)
    kick_h, kick_gap = (kick_px * 1.1, _kicker_gap(block.size, kick_px, W, spec)) if kick_text else (0.0, 0.0)
    kick_font = load_font("sans", kick_px) if kick_text else None
    pad = _pad(block.size, spec)
    kick_w = kick_font.getlength(kick_text) if kick_font else 0.0
    lw = max(block.width, kick_w) + 2 * pad
    lh = block.height + kick_gap + kick_h + 2 * pad
    rad = math.radians(spec.tilt)
    rw = lw * abs(math.cos(rad)) + lh * abs(math.sin(rad))
    rh = lw * abs(math.sin(rad)) + lh * abs(math.cos(rad))

    # 2. place it where the image is calm and no face is
    avoid_px = [(f.x0 * W, f.y0 * H, f.x1 * W, f.y1 * H) for f in (avoid or [])]
    subj_px = (subject.x0 * W, subject.y0 * H, subject.x1 * W, subject.y1 * H) if subject else None
    x, y, zone = _place(image, (rw, rh), area, spec, max(0.0, margin - pad), avoid_px, subj_px)

    # 3. ink from what is behind the block
    box = (int(x), int(y), int(min(W, x + rw)), int(min(H, y + rh)))
    region = np.asarray(image.convert("RGB").crop(box).reduce(max(1, int(rw) // 96)))
    ink = _choose_ink(region, spec)

    # 4. a band over a full-bleed photo at its top or bottom edge becomes a scrim: a
    #    gradient from that edge, which reads as light rather than as a box
    base = image.convert("RGBA")
    full = area == (0.0, 0.0, float(W), float(H))
    if ink.treatment == "band" and full and scrim and zone in ("top", "bottom"):
        base = _scrim(base, box, zone, ink.band, ink.band_alpha)
        ink.treatment = "scrim"

    # 5. draw on a layer, tilt it, and lay it on the image
    layer = _draw_block(block, ink, spec, pad, (kick_font, kick_text, kick_h, kick_gap) if kick_text else None)
    if spec.tilt:
        layer = layer.rotate(spec.tilt, resample=Image.Resampling.BICUBIC, expand=True)
    out = base
    out.alpha_composite(layer, (int(x + (rw - layer.width) / 2), int(y + (rh - layer.height) / 2)))
    layout = TitleLayout(text=text, lines=block.lines, box=box, size=block.size, family=block.family,
                         fill=_hex(ink.fill), treatment=ink.treatment, contrast=round(ink.contrast, 2),
                         zone=zone, language=lang, dropped=dropped, kicker=kick_text, notes=notes)
    return out.convert("RGB"), layout
