"""The timeline: which picture is on screen when, cut on the music's beats.

Everything is counted in whole frames, so a cut planned on a beat lands on the frame
nearest to it (within half a frame) and the rendered length is exactly the planned one.

A cut is the *middle* of its transition: a 12-frame crossfade around a cut at frame
300 runs over frames 294..305. Slot ``i`` therefore needs its own frames plus half of
the transition on each side; the renderer chains the slots with xfade at offsets
``(cut - transition/2) / fps``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Literal

from creator.config import VideoSettings
from creator.types import ClipInfo

from .clips import Segment, best_segment

__all__ = ["PlanItem", "Slot", "Overlay", "Timeline", "plan_timeline", "snap_grid", "safe_area", "safe_margin",
           "TRANSITIONS"]

# xfade transitions that look right between photos; "cut" means no transition
TRANSITIONS = {
    "cut", "fade", "dissolve", "fadeblack", "fadewhite", "slideleft", "slideright", "slideup",
    "slidedown", "wipeleft", "wiperight", "wipeup", "wipedown", "smoothleft", "smoothright",
    "smoothup", "smoothdown", "circleopen", "circleclose", "zoomin", "radial", "coverleft",
    "coverright", "coverup", "coverdown", "revealleft", "revealright", "revealup", "revealdown",
}

Motion = Literal["still", "zoom_in", "zoom_out", "pan_x", "pan_y", "video"]


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive


def safe_area(settings: VideoSettings, size: tuple[int, int]) -> Box:
    """The part of a frame of ``size`` (w, h) that the feed's own overlays leave visible:
    the frame less ``settings.safe_top/bottom/left/right`` (fractions), on even pixels
    (the chroma grid of yuv420p). Titles, captions and the cover frame stay inside it."""
    w, h = size
    x0 = 2 * math.ceil(w * settings.safe_left / 2)
    y0 = 2 * math.ceil(h * settings.safe_top / 2)
    x1 = 2 * math.floor(w * (1 - settings.safe_right) / 2)
    y1 = 2 * math.floor(h * (1 - settings.safe_bottom) / 2)
    if x1 - x0 < 16 or y1 - y0 < 16:
        raise ValueError(f"safe zones: they leave {x1 - x0}x{y1 - y0} of a {w}x{h} frame; too little for text")
    return (x0, y0, x1, y1)


def safe_margin(size: tuple[int, int]) -> int:
    """Pixels text (and the cover) keep from the safe area's edges: 3 % of the short side."""
    return max(2, round(min(size) * 0.03))


@dataclass
class PlanItem:
    """One picture to place on the timeline (already checked to be readable)."""

    kind: Literal["cover", "photo", "clip"]
    path: str
    width: int  # as displayed
    height: int
    item_id: str | None = None
    aim: tuple[float, float] = (0.5, 0.5)  # normalised point the motion heads for
    clip: ClipInfo | None = None
    has_audio: bool = False
    caption: str | None = None
    score: float = 0.5  # quality; the weakest go first when the video is too short for all
    origin: str | None = None  # the user's file, when ``path`` is a converted copy
    hdr: str | None = None  # clips: "hlg" or "pq" (tone-mapped to SDR where they are scaled)


@dataclass
class Slot:
    """One picture on the timeline, from cut ``start`` to cut ``end`` (frame numbers)."""

    index: int
    item: PlanItem
    start: int
    end: int
    transition: str  # into this slot; "cut" for the first
    transition_frames: int  # even; half before ``start``, half after
    frames_in: int = 0  # frames the slot's stream must deliver (own + half transitions)
    motion: Motion = "still"
    direction: int = 1  # +1 / -1: which way a pan goes
    source: Segment | None = None  # clips: the part of the clip shown

    @property
    def lead(self) -> int:
        return self.transition_frames // 2


@dataclass
class Overlay:
    """A text overlay shown from ``start`` to ``end`` (seconds)."""

    text: str
    role: Literal["title", "caption"]
    start: float
    end: float


