"""The typed objects that flow between stages.

Every arrow in the data flow (DESIGN.md) is one of these pydantic models, so every stage
reads and writes the same JSON: ``model.model_dump_json()`` / ``Model.model_validate_json``.

Coordinates: boxes are in *normalised* image coordinates (0..1, origin top-left) of the
photo as displayed, i.e. after its EXIF orientation was applied.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .draft_store import DRAFT_SCHEMA_VERSION, read_draft, save_draft

_Date = date  # Moment has a field named `date`

__all__ = [
    "Box",
    "GPS",
    "Tag",
    "Place",
    "Quality",
    "Shot",
    "ClipInfo",
    "MediaKind",
    "MediaItem",
    "Moment",
    "NoteContext",
    "Caption",
    "Excerpt",
    "TrackMatch",
    "Cover",
    "VideoResult",
    "Draft",
    "CarouselEntry",
    "DRAFT_SCHEMA_VERSION",
]

Language = Literal["zh", "en"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Box(_Model):
    """A rectangle in normalised coordinates (0..1) with an optional confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)


class GPS(_Model):
    """Where a photo was taken. Kept for grouping and geocoding; never printed in a note."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude: float | None = None


class Tag(_Model):
    """One vocabulary tag on one item (or on a whole trip), with its evidence."""

    id: str
    label_zh: str
    label_en: str
    group: str
    score: float = Field(ge=0, le=1)
    source: str  # "imagenet", "colour", "exif", "faces", "clip", "user", ...

    def label(self, lang: Language) -> str:
        return self.label_zh if lang == "zh" else self.label_en


class Place(_Model):
    """A named place in both languages. ``name_*`` is the label to use for the trip."""

    name_zh: str
    name_en: str
    city_zh: str | None = None
    city_en: str | None = None
    region_zh: str | None = None
    region_en: str | None = None
    country_zh: str | None = None
    country_en: str | None = None
    country_code: str | None = None

    def name(self, lang: Language) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def country(self, lang: Language) -> str | None:
        return self.country_zh if lang == "zh" else self.country_en


class Quality(_Model):
    """How good a photo (or a clip's best keyframe) looks; all scores 0..1."""

    sharpness: float = Field(ge=0, le=1)
    exposure: float = Field(ge=0, le=1)  # 1 = well exposed, 0 = black or blown out
    colourfulness: float = Field(ge=0, le=1)
    faces: list[Box] = Field(default_factory=list)
    subject: Box | None = None  # where the eye goes: faces, else the salient region
    score: float = Field(ge=0, le=1)  # overall, for ordering and cover choice


class Shot(_Model):
    """A shot of a clip: a stretch between two cuts, in seconds."""

    start: float
    end: float
    keyframes: list[float] = Field(default_factory=list)  # times of its keyframes
    motion: float | None = None  # mean inter-frame change, 0..1
    sharpness: float | None = None


class ClipInfo(_Model):
    duration: float
    fps: float
    width: int  # as displayed (rotation applied)
    height: int
    rotation: int = 0
    codec: str | None = None
    has_audio: bool = False
    shots: list[Shot] = Field(default_factory=list)


class MediaKind(str, Enum):
    photo = "photo"
    clip = "clip"


class MediaItem(_Model):
    """One photo or clip and everything understood about it.

    ``error`` is set (and the rest mostly empty) when the file could not be read; the
    batch goes on without it.
    """

    path: str
    id: str  # content hash (first 16 hex chars of sha256)
    kind: MediaKind | None = None
    width: int | None = None  # as displayed
    height: int | None = None
    taken_at: datetime | None = None  # local time, as the camera's clock showed it
    utc_offset: int | None = Field(default=None, ge=-12 * 60, le=14 * 60)  # minutes east of UTC, when EXIF says
    gps: GPS | None = None
    place: Place | None = None
    tags: list[Tag] = Field(default_factory=list)  # sorted by score, best first
    suggestions: list[Tag] = Field(default_factory=list)  # possible tags below the fact threshold
    quality: Quality | None = None
    clip: ClipInfo | None = None
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def tag_ids(self, min_score: float = 0.0) -> list[str]:
        return [t.id for t in self.tags if t.score >= min_score]


class Moment(_Model):
    """Items close in time and place: one scene of the trip."""

    index: int
    day: int  # 1-based day of the trip
    date: _Date | None = None
    start: datetime | None = None
    end: datetime | None = None
    place: Place | None = None
    item_ids: list[str]
    tags: list[Tag] = Field(default_factory=list)  # the moment's own top tags
    sun: float | None = None  # the sun's elevation (degrees) when and where it happened, if known


class NoteContext(_Model):
    """The whole trip, summarised for the generation stages."""

    items: list[MediaItem]
    moments: list[Moment] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)  # most photographed first
    start: date | None = None
    end: date | None = None
    days: int | None = None
    top_tags: list[Tag] = Field(default_factory=list)
    season: str | None = None  # spring, summer, autumn, winter
    time_of_day: str | None = None  # the trip's, creator.understanding.moments.trip_time_of_day (early ... night)
    valence: float = 0.5  # mood of the photos, 0..1 (sad..happy)
    energy: float = 0.5  # 0..1 (calm..lively)
    hints: list[str] = Field(default_factory=list)  # the user's own words
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok_items(self) -> list[MediaItem]:
        return [i for i in self.items if i.ok]

    def item(self, item_id: str) -> MediaItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)


