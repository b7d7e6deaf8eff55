"""Shared builders for the cover tests: real sample photos written with EXIF (time, GPS)
under a Chinese folder name, and a NoteContext over them built directly."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from PIL import Image

from creator.types import Box, MediaItem, MediaKind, NoteContext, Place, Quality, Tag
from tests.factories import make_photo

ASTRONAUT_FACE = Box(x0=0.349, y0=0.114, x1=0.521, y1=0.339)  # detected once with MTCNN


def tag(tid: str, zh: str, en: str, score: float) -> Tag:
    return Tag(id=tid, label_zh=zh, label_en=en, group="scene", score=score, source="test")


def photo_item(path: Path, name: str, *, score: float = 0.7, faces=(), tags=()) -> MediaItem:
    with Image.open(path) as im:
        w, h = im.size
    return MediaItem(path=str(path), id=f"id-{name}", kind=MediaKind.photo, width=w, height=h,
                     tags=list(tags),
                     quality=Quality(sharpness=0.8, exposure=0.8, colourfulness=0.6, faces=list(faces),
                                     subject=None, score=score))


@pytest.fixture(scope="session")
def trip(tmp_path_factory) -> NoteContext:
    root = tmp_path_factory.mktemp("cover") / "杭州之旅"
    names = ["china", "astronaut", "flower", "coffee", "chelsea"]
    paths = {n: make_photo(root / f"照片_{n}.jpg", n, taken_at=datetime(2024, 10, 3, 9, 0),
                           gps=(30.25, 120.15)) for n in names}
    items = [
        photo_item(paths["china"], "china", score=0.85, tags=[tag("palace", "宫殿", "palace", 0.9)]),
        photo_item(paths["astronaut"], "astronaut", score=0.7, faces=[ASTRONAUT_FACE]),
        photo_item(paths["flower"], "flower", score=0.6, tags=[tag("flower", "花", "flowers", 0.8)]),
        photo_item(paths["coffee"], "coffee", score=0.5),
        photo_item(paths["chelsea"], "chelsea", score=0.4),
    ]
    return NoteContext(items=items, places=[Place(name_zh="杭州", name_en="Hangzhou")],
                       start=date(2024, 10, 3), end=date(2024, 10, 4), days=2,
                       top_tags=[tag("palace", "宫殿", "palace", 0.9), tag("flower", "花", "flowers", 0.5)],
                       season="autumn", time_of_day="morning")
