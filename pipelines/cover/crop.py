"""Crop a photo to the cover's ratio around its subject and faces, never cutting a face.

In: a PIL image (displayed orientation), the target ratio and output size, the face
boxes and the subject box from :class:`creator.types.Quality` (normalised 0..1).
Out: the cover-sized image and where the faces ended up in it (normalised), so that the
typography can keep the title off them.

When every face cannot fit in the largest crop of the ratio (a group spread across a
wide panorama on a 9:16 cover), the whole photo is fitted inside the frame over a
blurred, darkened copy of itself instead: a letterboxed face is better than half a face.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageEnhance, ImageFilter

from creator.errors import InputError
from creator.types import Box

__all__ = ["RATIOS", "parse_ratio", "output_size", "CropPlan", "plan_crop", "crop_to_ratio"]

RATIOS = ("3:4", "1:1", "9:16")

# A detector's face box is tight around brows to chin; hair and chin need room too.
_FACE_PAD_X = 0.20
_FACE_PAD_TOP = 0.35
_FACE_PAD_BOTTOM = 0.20


def parse_ratio(ratio: str) -> float:
    """``"3:4"`` → 0.75 (width / height). Raises InputError naming ``ratio``."""
    try:
        w, h = (float(x) for x in str(ratio).split(":"))
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        raise InputError(f"ratio must look like '3:4', '1:1' or '9:16', got {ratio!r}") from None
    return w / h


def output_size(ratio: str, width: int) -> tuple[int, int]:
    """Pixel size of a cover: ``("3:4", 1080)`` → ``(1080, 1440)``."""
    return width, int(round(width / parse_ratio(ratio)))


@dataclass
class CropPlan:
    """Where to cut: ``box`` in source pixels (x0, y0, x1, y1). ``fits`` is False when the
    faces could not all fit and the photo is letterboxed whole instead (``box`` is then
    the whole image)."""

    box: tuple[float, float, float, float]
    fits: bool = True
    notes: list[str] = field(default_factory=list)


def _padded(face: Box) -> tuple[float, float, float, float]:
    w, h = face.width, face.height
    return (max(0.0, face.x0 - _FACE_PAD_X * w), max(0.0, face.y0 - _FACE_PAD_TOP * h),
            min(1.0, face.x1 + _FACE_PAD_X * w), min(1.0, face.y1 + _FACE_PAD_BOTTOM * h))


def _place(length: float, size: float, need: tuple[float, float] | None, want_start: float) -> float | None:
    """Start of a window of ``length`` on [0, size] that contains ``need`` (if any),
    as close as possible to ``want_start``; None when ``need`` is longer than the window."""
    lo, hi = 0.0, size - length
    if need is not None:
        a, b = need
        if b - a > length + 1e-6:
            return None
        lo, hi = max(lo, b - length), min(hi, a)
    return min(max(want_start, lo), hi)


def plan_crop(size: tuple[int, int], ratio: float, faces: list[Box] | None = None,
              subject: Box | None = None) -> CropPlan:
    """The largest crop of ``ratio`` (width/height) that keeps every face whole.

    The window is centred on the subject (or the faces); faces are put near the upper
    third, where portraits put eyes. Coordinates in and out: see :class:`CropPlan`.
    """
    W, H = size
    faces = list(faces or [])
    if W / H > ratio:  # too wide: cut the sides
        cw, ch = H * ratio, float(H)
    else:  # too tall: cut top and bottom
        cw, ch = float(W), W / ratio

    need_x = need_y = None
    if faces:
        pads = [_padded(f) for f in faces]
        need_x = (min(p[0] for p in pads) * W, max(p[2] for p in pads) * W)
        need_y = (min(p[1] for p in pads) * H, max(p[3] for p in pads) * H)

    focus = subject
    if faces:
        fx = (min(f.x0 for f in faces) + max(f.x1 for f in faces)) / 2
        fy = (min(f.y0 for f in faces) + max(f.y1 for f in faces)) / 2
        focus = Box(x0=fx, y0=fy, x1=fx, y1=fy)
    cx, cy = focus.center if focus is not None else (0.5, 0.5)
    want_x = cx * W - cw / 2
    # faces sit at about a third from the top; other subjects a little above the middle
    want_y = cy * H - ch * (0.36 if faces else 0.45)

    x0 = _place(cw, W, need_x, want_x)
    y0 = _place(ch, H, need_y, want_y)
    if x0 is None or y0 is None:
        return CropPlan(box=(0.0, 0.0, float(W), float(H)), fits=False,
                        notes=["faces do not fit the ratio: photo letterboxed whole"])
    return CropPlan(box=(x0, y0, x0 + cw, y0 + ch))


def _map_box(b: Box, src: tuple[int, int], crop: tuple[float, float, float, float],
             dst_rect: tuple[float, float, float, float], out: tuple[int, int]) -> Box:
    """A normalised box of the source photo → normalised box in the output image."""
    W, H = src
    x0, y0, x1, y1 = crop
    dx0, dy0, dx1, dy1 = dst_rect
    sx, sy = (dx1 - dx0) / (x1 - x0), (dy1 - dy0) / (y1 - y0)
    ow, oh = out
    return Box(x0=(dx0 + (b.x0 * W - x0) * sx) / ow, y0=(dy0 + (b.y0 * H - y0) * sy) / oh,
               x1=(dx0 + (b.x1 * W - x0) * sx) / ow, y1=(dy0 + (b.y1 * H - y0) * sy) / oh,
               score=b.score)


def crop_to_ratio(image: Image.Image, out: tuple[int, int], faces: list[Box] | None = None,
                  subject: Box | None = None, *,
                  box: tuple[float, float, float, float] | None = None) -> tuple[Image.Image, list[Box], Box | None, CropPlan]:
    """Cut and scale ``image`` to exactly ``out`` (width, height) around faces/subject.

    ``box``: a crop already chosen (source pixels, of ``out``'s ratio: a user's crop)
    instead of :func:`plan_crop`'s. Returns the image, the faces and the subject in
    output coordinates (normalised), and the plan that was used.
    """
    faces = list(faces or [])
    ow, oh = out
    plan = CropPlan(box=tuple(box)) if box is not None else plan_crop(image.size, ow / oh, faces, subject)
    if plan.fits:
        box = plan.box
        img = image.resize(out, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
        dst = (0.0, 0.0, float(ow), float(oh))
    else:
        box = plan.box
        # background: the photo filling the frame, blurred and dimmed
        bg_plan = plan_crop(image.size, ow / oh)
        small = (max(1, ow // 8), max(1, oh // 8))
        bg = image.resize(small, Image.Resampling.BILINEAR, box=bg_plan.box)
        bg = bg.filter(ImageFilter.GaussianBlur(radius=max(2, ow // 160)))
        bg = ImageEnhance.Brightness(bg).enhance(0.6).resize(out, Image.Resampling.BILINEAR)
        scale = min(ow / image.width, oh / image.height)
        w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        px, py = (ow - w) // 2, (oh - h) // 2
        bg.paste(image.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0), (px, py))
        img = bg
        dst = (float(px), float(py), float(px + w), float(py + h))
    mapped_faces = [_map_box(f, image.size, box, dst, out) for f in faces]
    mapped_subject = _map_box(subject, image.size, box, dst, out) if subject is not None else None
    return img, mapped_faces, mapped_subject, plan