class Caption(_Model):
    title: str
    body: str
    hashtags: list[str] = Field(default_factory=list)  # without the leading '#'
    language: Language = "zh"
    style: str = "guide"
    backend: str = "template"
    notes: list[str] = Field(default_factory=list)  # e.g. "LLM output invalid, template used"
    edited: bool = False  # changed by hand since it was drafted: a regenerate keeps it

    def text(self) -> str:
        """Post-ready text: title, body, hashtags."""
        tags = " ".join(f"#{h}" for h in self.hashtags)
        return f"{self.title}\n\n{self.body.strip()}\n\n{tags}".strip() + "\n"

    def markdown(self) -> str:
        tags = " ".join(f"#{h}" for h in self.hashtags)
        return f"# {self.title}\n\n{self.body.strip()}\n\n{tags}\n"


class Excerpt(_Model):
    start: float = Field(ge=0)
    end: float

    @model_validator(mode="after")
    def _in_order(self) -> "Excerpt":
        if self.end < self.start:  # a hand-edited draft: the editor showed a reversed slider
            raise ValueError(f"the excerpt ends ({self.end:g} s) before it starts ({self.start:g} s)")
        return self

    @property
    def duration(self) -> float:
        return self.end - self.start


class TrackMatch(_Model):
    track_id: str
    title: str
    artist: str | None = None
    license: str | None = None
    path: str
    score: float
    breakdown: dict[str, float] = Field(default_factory=dict)
    moods: dict[str, float] = Field(default_factory=dict)
    tempo: float | None = None
    reason: str = ""
    excerpt: Excerpt | None = None
    beats: list[float] = Field(default_factory=list)  # beat times inside the excerpt, from its start
    downbeats: list[float] = Field(default_factory=list)  # bar starts inside the excerpt, from its start


class Cover(_Model):
    path: str | None = None  # the rendered file, once saved
    title: str
    style: str
    ratio: str = "3:4"
    source: str  # item id of the photo(s) ("a,b,c" for a collage), or "diffusion"
    prompt: str | None = None
    seed: int | None = None
    backend: str = "photo"


class VideoResult(_Model):
    path: str
    duration: float
    width: int
    height: int
    fps: float
    cuts: list[float] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # what it was rendered from (pipelines.video.made_from: item order, cover content id,
    # track id and excerpt, title, captions); None for a video made before it was recorded
    made_from: str | None = None


