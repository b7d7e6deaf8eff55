"""How good a photo looks, for ordering and for choosing a cover: numpy only, no model.

``assess(image, faces)`` → :class:`creator.types.Quality` with every score in 0..1:

- sharpness: variance of the Laplacian of the grey image (at 448 px on the longest
  side, so that scores do not depend on the file's resolution), squashed to 0..1;
- exposure: 1 for a well spread histogram, lower for clipped shadows or highlights and
  for an image that is dark or washed out overall;
- colourfulness: the Hasler–Süsstrunk metric, squashed to 0..1;
- faces: the boxes given (as detected by :mod:`creator.understanding.faces`);
- subject: where the eye goes — the union of the largest faces, else the salient region
  of a spectral-residual saliency map;
- score: a weighted mix of the above, with a bonus for faces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..errors import InputError
from ..types import Box, Quality

__all__ = ["assess", "sharpness", "exposure", "colourfulness", "saliency_box"]

_SIDE = 448


def _grey(image: Image.Image, side: int = _SIDE) -> np.ndarray:
    im = image.convert("L")
    if max(im.size) > side:
        im.thumbnail((side, side), Image.BILINEAR)
    return np.asarray(im, np.float32)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a 0..255 grey image, mapped to 0..1
    (variance 50 → ~0.2, 300 → 0.6, 1000 → ~0.83)."""
    g = grey
    lap = -4 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    var = float(lap.var()) if lap.size else 0.0
    return var / (var + 200.0)


def exposure(grey: np.ndarray) -> float:
    """1 = well exposed; lowered by clipped shadows/highlights and a very dark or very
    bright mean."""
    g = grey / 255.0
    low = float((g < 0.02).mean())
    high = float((g > 0.98).mean())
    mean = float(g.mean())
    p5, p95 = np.percentile(g, [5, 95])  # one partition for both
    spread = float(p95 - p5)
    penalty = 1.5 * max(0.0, low - 0.02) + 3.0 * max(0.0, high - 0.01)
    penalty += max(0.0, abs(mean - 0.47) - 0.15) * 1.5
    penalty += max(0.0, 0.35 - spread) * 1.0
    return float(np.clip(1.0 - penalty, 0.0, 1.0))


def colourfulness(image: Image.Image) -> float:
    """Hasler–Süsstrunk colourfulness M (0 for grey, ~45 average, >100 extreme) → M / (M + 40)."""
    im = image.convert("RGB")
    im.thumbnail((_SIDE // 2, _SIDE // 2), Image.BILINEAR)
    rgb = np.asarray(im, np.float32)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    m = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    return m / (m + 40.0)


def saliency_box(grey: np.ndarray) -> Box:
    """The salient region by spectral residual (Hou & Zhang 2007) on a 64-px copy.

    ``grey``: (H, W) 0..255. Returns a normalised box; ``score`` says how concentrated
    the saliency is."""
    small = np.asarray(Image.fromarray(grey.astype(np.uint8)).resize((64, 64), Image.BILINEAR), np.float32)
    spec = np.fft.fft2(small)
    log_amp = np.log(np.abs(spec) + 1e-6)
    phase = np.angle(spec)
    padded = np.pad(log_amp, 1, mode="wrap")
    avg = sum(padded[1 + dy : 65 + dy, 1 + dx : 65 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9.0
    sal = np.abs(np.fft.ifft2(np.exp(log_amp - avg + 1j * phase))) ** 2
    sal = _blur(sal)
    # the box around the saliency mass: weighted centre ± 1.5 weighted standard deviations
    # of the most salient tenth of the pixels
    sal = np.where(sal >= np.percentile(sal, 90), sal, 0.0)
    total = float(sal.sum())
    if total <= 0:
        return Box(x0=0.25, y0=0.25, x1=0.75, y1=0.75, score=0.0)
    ys, xs = np.mgrid[0:64, 0:64] + 0.5
    cx, cy = float((sal * xs).sum() / total), float((sal * ys).sum() / total)
    sx = float(np.sqrt((sal * (xs - cx) ** 2).sum() / total))
    sy = float(np.sqrt((sal * (ys - cy) ** 2).sum() / total))
    x0, x1 = max(0.0, cx - 1.5 * sx) / 64, min(64.0, cx + 1.5 * sx) / 64
    y0, y1 = max(0.0, cy - 1.5 * sy) / 64, min(64.0, cy + 1.5 * sy) / 64
    # confidence: how concentrated the saliency is (1 = a point, 0 = spread over the frame)
    spread = min(1.0, (sx * sy) / (64 * 64 / 12.0))
    return Box(x0=x0, y0=y0, x1=x1, y1=y1, score=round(1.0 - spread, 4))


def _blur(a: np.ndarray, passes: int = 3) -> np.ndarray:
    """A cheap Gaussian-like blur: repeated 3x3 box filters."""
    for _ in range(passes):
        p = np.pad(a, 1, mode="edge")
        a = sum(p[1 + dy : 1 + dy + a.shape[0], 1 + dx : 1 + dx + a.shape[1]]
                for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9.0
    return a


def _face_subject(faces: Sequence[Box]) -> Box:
    """Union of the faces at least half as large as the largest, widened to take in heads
    and shoulders."""
    biggest = max(f.width * f.height for f in faces)
    keep = [f for f in faces if f.width * f.height >= 0.5 * biggest]
    x0, y0 = min(f.x0 for f in keep), min(f.y0 for f in keep)
    x1, y1 = max(f.x1 for f in keep), max(f.y1 for f in keep)
    mw, mh = 0.3 * (x1 - x0), 0.3 * (y1 - y0)
    return Box(x0=max(0.0, x0 - mw), y0=max(0.0, y0 - mh), x1=min(1.0, x1 + mw), y1=min(1.0, y1 + 1.5 * mh),
               score=max(f.score for f in keep))


def assess(image: Image.Image, faces: Sequence[Box] | None = None, *, name: str = "image") -> Quality:
    """Quality of one photo. ``faces``: normalised face boxes of the same image (or None);
    ``name``: the file's name, for the error an unusable image raises (InputError)."""
    if not isinstance(image, Image.Image):
        raise InputError(f"{name}: expected a PIL image, got {type(image).__name__}")
    faces = list(faces or [])
    grey = _grey(image)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        raise InputError(f"{name}: too small to assess ({image.width}x{image.height} pixels; "
                         "at least 3x3 after scaling to 448 px)")
    sharp = sharpness(grey)
    expo = exposure(grey)
    colour = colourfulness(image)
    subject = _face_subject(faces) if faces else saliency_box(grey)
    # sharpness and exposure make or break a photo; colour and people make it appealing
    score = 0.4 * sharp + 0.3 * expo + 0.15 * colour + (0.15 if faces else 0.05)
    return Quality(
        sharpness=round(sharp, 4),
        exposure=round(expo, 4),
        colourfulness=round(colour, 4),
        faces=faces,
        subject=subject,
        score=round(float(np.clip(score, 0.0, 1.0)), 4),
    )