@dataclass
class Timeline:
    width: int
    height: int
    fps: int
    frames: int
    slots: list[Slot]
    overlays: list[Overlay] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    safe: Box | None = None  # safe_area() of the frame: where text may go

    @property
    def safe_box(self) -> Box:
        return self.safe or (0, 0, self.width, self.height)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def cuts(self) -> list[float]:
        """Times (s) of the cuts between slots: the middle of each transition."""
        return [s.start / self.fps for s in self.slots[1:]]


def snap_grid(beats: list[float], snap: str, downbeats: list[float] | None = None) -> list[float]:
    """The times cuts may fall on: every beat, or every bar — the track's downbeats when
    the analysis found them, else every 4th beat counted from the first."""
    if snap == "none" or not beats:
        return []
    beats = sorted(b for b in beats if b >= 0)
    if snap == "bar":
        bars = sorted(b for b in (downbeats or []) if b >= 0)
        return bars or beats[::4]
    return beats


def _nominal(item: PlanItem, settings: VideoSettings) -> float:
    if item.kind == "clip" and item.clip is not None:
        avail = best_segment(item.clip, settings.clip_seconds).duration
        return max(settings.min_segment, min(settings.clip_seconds, avail))
    if item.kind == "cover":
        return settings.intro_seconds
    return settings.photo_seconds


def _motion(item: PlanItem, width: int, height: int, k: int) -> Motion:
    if item.kind == "clip":
        return "video"
    if item.kind == "cover":
        return "zoom_in"  # starts at zoom 1: the first frame is the cover as it is
    ratio = (item.width / item.height) / (width / height)
    # much wider (taller) than the frame: travel across it; close in shape: zoom
    if ratio > 1.5:
        return "pan_x"
    if ratio < 1 / 1.5:
        return "pan_y"
    return "zoom_in" if k % 2 == 0 else "zoom_out"