class Draft(_Model):
    """Every part of a note, with the user's edits; saved as draft.json plus assets/."""

    schema_version: int = DRAFT_SCHEMA_VERSION
    created_at: datetime | None = None
    updated_at: datetime | None = None
    language: Language = "zh"
    context: NoteContext
    order: list[str] = Field(default_factory=list)  # item ids in the user's order
    caption: Caption | None = None
    alternatives: list[Caption] = Field(default_factory=list)
    tracks: list[TrackMatch] = Field(default_factory=list)
    track: TrackMatch | None = None  # the chosen one
    track_picked: bool = False  # the user chose it (or brought their own): a new match keeps it
    covers: list[Cover] = Field(default_factory=list)
    cover: Cover | None = None  # the chosen one
    video: VideoResult | None = None
    carousel: list["CarouselEntry"] = Field(default_factory=list)  # the image note's photos after the cover
    warnings: list[str] = Field(default_factory=list)  # stages that failed, and why

    @model_validator(mode="after")
    def _each_item_once(self) -> "Draft":
        """An id is in the order as many times as items carry it (two copies of one file
        share an id), at least once: a hand-edited or crafted order that names one photo
        5000 times would render it 5000 times (the first places count)."""
        room = Counter(i.id for i in self.context.items)
        seen: Counter = Counter()
        kept = []
        for i in self.order:
            seen[i] += 1
            if seen[i] <= max(1, room[i]):
                kept.append(i)
        if len(kept) != len(self.order):
            self.__dict__["order"] = kept  # not an assignment: that would validate again
        return self

    def ordered_items(self) -> list[MediaItem]:
        """The usable items in the user's order (items not in ``order`` follow, as understood)."""
        by_id = {i.id: i for i in self.context.items if i.ok}
        ids = [i for i in self.order if i in by_id] + [i for i in by_id if i not in self.order]
        return [by_id[i] for i in ids]

    def remove_item(self, item_id: str) -> None:
        """Take an item out of the note: from the items, the order, its moment (a moment
        left empty goes), the carousel and the covers made from it (the chosen one among
        them gives way to the next cover left, or none); the original file is not touched."""
        if not any(i.id == item_id for i in self.context.items):
            raise KeyError(f"no item {item_id!r} in this draft")
        ctx = self.context
        moments = []
        for m in ctx.moments:
            ids = [i for i in m.item_ids if i != item_id]
            if ids:
                moments.append(m.model_copy(update={"item_ids": ids, "index": len(moments)}))
        self.context = ctx.model_copy(update={
            "items": [i for i in ctx.items if i.id != item_id], "moments": moments})
        self.order = [i for i in self.order if i != item_id]

        def uses(c: Cover) -> bool:
            return item_id in c.source.split(",")

        if self.cover is not None and uses(self.cover):
            self.cover = next((c for c in self.covers if not uses(c)), None)
        self.covers = [c for c in self.covers if not uses(c)]
        # the rest keep their order and take the files by position (02.jpg… after a cover),
        # as pipelines.carousel.number_entries names them
        first = 2 if self.cover is not None else 1
        self.carousel = [e.model_copy(update={"file": f"{first + k:02d}.jpg"}) if e.file else e
                         for k, e in enumerate(e for e in self.carousel if e.item_id != item_id)]

    def save(self, directory) -> "Path":
        """Write draft.json (and caption.md) into ``directory``, atomically, under the
        folder's lock: its own files (cover, covers, video) relative to the folder, the
        media by absolute path, GPS rounded and without altitude (creator.draft_store)."""
        return save_draft(self, directory)

    @classmethod
    def load(cls, directory) -> "Draft":
        """Reopen a saved draft (paths come back absolute, whatever the working
        directory); raises DraftError with a clear message if it can't."""
        return read_draft(directory, cls)


class CarouselEntry(_Model):
    """One photo of the image note's carousel (pipelines.carousel), in posting order.

    ``box``: the crop (x0, y0, x1, y1) in pixels of the photo as displayed (of the frame
    at ``time`` for a clip); ``label``: the small line set on it ("第2天 · 西湖"), or None;
    ``file``: its name in post/ ("02.jpg").
    """

    item_id: str
    box: tuple[float, float, float, float]
    label: str | None = None
    file: str = ""
    time: float | None = None  # seconds into a clip: the keyframe shown


Draft.model_rebuild()
