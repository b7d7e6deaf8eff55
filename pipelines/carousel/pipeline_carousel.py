"""The carousel stage: NoteContext → the image note's photos, chosen, ordered and cropped.

``Pipeline()(CarouselRequest(context=ctx, cover_items=["<id>"], n=9, ratio="3:4")) -> CarouselOutput``

The carousel is what comes after the cover in an image note (图文笔记): up to 18
images in all, one ratio for the whole note. The stage

1. checks the request;
2. scores every photo with the cover's score (quality, faces, tags, fit: cover/choose.py);
3. adds the best keyframe of each clip when the photos are too few;
4. drops near-duplicates and burst shots (the cover's check: cover/pipeline.py
   ``distinct``), and the shots the cover already shows;
5. picks the photos, covering the trip's moments and places before it repeats one;
6. orders them by the story: time, then moment, then the user's order;
7. plans each crop around faces and subject (the cover's ``plan_crop``);
8. labels the first photo of each moment ("第2天 · 西湖") where day or place changes, when asked;
9. names the files: the cover is 01.jpg, the carousel 02.jpg ... (01.jpg without a cover).

Nothing is decoded at full size here: rendering is render.py's, writing post/ is post.py's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from creator.errors import BackendUnavailable, CreatorError, InputError
from creator.types import CarouselEntry, MediaItem, MediaKind, Moment, NoteContext
from pipelines.cover.choose import PhotoChoice, score_photo
from pipelines.cover.crop import parse_ratio, plan_crop
from pipelines.cover.pipeline import distinct, photo_signature, shot_signature

__all__ = ["RATIOS", "SIZES", "MAX_IMAGES", "CarouselRequest", "CarouselOutput", "Pipeline",
           "moment_label", "number_entries", "entry_for", "crop_slack", "slide_crop", "label_for"]

RATIOS = ("3:4", "1:1", "4:3")
# the pixel size of a posted image, per ratio
SIZES: dict[str, tuple[int, int]] = {"3:4": (1080, 1440), "1:1": (1080, 1080), "4:3": (1440, 1080)}
MAX_IMAGES = 18  # what the image-note platforms take, the cover included
BURST_SECONDS = 5.0  # shots this close in time and look are one burst: shown once

# Coverage: a photo of a moment (or place) not shown yet is worth this much more.
NEW_MOMENT = 0.30
NEW_PLACE = 0.10
CROWD = 0.06  # less, for each photo the moment already has
# Near-duplicates are looked for among the likely picks only: the best 4 per slot (at
# least this many) and the best few of each moment.
COMPARE_MIN = 24
PER_MOMENT = 3


class CarouselRequest(BaseModel):
    """What to make.

    ``n``: images in the post, the cover included (so ``n - 1`` photos after it when
    there is a cover); ``cover_items``: the item ids the cover shows (its source): never
    shown again, nor a near-duplicate of them; ``cover``: the cover image, when there is
    one; ``order``: the user's order of the items (breaks ties where time says nothing).
    """

    model_config = ConfigDict(extra="forbid")

    context: NoteContext
    cover: Path | None = None
    cover_items: list[str] = Field(default_factory=list)
    order: list[str] = Field(default_factory=list)
    n: int = 9
    ratio: str = "3:4"
    labels: bool = False
    language: Literal["zh", "en"] = "zh"
    keyframes: bool = True  # clips contribute their best keyframe when photos are few


class CarouselOutput(BaseModel):
    entries: list[CarouselEntry]
    ratio: str
    size: tuple[int, int]
    scores: dict[str, float] = Field(default_factory=dict)  # item id → its score
    skipped: dict[str, str] = Field(default_factory=dict)  # item id → why it was left out
    warnings: list[str] = Field(default_factory=list)


@dataclass
class _Candidate(PhotoChoice):
    time: float | None = None  # a clip's keyframe
    frame: Any = None  # that keyframe, decoded small (PIL image)


def moment_label(moment: Moment, lang: str, several_days: bool) -> str | None:
    """"第2天 · 西湖" / "Day 2 · West Lake": the day (when the trip has several) and the place."""
    parts = []
    if several_days:
        parts.append(f"第{moment.day}天" if lang == "zh" else f"Day {moment.day}")
    if moment.place is not None:
        parts.append(moment.place.name(lang))
    return " · ".join(parts) or None


def number_entries(entries: list[CarouselEntry], *, cover: bool) -> list[CarouselEntry]:
    """The entries with their file names by position: 02.jpg... after a cover (01.jpg)."""
    first = 2 if cover else 1
    return [e.model_copy(update={"file": f"{first + k:02d}.jpg"}) for k, e in enumerate(entries)]


def _best_keyframe(item: MediaItem) -> float:
    """The time of a clip's best keyframe: the middle keyframe of its sharpest, calmest shot."""
    clip = item.clip
    shots = [s for s in clip.shots if s.keyframes] if clip else []
    if not shots:
        return round((clip.duration if clip else 0.0) / 2, 3)
    best = max(shots, key=lambda s: (s.sharpness or 0.0) - 0.5 * (s.motion or 0.0))
    return best.keyframes[len(best.keyframes) // 2]


class Pipeline:
    """The carousel for a trip. ``faces``: a face detector for clip keyframes (one with
    ``detect(image) -> list[Box]``); the packaged MTCNN on first need."""

    def __init__(self, settings=None, *, faces=None) -> None:
        self.settings = settings
        self._faces = faces

    def face_detector(self):
        if self._faces is None:
            from creator.understanding.faces import get_face_detector

            self._faces = get_face_detector()
        return self._faces

    def __call__(self, request: CarouselRequest) -> CarouselOutput:
        warnings: list[str] = []
        skipped: dict[str, str] = {}

        # 1. check inputs
        ctx = request.context
        ratio = request.ratio
        if ratio not in RATIOS:
            raise InputError(f"ratio must be one of {', '.join(RATIOS)} (one for the whole note), got {ratio!r}")
        if not 1 <= request.n <= MAX_IMAGES:
            raise InputError(f"n must be 1..{MAX_IMAGES} images (the cover counted), got {request.n}")
        size = SIZES[ratio]
        r = parse_ratio(ratio)
        slots = request.n - (1 if request.cover is not None or request.cover_items else 0)
        if not ctx.ok_items:
            raise InputError("context has no readable photo or clip to make a carousel from")
        top = ctx.top_tags[:5]

        # 2. the photos, scored as the cover scores them (the cover's own first)
        photos = [i for i in ctx.ok_items if i.kind in (None, MediaKind.photo)]
        cands: list[_Candidate] = [_Candidate(**vars(score_photo(i, top, r, size[0]))) for i in photos]
        cover_ids = set(request.cover_items)
        moment_of = {i: m for m in ctx.moments for i in m.item_ids}

        def dedupe(cands: list[_Candidate]) -> tuple[list[_Candidate], list[_Candidate]]:
            """(distinct candidates, duplicates). Only the likely picks are compared (a
            signature decodes the photo): the cover's, the best few overall and the best
            of each moment; the others are never shown."""
            by_score = sorted(cands, key=lambda c: -c.score)
            short = {id(c) for c in by_score[:max(4 * slots, COMPARE_MIN)]}
            per: dict = {}
            for c in by_score:
                m = moment_of.get(c.item.id)
                if per.get(m.index if m else None, 0) < PER_MOMENT:
                    short.add(id(c))
                    per[m.index if m else None] = per.get(m.index if m else None, 0) + 1
            listed = sorted(cands, key=lambda c: (c.item.id not in cover_ids, id(c) not in short, -c.score))
            n_compare = sum(1 for c in listed if c.item.id in cover_ids or id(c) in short)
            unreadable: set[str] = set()

            def signature(c: _Candidate):
                sig = self._signature(c)
                if sig is None:
                    unreadable.add(c.item.id)
                return sig

            ranked, n_kept = distinct(listed, top=n_compare, signature=signature, burst_seconds=BURST_SECONDS)
            for item_id in unreadable:
                skipped[item_id] = "the photo cannot be decoded"
            compared = [c for c in ranked[:n_kept] if c.item.id not in unreadable]
            for c in compared:
                if id(c) not in short and c.item.id not in cover_ids:
                    skipped[c.item.id] = "not among the best of its moment"
            return [c for c in compared if id(c) in short or c.item.id in cover_ids], ranked[n_kept:]

        kept, dupes = dedupe(cands)

        # 3. clips' best keyframes, when the distinct photos are too few
        fresh = sum(1 for c in kept if c.item.id not in cover_ids)
        clips = [i for i in ctx.ok_items if i.kind == MediaKind.clip]
        if request.keyframes and clips and fresh < slots:
            for item in clips:
                try:
                    cands.append(self._keyframe(item, top, r, size[0]))
                except CreatorError as e:
                    warnings.append(f"{Path(item.path).name}: no keyframe for the carousel ({e})")
            kept, dupes = dedupe(cands)

        # 4. never twice: near-duplicates and bursts of a better one, and the cover's shots
        for c in dupes:
            skipped[c.item.id] = "the same shot as a better photo (near-duplicate or burst)"
        pool = []
        for c in kept:
            if c.item.id in cover_ids:
                skipped[c.item.id] = "on the cover"
            else:
                pool.append(c)

        # 5. choose: the best photos, every moment and place once before any twice
        chosen = self._choose(pool, max(0, slots), moment_of)
        for c in pool:
            if c not in chosen:
                skipped.setdefault(c.item.id, "not among the best of its moment")

        # 6. the story's order: time, then moment, then the user's order
        position = {item_id: k for k, item_id in enumerate(request.order or [i.id for i in ctx.items])}

        def story(c: _Candidate):
            when = _taken(c)
            m = moment_of.get(c.item.id)
            return (when is None, when or datetime.min, m.index if m else math.inf,
                    position.get(c.item.id, math.inf), c.time or 0.0)

        chosen.sort(key=story)

        # 7. crops, 8. labels
        several_days = (ctx.days or len({m.day for m in ctx.moments})) > 1
        labelled: set[int] = set()
        last_label = None
        entries = []
        for c in chosen:
            W, H = _display_size(c)
            q = c.item.quality
            plan = plan_crop((W, H), r, list(q.faces) if q else [], q.subject if q else None)
            if not plan.fits:
                warnings.append(f"{Path(c.item.path).name}: {'; '.join(plan.notes)}")
            label = None
            m = moment_of.get(c.item.id)
            if request.labels and m is not None and m.index not in labelled:
                labelled.add(m.index)
                label = moment_label(m, request.language, several_days)
                if label == last_label:  # a later moment of the same day and place: said already
                    label = None
                last_label = label or last_label
            entries.append(CarouselEntry(item_id=c.item.id, box=tuple(round(v, 2) for v in plan.box),
                                         label=label, time=c.time))

        # 9. file names
        entries = number_entries(entries, cover=slots < request.n)
        return CarouselOutput(entries=entries, ratio=ratio, size=size, skipped=skipped, warnings=warnings,
                              scores={c.item.id: c.score for c in cands})

    # --- steps -------------------------------------------------------------------------
    @staticmethod
    def _signature(c: _Candidate):
        return shot_signature(c.frame) if c.frame is not None else photo_signature(c.item.path)

    def _keyframe(self, item: MediaItem, top, r: float, width: int) -> _Candidate:
        """A clip's best keyframe as a candidate: its own faces, subject and quality."""
        from creator.media import read_frames
        from creator.understanding.quality import assess

        t = _best_keyframe(item)
        frame = read_frames(item.path, [t], max_side=448)[0]
        try:
            faces = self.face_detector().detect(frame)
        except BackendUnavailable:
            faces = []
        q = assess(frame, faces)
        when = item.taken_at + timedelta(seconds=t) if item.taken_at else None
        shown = item.model_copy(update={"quality": q, "taken_at": when})
        choice = score_photo(shown, top, r, width)
        return _Candidate(item=shown, score=choice.score, parts=choice.parts, time=t, frame=frame)

    @staticmethod
    def _choose(pool: list[_Candidate], k: int, moment_of: dict[str, Moment]) -> list[_Candidate]:
        """Greedy: each next photo is the one worth most now, its score plus what it adds
        (a moment or place not shown yet), less for a moment that has many already."""
        chosen: list[_Candidate] = []
        per_moment: dict[int, int] = {}
        places: set[str] = set()
        left = list(pool)
        while left and len(chosen) < k:
            def gain(c: _Candidate) -> float:
                m = moment_of.get(c.item.id)
                count = per_moment.get(m.index, 0) if m else 0
                place = _place_key(c, m)
                return (c.score + (NEW_MOMENT if m is not None and count == 0 else 0.0)
                        + (NEW_PLACE if place is not None and place not in places else 0.0) - CROWD * count)

            best = max(left, key=gain)  # ties: the better-ranked one (max keeps the first)
            left.remove(best)
            chosen.append(best)
            m = moment_of.get(best.item.id)
            if m is not None:
                per_moment[m.index] = per_moment.get(m.index, 0) + 1
            if (p := _place_key(best, m)) is not None:
                places.add(p)
        return chosen


def _taken(c: _Candidate) -> datetime | None:
    t = c.item.taken_at
    return t.replace(tzinfo=None) if t is not None else None  # naive and aware sort together


def _place_key(c: _Candidate, m: Moment | None) -> str | None:
    place = c.item.place or (m.place if m else None)
    return place.name_en if place else None


def _display_size(c: _Candidate) -> tuple[int, int]:
    """The photo's size as displayed (the item says; else the file's header does)."""
    item = c.item
    if item.width and item.height:
        return item.width, item.height
    from creator.media import photo_meta

    meta = photo_meta(item.path)
    return meta["width"], meta["height"]


# --- edits (the editor's, the SDK's): one entry at a time ------------------------------------

def entry_for(item: MediaItem, ratio: str, *, label: str | None = None, time: float | None = None) -> CarouselEntry:
    """A new entry for ``item`` (a photo swapped in): the cover's face-safe crop at ``ratio``
    (a clip: of its best keyframe, unless ``time`` says which)."""
    if ratio not in RATIOS:
        raise InputError(f"ratio must be one of {', '.join(RATIOS)}, got {ratio!r}")
    q = item.quality
    W, H = _display_size(_Candidate(item=item, score=0.0))
    plan = plan_crop((W, H), parse_ratio(ratio), list(q.faces) if q else [], q.subject if q else None)
    if item.kind == MediaKind.clip and time is None:
        time = _best_keyframe(item)
    return CarouselEntry(item_id=item.id, box=tuple(round(v, 2) for v in plan.box), label=label,
                         time=time if item.kind == MediaKind.clip else None)


def crop_slack(entry: CarouselEntry, item: MediaItem) -> tuple[str | None, float]:
    """The crop's free axis ("x", "y", or None when the crop is the whole photo) and
    where the crop sits along it (0: left/top .. 1: right/bottom)."""
    W, H = _display_size(_Candidate(item=item, score=0.0))
    x0, y0, x1, y1 = entry.box
    if W - (x1 - x0) > 1:
        return "x", x0 / (W - (x1 - x0))
    if H - (y1 - y0) > 1:
        return "y", y0 / (H - (y1 - y0))
    return None, 0.5


def slide_crop(entry: CarouselEntry, item: MediaItem, position: float) -> CarouselEntry:
    """The entry with its crop moved along its free axis to ``position`` (0..1), its
    size unchanged."""
    axis, _ = crop_slack(entry, item)
    W, H = _display_size(_Candidate(item=item, score=0.0))
    x0, y0, x1, y1 = entry.box
    p = min(1.0, max(0.0, float(position)))
    if axis == "x":
        w = x1 - x0
        x0 = round(p * (W - w), 2)
        return entry.model_copy(update={"box": (x0, y0, x0 + w, y1)})
    if axis == "y":
        h = y1 - y0
        y0 = round(p * (H - h), 2)
        return entry.model_copy(update={"box": (x0, y0, x1, y0 + h)})
    return entry


def label_for(context: NoteContext, item_id: str, lang: str) -> str | None:
    """The label an item's photo gets: its moment's day and place ("第2天 · 西湖")."""
    from creator.understanding.moments import derive_context

    context = derive_context(context)  # the moments as the items say now
    several_days = (context.days or len({m.day for m in context.moments})) > 1
    for m in context.moments:
        if item_id in m.item_ids:
            return moment_label(m, lang, several_days)
    return None