def plan_timeline(
    items: list[PlanItem],
    *,
    settings: VideoSettings,
    size: tuple[int, int],
    fps: int,
    beats: list[float] | None = None,
    downbeats: list[float] | None = None,
    excerpt_duration: float | None = None,
    length: float | None = None,
    title: str | None = None,
    transitions: list[str] | None = None,
) -> Timeline:
    """Lay ``items`` (a cover first, if any) out on a timeline.

    Length: ``length`` when given; otherwise the sum of nominal durations (photos
    ``photo_seconds``, clips their best segment up to ``clip_seconds``, the cover
    ``intro_seconds``) clamped to ``min_length..max_length`` and to the excerpt, then
    ended on a beat. Cuts go to the beat (or bar) nearest their nominal time, keeping
    every slot at least ``min_segment`` long. Items that cannot fit are dropped, weakest
    first, with a warning.
    """
    width, height = size
    warnings: list[str] = []
    if not items:
        raise ValueError("nothing to put on the timeline")
    min_f = max(1, round(settings.min_segment * fps))

    # 1. length
    nominal = [_nominal(it, settings) for it in items]
    auto_length = length is None
    if auto_length:
        total = min(max(sum(nominal), settings.min_length), settings.max_length)
        if excerpt_duration:
            total = min(total, excerpt_duration)
    else:
        total = float(length)
    n_frames = max(1, round(total * fps))
    grid = [round(b * fps) for b in snap_grid(beats or [], settings.snap, downbeats)]
    grid = sorted({g for g in grid if 0 < g <= n_frames})
    if auto_length and grid:
        # end on the last beat when it is close: the music stops on the beat
        last = [g for g in grid if g >= n_frames - fps]
        if last and last[-1] >= len(items) * min_f:
            n_frames = last[-1]

    # 2. drop the weakest items when the video is too short for all of them
    keep = list(range(len(items)))
    while len(keep) * min_f > n_frames and len(keep) > 1:
        droppable = [i for i in keep if items[i].kind != "cover"]
        weakest = min(droppable, key=lambda i: (items[i].score, -i))
        keep.remove(weakest)
        warnings.append(f"{items[weakest].origin or items[weakest].path}: left out, the video is too short to show every item")
    items = [items[i] for i in keep]
    nominal = [nominal[i] for i in keep]

    # 3. durations scaled to the length; clips keep at most their usable material
    scale = (n_frames / fps) / sum(nominal)
    secs = [d * scale for d in nominal]
    if scale > 1:
        capped = [i for i, it in enumerate(items) if it.kind == "clip"]
        free = [i for i, it in enumerate(items) if it.kind != "clip"]
        if capped and free:
            extra = sum(secs[i] - nominal[i] for i in capped)
            for i in capped:
                secs[i] = nominal[i]
            for i in free:
                secs[i] += extra / len(free)

    # 4. cuts: nominal times snapped to the grid, each slot at least min_f frames
    n = len(items)
    cuts = [0]
    acc = 0.0
    gi = 0
    for i in range(1, n):
        acc += secs[i - 1]
        target = acc * fps
        lo, hi = cuts[-1] + min_f, n_frames - (n - i) * min_f
        while gi < len(grid) and grid[gi] < lo:
            gi += 1
        options = [g for g in grid[gi:] if g <= hi]
        if options:
            cut = min(options, key=lambda g: abs(g - target))
        else:
            cut = min(max(round(target), lo), hi)
        cuts.append(cut)
    cuts.append(n_frames)

    # 5. transitions (even frame counts, never longer than half a neighbouring slot)
    names = [t for t in (transitions or settings.transitions) if t] or ["fade"]
    for t in names:
        if t not in TRANSITIONS:
            raise ValueError(f"transitions: unknown transition {t!r}; known: {sorted(TRANSITIONS)}")
    cycle = itertools.cycle(names)
    want = 2 * round(settings.transition_seconds * fps / 2)
    slots: list[Slot] = []
    for i, it in enumerate(items):
        name, frames = "cut", 0
        if i > 0:
            name = next(cycle)
            room = min(cuts[i] - cuts[i - 1], cuts[i + 1] - cuts[i]) // 2
            frames = min(want, room - room % 2)
            if name == "cut" or frames < 4:
                name, frames = "cut", 0
        slots.append(Slot(index=i, item=it, start=cuts[i], end=cuts[i + 1], transition=name,
                          transition_frames=frames))
    photo_k = 0
    for i, s in enumerate(slots):
        tail = slots[i + 1].lead if i + 1 < n else 0
        s.frames_in = (s.end - s.start) + s.lead + tail
        s.motion = _motion(s.item, width, height, photo_k)
        s.direction = 1 if photo_k % 2 == 0 else -1
        if s.item.kind == "photo":
            photo_k += 1
        if s.item.kind == "clip" and s.item.clip is not None:
            s.source = best_segment(s.item.clip, s.frames_in / fps)

    # 6. text: the title over the first slot unless the cover (which carries it) opens
    overlays: list[Overlay] = []
    first = slots[0]
    if title and first.item.kind != "cover":
        overlays.append(Overlay(title, "title", 0.0, (first.end - slots[1].lead if n > 1 else first.end) / fps))
    for s in slots:
        if s.item.caption and s.item.kind != "cover":
            tail = slots[s.index + 1].lead if s.index + 1 < n else 0
            a = (s.start + s.lead) / fps + 0.1
            b = (s.end - tail) / fps - 0.1
            if b - a > 0.3:
                overlays.append(Overlay(s.item.caption, "caption", a, b))
    return Timeline(width=width, height=height, fps=fps, frames=n_frames, slots=slots,
                    overlays=overlays, warnings=warnings, safe=safe_area(settings, size))


@dataclass
class Planned:
    """What Pipeline.plan makes of a request: the timeline, the music as the render
    takes it ((path, excerpt start, seconds available) or None), the warnings, and
    made_from() of the request."""

    timeline: Timeline
    music: tuple[str, float, float] | None
    warnings: list[str]
    made_from: str
