"""Which part of a clip goes into the video.

A clip's shots (creator.types.Shot: start, end, keyframes, motion, sharpness) are scored;
the best shot gives the segment. The first moments of a recording (the hand settling
after pressing record) and the frames right after a cut are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from creator.types import ClipInfo, Shot

__all__ = ["Segment", "usable_span", "score_shot", "best_segment"]

SHAKY_START = 0.6  # seconds skipped at the start of a recording
AFTER_CUT = 0.15  # seconds skipped after a cut inside a clip (blended or flashing frames)
BEFORE_END = 0.1


@dataclass(frozen=True)
class Segment:
    """A stretch of a clip, in seconds of the clip."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def usable_span(shot: Shot) -> Segment:
    """The part of a shot worth showing: shaky start and cut edges removed.

    At most a third of a short shot is given up, so a 1 s shot still yields 0.67 s.
    """
    length = max(0.0, shot.end - shot.start)
    skip = SHAKY_START if shot.start <= 0.05 else AFTER_CUT
    skip = min(skip, length / 3)
    tail = min(BEFORE_END, length / 6)
    return Segment(shot.start + skip, shot.end - tail)


def score_shot(shot: Shot, wanted: float) -> float:
    """Higher is better. Sharp shots with some motion win; very strong motion means shake.

    Missing measures count as average (0.5 sharpness, 0.15 motion).
    """
    sharp = 0.5 if shot.sharpness is None else shot.sharpness
    m = 0.15 if shot.motion is None else shot.motion
    # some motion is what a clip is for; above ~0.2 the picture is mostly shake or blur
    motion = m / 0.2 if m < 0.2 else max(0.0, 1.0 - (m - 0.2) / 0.5)
    span = usable_span(shot).duration
    fills = min(1.0, span / wanted) if wanted > 0 else 1.0
    return 0.45 * sharp + 0.3 * motion + 0.25 * fills


def best_segment(info: ClipInfo, wanted: float) -> Segment:
    """The segment of about ``wanted`` seconds to show from a clip.

    Inside the best shot, centred on its first keyframe when it has one. When the shot is
    shorter than ``wanted`` the window grows into the neighbouring material (never into the
    shaky start); when the whole clip is shorter, the segment is shorter and the renderer
    holds the last frame.
    """
    shots = [s for s in info.shots if s.end > s.start] or [Shot(start=0.0, end=info.duration)]
    best = max(shots, key=lambda s: (score_shot(s, wanted), -s.start))
    span = usable_span(best)
    if span.duration >= wanted:
        centre = next((k for k in best.keyframes if span.start <= k <= span.end), None)
        start = span.start if centre is None else centre - wanted / 2
        start = min(max(start, span.start), span.end - wanted)
        return Segment(start, start + wanted)
    # grow: first forward, then backward, inside [shaky start, clip end]
    lo = min(SHAKY_START, info.duration / 3)
    hi = max(lo, info.duration - BEFORE_END)
    start = span.start
    end = min(hi, start + wanted)
    start = max(lo, min(start, end - wanted))
    return Segment(start, max(start, end))
