"""Clips: probe, shot boundaries, keyframe times, and frames read at given times.

Everything streams through ffmpeg pipes: a clip is never decoded into memory whole.

Shot detection is coarse to fine, because decoding every frame of a 1080p clip costs
several times its length on two cores while decoding only its intra frames costs a few
percent:

1. decode only the codec's keyframes (``-skip_frame nokey``) as small RGB frames and
   measure how much each differs from the one before (grey pixels and colour histogram);
2. decode in full, at 64x36, only the stretches where that could hide a cut: between two
   keyframes that differ, longer than ``max_gap`` without a keyframe, and after the last
   keyframe;
3. a cut is a frame whose difference to the previous frame stands out from the frames
   around it (a spike, not the steady change of a moving camera).

Encoders that do not honour ``-skip_frame`` (libvpx VP9) give every frame in step 1,
which is then already the fine series.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InputError, MediaError
from ..types import ClipInfo, Shot
from .ffmpeg import TO_SDR, CancelToken, input_arg, iter_raw_frames, probe

__all__ = ["clip_info", "detect_shots", "keyframe_times", "read_frames"]

# Sizes of the analysis frames: keyframes keep enough detail for a sharpness estimate,
# the fine pass only needs to see a cut.
_KEY_LONG_SIDE = 256
_FINE_LONG_SIDE = 64
_DIFF_GRID = (64, 36)  # (long, short) side of the grey frame that differences are taken on

# Difference of two frames = max(colour histogram distance, scaled grey pixel change), 0..1.
_MAD_SCALE = 2.5
# Keyframe pairs are decoded in full when their difference is at least _CANDIDATE and
# either _CANDIDATE_RATIO times the typical one nearby (a camera moving steadily changes
# every pair a lot) or at least _CANDIDATE_HIGH (when most nearby pairs are cuts too).
_CANDIDATE = 0.12
_CANDIDATE_RATIO = 2.0
_CANDIDATE_HIGH = 0.45
_CANDIDATE_WINDOW = 4
_CUT_MIN = 0.25  # a cut changes at least this much ...
_CUT_RATIO = 3.0  # ... and this many times more than the frames around it
_CUT_WINDOW = 8  # frames each side for "around it"
_MIN_SHOT = 0.4  # s; of two cuts closer than this the weaker goes (flashes, glitches)
_KEYFRAME_EVERY = 4.0  # s; long shots get one keyframe per this many seconds
_SHARPNESS_REF = 150.0  # Laplacian variance (0..255 grey, 256 px frame) that maps to 0.5

_SHOWINFO = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[\d.e+-]+)")


# What ffmpeg says about a file it cannot decode → the short reason shown to the user
# (first match wins; the full ffmpeg log stays on the exception's __cause__).
_DECODE_REASONS = (
    ("moov atom not found", "moov atom not found: the file was cut short or not finalised"),
    ("invalid data found when processing input", "invalid data"),
    ("no frame", "no frame could be decoded"),
    ("nothing was written", "no frame could be decoded"),
    ("could not open encoder before eof", "no frame could be decoded"),
    ("error while decoding", "corrupt video data"),
    ("invalid nal", "corrupt video data"),
    ("corrupt", "corrupt video data"),
)


def _unreadable_video(path: str | os.PathLike, error: MediaError) -> MediaError:
    """One line naming the file and why it cannot be decoded, from ffmpeg's log."""
    text = str(error).lower()
    reason = next((why for key, why in _DECODE_REASONS if key in text), "corrupt or unsupported video data")
    return MediaError(f"{Path(path).name}: not a readable video ({reason})")


@dataclass
class _Sample:
    """One analysed frame: its time and how it differs from the frame decoded before it."""

    t: float
    diff: float | None  # vs the previous frame in the same decode (None for the first)
    mad: float | None  # grey mean absolute difference to that frame, 0..1
    sharpness: float | None  # Laplacian variance, only for keyframe-pass frames
    fine: bool  # True when the previous frame is the immediately preceding one


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _analysis_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    if width >= height:
        return long_side, _even(long_side * height / width)
    return _even(long_side * width / height), long_side


def _diff_grid(width: int, height: int) -> tuple[int, int]:
    return _DIFF_GRID if width >= height else _DIFF_GRID[::-1]


