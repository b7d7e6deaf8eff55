"""One carousel image as it will be posted: the photo (or a clip's keyframe) decoded at
the scale its crop needs, cut with the cover's crop code, in sRGB (the photo loader
applies its colour profile), with its label set in the cover style's typography.

``render_entry(entry, item, size, style="magazine") -> PIL.Image`` (RGB, exactly ``size``)
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from PIL import Image

from creator.types import Box, CarouselEntry, MediaItem, MediaKind
from pipelines.cover.crop import crop_to_ratio
from pipelines.cover.typography import TitleSpec, set_title

__all__ = ["render_entry", "fit_image", "set_label", "label_spec"]

# The label: a small single line near an edge, in the cover style's font and ink.
_LABEL = dict(size=(0.034, 0.042), max_lines=1, max_height=0.12, margin=0.05, zones=("bottom", "top"),
              tilt=0.0, line_spacing=1.2)


def label_spec(style: str | None) -> TitleSpec:
    """The label's :class:`TitleSpec`: the cover style's family, weight, treatment and
    colours (so the note has one look), at label size."""
    from pipelines.cover import styles

    presets = styles()
    preset = presets.get(style or "") or presets[next(iter(presets))]
    spec = TitleSpec.from_dict(preset.get("title"))
    # a plain style's ink has no help on a busy photo: a small label always gets it
    treatment = "sticker" if spec.treatment == "sticker" else "auto"
    return dataclasses.replace(spec, case="none", rule=False, weight=min(spec.weight, 0.03), treatment=treatment,
                               **_LABEL)


def set_label(image: Image.Image, label: str, style: str | None = None, *,
              faces: list[Box] | None = None, subject: Box | None = None) -> Image.Image:
    """``label`` set small on a copy of ``image``, off the faces and the subject
    (normalised boxes)."""
    out, _ = set_title(image, label, label_spec(style), avoid=faces or [], subject=subject, scrim=False)
    return out


def _decode(item: MediaItem, entry: CarouselEntry, size: tuple[int, int], path: str) -> Image.Image:
    """The source at the smallest scale that still gives the crop ``size`` pixels."""
    from creator.media import open_photo, read_frames

    if item.kind == MediaKind.clip:
        return read_frames(path, [entry.time or 0.0], max_side=None)[0]
    W, H = item.width, item.height
    x0, y0, x1, y1 = entry.box
    if not W or not H or x1 <= x0 or y1 <= y0:
        return open_photo(path, max_side=None)
    need = max(size[0] / (x1 - x0), size[1] / (y1 - y0))  # decoded pixels per source pixel
    if need >= 1.0:
        return open_photo(path, max_side=None)
    # a JPEG decodes at 1/2, 1/4 or 1/8 for little more than the entropy decoding: ask
    # for exactly that size, so no second resampling happens before the crop's own
    k = 1
    while k < 8 and need * 2 * k <= 1.0:
        k *= 2
    return open_photo(path, max_side=math.ceil(max(W, H) / k))


def fit_image(image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float] | None,
              source_size: tuple[int, int] | None = None, faces: list[Box] | None = None,
              subject: Box | None = None) -> tuple[Image.Image, list[Box], Box | None]:
    """``image`` cut to ``box`` (pixels of ``source_size``, the full-size photo) and
    scaled to ``size``, through the cover's crop; a box not of ``size``'s ratio (a photo
    whose faces do not fit the ratio) lets the cover's crop letterbox the photo whole.
    Returns the image, and the faces and the subject in it (normalised)."""
    if box is not None:
        sw, sh = source_size or image.size
        k = image.width / sw
        x0, y0, x1, y1 = (v * k for v in box)
        x0, y0 = max(0.0, x0), max(0.0, y0)
        x1, y1 = min(float(image.width), x1), min(float(image.height), y1)
        box_ratio = (x1 - x0) / max(1e-6, y1 - y0)
        box = (x0, y0, x1, y1) if abs(box_ratio / (size[0] / size[1]) - 1) < 0.01 else None
    img, faces_out, subject_out, _ = crop_to_ratio(image, size, faces, subject, box=box)
    return img, faces_out, subject_out


def render_entry(entry: CarouselEntry, item: MediaItem, size: tuple[int, int], *, style: str | None = None,
                 path: str | Path | None = None, labels: bool = True) -> Image.Image:
    """The posted image of one entry (RGB, exactly ``size``). ``path``: where the item's
    file is (default ``item.path``); ``labels``: set the entry's label, if it has one."""
    src = _decode(item, entry, size, str(path or item.path))
    q = item.quality
    faces = list(q.faces) if q and item.kind != MediaKind.clip else []
    full = (item.width or src.width, item.height or src.height)
    img, faces_out, subject_out = fit_image(src, size, entry.box, full, faces,
                                            q.subject if q and item.kind != MediaKind.clip else None)
    if labels and entry.label:
        img = set_label(img, entry.label, style, faces=faces_out, subject=subject_out)
    return img
