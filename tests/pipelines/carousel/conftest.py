"""A two-day trip of real sample photos under Chinese names, understood by the real
understanding stage (tags, MTCNN faces, quality, places, moments): one burst shot (the
same view 1 s later, a little moved), and the astronaut on the right of a wide photo, where
a centred 3:4 crop would cut the face."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageEnhance

from creator.types import NoteContext
from tests.factories import make_photo, sample_image

HANGZHOU = (30.25, 120.15)
SHANGHAI = (31.23, 121.47)


def wide_astronaut() -> Image.Image:
    canvas = Image.new("RGB", (1200, 600))
    canvas.paste(sample_image("china").resize((600, 600)), (0, 0))
    canvas.paste(sample_image("astronaut").resize((600, 600)), (600, 0))
    return canvas


def burst_of(image: Image.Image) -> Image.Image:
    """The next frame of a burst: the camera moved 2 % and the light changed a little."""
    return ImageEnhance.Brightness(ImageChops.offset(image, 12, 0)).enhance(1.04)


def make_trip(root: Path) -> dict[str, Path]:
    china = sample_image("china")
    shots = {  # name: (image, time, place)
        "故宫": (china, datetime(2024, 10, 3, 9, 0, 0), HANGZHOU),
        "故宫连拍": (burst_of(china), datetime(2024, 10, 3, 9, 0, 1), HANGZHOU),
        "咖啡": ("coffee", datetime(2024, 10, 3, 10, 30), HANGZHOU),
        "花": ("flower", datetime(2024, 10, 3, 15, 0), HANGZHOU),
        "宇航员": (wide_astronaut(), datetime(2024, 10, 4, 9, 0), SHANGHAI),
        "猫": ("chelsea", datetime(2024, 10, 4, 11, 0), SHANGHAI),
        "火箭": ("rocket", datetime(2024, 10, 4, 12, 0), SHANGHAI),
    }
    return {name: make_photo(root / f"照片_{name}.jpg", img, taken_at=t, gps=gps)
            for name, (img, t, gps) in shots.items()}


@pytest.fixture(scope="session")
def trip_files(tmp_path_factory) -> dict[str, Path]:
    return make_trip(tmp_path_factory.mktemp("carousel") / "杭州上海两日")


@pytest.fixture(scope="session")
def trip(trip_files) -> NoteContext:
    from creator.understanding import understand

    return understand(list(trip_files.values()))


@pytest.fixture(scope="session")
def ids(trip, trip_files) -> dict[str, str]:
    """Photo name → item id."""
    by_path = {Path(i.path).resolve(): i.id for i in trip.items}
    return {name: by_path[p.resolve()] for name, p in trip_files.items()}