def _frame_stats(rgb: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A small grey frame (for pixel change) and a 4x4x4 colour histogram (sums to 1)."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gw, gh = grid
    h, w = grey.shape
    if (w, h) != (gw, gh):
        grey_small = np.asarray(Image.fromarray(grey).resize((gw, gh), Image.Resampling.BOX))
    else:
        grey_small = grey
    q = (rgb >> 6).astype(np.int32)
    hist = np.bincount((q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]).ravel(), minlength=64)
    return grey_small, hist.astype(np.float32) / hist.sum()


def _sharpness(rgb: np.ndarray) -> float:
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = (grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1]
           - 4 * grey[1:-1, 1:-1])
    return float(lap.var())


def _scan(path: str, info: dict, *, keyframes_only: bool, start: float | None = None,
          duration: float | None = None, cancel: CancelToken = None) -> list[_Sample]:
    """Decode (part of) a clip as small RGB frames and measure frame-to-frame change."""
    long_side = _KEY_LONG_SIDE if keyframes_only else _FINE_LONG_SIDE
    w, h = _analysis_size(info["width"], info["height"], long_side)
    grid = _diff_grid(w, h)
    # Deblocking only polishes the picture at full size; these thumbnails do not need it
    # (about a quarter of the decoding time).
    args = ["-loglevel", "info", "-nostats", "-skip_loop_filter", "all"]
    if keyframes_only:
        args += ["-skip_frame", "nokey"]
    else:
        args += ["-threads", "1"]  # short decodes run two at a time; frame threads only add latency
    if start is not None:
        args += ["-ss", f"{start:.6f}"]
    if duration is not None:
        args += ["-t", f"{duration:.6f}"]
    args += ["-copyts", "-i", path, "-map", "0:v:0", "-an", "-sn", "-dn",
             "-vf", f"scale={w}:{h}:flags=area,showinfo",
             "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    log: list[str] = []
    stats: list[tuple[float | None, float | None, float | None]] = []
    prev: tuple[np.ndarray, np.ndarray] | None = None
    try:
        for buf in iter_raw_frames(args, w * h * 3, cancel=cancel, log=log):
            rgb = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            grey, hist = _frame_stats(rgb, grid)
            diff = mad = None
            if prev is not None:
                mad = float(np.abs(grey - prev[0]).mean()) / 255.0
                hist_dist = 0.5 * float(np.abs(hist - prev[1]).sum())
                diff = max(hist_dist, min(1.0, _MAD_SCALE * mad))
            stats.append((diff, mad, _sharpness(rgb) if keyframes_only else None))
            prev = (grey, hist)
    except MediaError as e:
        raise _unreadable_video(path, e) from e
    times = [float(m.group(3)) for line in log if (m := _SHOWINFO.search(line))]
    if len(times) != len(stats):  # should not happen; fall back on the nominal rate
        fps = info.get("fps") or 25.0
        times = [(start or 0.0) + i / fps for i in range(len(stats))]
    origin = info.get("start") or 0.0
    frame = 1.0 / (info.get("fps") or 25.0)
    samples = []
    for i, (t, (diff, mad, sharp)) in enumerate(zip(times, stats)):
        fine = i > 0 and (t - times[i - 1]) <= 1.5 * frame
        samples.append(_Sample(t - origin, diff, mad, sharp, fine))
    return samples


def _cuts(series: list[_Sample]) -> list[tuple[float, float]]:
    """(time, strength) of frames that differ from their predecessor far more than the
    frames around them do. Only frame-to-frame (``fine``) differences count."""
    found = []
    idx = [i for i, s in enumerate(series) if s.fine and s.diff is not None]
    diffs = np.array([series[i].diff for i in idx], np.float32)
    for k, i in enumerate(idx):
        d = float(diffs[k])
        if d < _CUT_MIN:
            continue
        around = np.concatenate([diffs[max(0, k - _CUT_WINDOW):k], diffs[k + 1:k + 1 + _CUT_WINDOW]])
        base = float(np.median(around)) if around.size else 0.0
        if d >= _CUT_RATIO * base + 0.02:
            found.append((series[i].t, d))
    return found


def _thin(cuts: list[tuple[float, float]]) -> list[float]:
    """Drop the weaker of two cuts closer than ``_MIN_SHOT``."""
    kept: list[tuple[float, float]] = []
    for t, d in sorted(cuts):
        if kept and t - kept[-1][0] < _MIN_SHOT:
            if d > kept[-1][1]:
                kept[-1] = (t, d)
            continue
        kept.append((t, d))
    return [t for t, _ in kept]


def _intervals_to_refine(keys: list[_Sample], duration: float, max_gap: float) -> list[tuple[float, float]]:
    """Stretches between keyframes that may hide a cut, merged when they touch."""
    spans: list[tuple[float, float]] = []
    diffs = [k.diff or 0.0 for k in keys]
    for i in range(1, len(keys)):
        a, b = keys[i - 1], keys[i]
        if b.fine:
            continue  # neighbouring frames: the keyframe pass already saw this change
        d = diffs[i]
        around = diffs[max(1, i - _CANDIDATE_WINDOW):i] + diffs[i + 1:i + 1 + _CANDIDATE_WINDOW]
        typical = float(np.median(around)) if around else 0.0
        stands_out = d >= _CANDIDATE and (d >= _CANDIDATE_RATIO * typical or d >= _CANDIDATE_HIGH)
        if stands_out or b.t - a.t > max_gap:
            spans.append((a.t, b.t))
    last = keys[-1].t if keys else 0.0
    if duration - last > 0.1:  # nothing after the last keyframe to compare it with
        spans.append((last, duration))
    if keys and keys[0].t > max_gap:
        spans.append((0.0, keys[0].t))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1e-6:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def keyframe_times(start: float, end: float, anchors: Sequence[float] = (), *,
                   every: float = _KEYFRAME_EVERY) -> list[float]:
    """Representative times of a shot: its middle, or one per ``every`` seconds of a long
    shot (centred in equal parts). Each moves to the nearest time in ``anchors`` (the
    codec's keyframes, which decode fastest) when one lies within a quarter part of it."""
    length = max(0.0, end - start)
    n = max(1, int(round(length / every)))
    part = length / n if n else length
    times = []
    for k in range(n):
        target = start + (k + 0.5) * part
        near = [a for a in anchors if start <= a < end and abs(a - target) <= part / 4]
        t = min(near, key=lambda a: abs(a - target)) if near else target
        times.append(round(t, 3))
    return sorted(set(times))


def detect_shots(path: str | os.PathLike, info: dict | None = None, *, max_gap: float = 2.5,
                 cancel: CancelToken = None) -> list[Shot]:
    """Shots of a clip with their keyframe times, motion and sharpness.

    Parameters
    ----------
    path : the clip.
    info : :func:`creator.media.ffmpeg.probe` of it, if already at hand.
    max_gap : seconds; a stretch this long without a codec keyframe is decoded in full to
        look for cuts (shorter ones only when the keyframes around them differ).
    cancel : an Event or callable that stops the work (raises Cancelled).

    Returns
    -------
    Shots covering ``[0, duration]`` in order. ``motion`` is the grey change per second
    between its analysed frames (0 = still, capped at 1), ``sharpness`` the
    Laplacian variance of its keyframes mapped to 0..1 (0.5 = a fairly sharp frame).
    """
    src = input_arg(path)
    info = info or probe(src)
    duration = float(info.get("duration") or 0.0)

    # 1. the codec's keyframes, small
    keys = _scan(src, info, keyframes_only=True, cancel=cancel)
    if duration <= 0 and keys:
        duration = keys[-1].t + 1.0 / (info.get("fps") or 25.0)

    # 2. full decode of the stretches that may hide a cut
    # (two at a time: one short decode does not keep two cores busy)
    frame = 1.0 / (info.get("fps") or 25.0)
    spans = _intervals_to_refine(keys, duration, max_gap)
    with ThreadPoolExecutor(max_workers=2) as pool:
        fine_runs = [keys] + list(pool.map(
            lambda ab: _scan(src, info, keyframes_only=False, start=ab[0],
                             duration=ab[1] - ab[0] + frame, cancel=cancel), spans))

    # 3. spikes in frame-to-frame change
    cuts = _thin([c for run in fine_runs for c in _cuts(run)])
    bounds = [0.0] + [c for c in cuts if _MIN_SHOT <= c <= duration - _MIN_SHOT] + [duration]
    anchors = [k.t for k in keys]
    shots = []
    for a, b in zip(bounds, bounds[1:]):
        inside = [k for k in keys if a <= k.t < b]
        motion = _motion(fine_runs, a, b)
        sharp = [k.sharpness for k in inside if k.sharpness is not None]
        sharpness = (_norm_sharpness(float(np.median(sharp))) if sharp else None)
        shots.append(Shot(start=round(a, 3), end=round(b, 3),
                          keyframes=keyframe_times(a, b, anchors),
                          motion=motion, sharpness=sharpness))
    return shots


def _motion(runs: list[list[_Sample]], start: float, end: float) -> float | None:
    """Grey change per second over a shot's analysed frames: the sum of the changes
    between consecutive frames of each decode over the time they span (0 = still,
    capped at 1)."""
    change = span = 0.0
    for run in runs:
        for a, b in zip(run, run[1:]):
            if b.mad is not None and start <= a.t < b.t < end:
                change += b.mad
                span += b.t - a.t
    return round(min(1.0, change / span), 4) if span > 0 else None


def _norm_sharpness(lap_var: float) -> float:
    return round(lap_var / (lap_var + _SHARPNESS_REF), 4)


def clip_info(path: str | os.PathLike, *, shots: bool = True, cancel: CancelToken = None) -> tuple[ClipInfo, dict]:
    """Probe a clip (and find its shots). Returns the ClipInfo and the raw probe dict
    (which also carries ``creation_time``). Raises MediaError naming the file."""
    info = probe(path)
    if not info.get("duration"):
        raise MediaError(f"{Path(path).name}: the clip has no readable duration (empty or cut short)")
    clip = ClipInfo(duration=round(float(info["duration"]), 3), fps=round(float(info["fps"] or 0.0), 3),
                    width=int(info["width"]), height=int(info["height"]),
                    rotation=int(info["rotation"]), codec=info["codec"],
                    has_audio=bool(info["has_audio"]))
    if shots:
        clip.shots = detect_shots(path, info, cancel=cancel)
        if not clip.shots:
            raise MediaError(f"{Path(path).name}: no frame could be decoded (corrupt video)")
    return clip, info


def read_frames(path: str | os.PathLike, times: Sequence[float], *, max_side: int | None = 448,
                info: dict | None = None, cancel: CancelToken = None) -> list[Image.Image]:
    """RGB frames of a clip at ``times`` (seconds), as displayed (rotation applied, an HDR
    clip tone-mapped to SDR), no side longer than ``max_side`` (None: full size).

    Each frame is one seek and one decoded frame streamed from ffmpeg; times past the end
    give the last frame. Raises MediaError when a frame cannot be decoded.
    """
    if max_side is not None and max_side < 1:
        raise InputError(f"max_side must be a positive number of pixels or None, got {max_side!r}")
    src = input_arg(path)
    info = info or probe(src)
    W, H = int(info["width"]), int(info["height"])
    if max_side is not None and max(W, H) > max_side:
        scale = max_side / max(W, H)
        w, h = max(1, round(W * scale)), max(1, round(H * scale))
    else:
        w, h = W, H
    duration = float(info.get("duration") or 0.0)
    frame = 1.0 / (info.get("fps") or 25.0)
    # scaled first, then an HDR clip tone-mapped at the small size (cheap; zscale wants even sides)
    vf = f"scale={w}:{h}:flags=bicubic"
    if info.get("hdr"):
        w, h = max(2, w - w % 2), max(2, h - h % 2)
        vf = f"scale={w}:{h}:flags=bicubic,{TO_SDR}"
    for t in times:
        if not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise InputError(f"times must be seconds >= 0, got {t!r}")

    def one(t: float) -> Image.Image:
        # A time at (or past) the very end has no frame: step back a little and retry.
        for back in (0.0, 2 * frame, 0.5, 2.0):
            tt = max(0.0, min(t, duration - frame) - back) if duration else max(0.0, t - back)
            # One decoding thread: two of these run side by side, and a single frame
            # gains nothing from frame threads.
            args = ["-loglevel", "error", "-threads", "1", "-ss", f"{tt:.6f}", "-i", src,
                    "-map", "0:v:0", "-frames:v", "1", "-vf", vf,
                    "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
            try:
                for buf in iter_raw_frames(args, w * h * 3, cancel=cancel):
                    return Image.frombytes("RGB", (w, h), buf)
            except MediaError as e:
                raise _unreadable_video(path, e) from e
        raise MediaError(f"{Path(path).name}: no frame could be decoded at {t:.2f} s")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, [float(t) for t in times]))
