"""What a draft keeps and what leaves the machine (issue 11 item 5, issue 14 item 1).

One real `creator make ../旅行 -o ../笔记 --video`, run from one folder and opened from
another: the draft names its own files relative to itself and the user's media by
absolute path, so the cover candidates, the video and the zip are found from anywhere;
the local draft.json keeps coordinates rounded and no altitude; the zip (and the
shareable draft.json inside it) carries no coordinates, no altitude and no local path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from creator import Assistant, Draft
from tests.factories import make_click_track, make_photo

ROOT = Path(__file__).resolve().parents[2]
# where the photos were taken, to 7 decimals as a phone writes them
SPOTS = [(30.2591234, 120.1487654, 17.25), (30.2602468, 120.1501357, 23.5)]


def _coordinates(text: str) -> list[str]:
    """Every latitude/longitude of the trip written to 2 or more decimals."""
    return re.findall(r"30\.2[56]\d*|120\.1[45]\d*", text)


def _with_altitude(path: Path, metres: float) -> None:
    im = Image.open(path)
    exif = im.getexif()
    gps = exif.get_ifd(0x8825)
    gps[5], gps[6] = b"\x00", IFDRational(int(metres * 100), 100)
    im.save(path, exif=exif.tobytes(), quality=90)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("分享")
    trip, work, elsewhere = base / "旅行", base / "工作目录", base / "别处"
    for k, (name, (lat, lon, alt)) in enumerate(zip(["china", "flower"], SPOTS)):
        p = make_photo(trip / f"西湖_{k}.jpg", name, size=(480, 360), taken_at=datetime(2026, 10, 3, 9 + k),
                       gps=(lat, lon))
        _with_altitude(p, alt)
    work.mkdir()
    elsewhere.mkdir()
    lib = base / "音乐"
    make_click_track(lib / "节拍.wav", bpm=100, duration=20)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", CREATOR_CACHE_DIR=str(base / "cache"),
               CREATOR_MUSIC__LIBRARY=str(lib), CREATOR_COVER__WIDTH="270", CREATOR_COVER__N="2",
               CREATOR_TAGGING__FACES="false", CREATOR_VIDEO__WIDTH="270", CREATOR_VIDEO__HEIGHT="480",
               CREATOR_VIDEO__FPS="12", CREATOR_VIDEO__MIN_LENGTH="6", CREATOR_VIDEO__PHOTO_SECONDS="1.0")
    r = subprocess.run([sys.executable, "-m", "creator.cli", "make", "../旅行", "-o", "../笔记", "--video",
                        "--no-progress"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return dict(base=base, trip=trip, out=base / "笔记", elsewhere=elsewhere, env=env)


def test_the_draft_names_its_own_files_relative_and_the_media_absolute(made):
    data = json.loads((made["out"] / "draft.json").read_text(encoding="utf-8"))
    own = [data["cover"]["path"], data["video"]["path"], *(c["path"] for c in data["covers"])]
    assert data["cover"]["path"] == "cover.png" and data["video"]["path"] == "note.mp4"
    assert all(not os.path.isabs(p) and not p.startswith("..") for p in own), own
    assert all(c["path"].startswith("assets/") for c in data["covers"])
    items = [i["path"] for i in data["context"]["items"]]
    assert items == [str(made["trip"] / "西湖_0.jpg"), str(made["trip"] / "西湖_1.jpg")]


def test_the_local_draft_keeps_rounded_coordinates_and_no_altitude(made):
    data = json.loads((made["out"] / "draft.json").read_text(encoding="utf-8"))
    gps = [i["gps"] for i in data["context"]["items"]]
    assert [(g["lat"], g["lon"]) for g in gps] == [(round(a, 3), round(b, 3)) for a, b, _ in SPOTS]
    assert all(g["altitude"] is None for g in gps)
    assert not re.search(r"\d+\.\d{4,}", json.dumps(gps))


def test_opened_from_elsewhere_covers_video_and_zip_are_all_found(made, monkeypatch):
    monkeypatch.chdir(made["elsewhere"])
    draft = Draft.load("../笔记")
    assert len(draft.covers) == 2 and all(Path(c.path).is_file() for c in draft.covers)
    assert Path(draft.video.path).is_file() and Path(draft.cover.path).is_file()
    zipped = Assistant.export_zip("../笔记")
    with zipfile.ZipFile(zipped) as z:
        assert set(z.namelist()) == {"draft.json", "caption.md", "cover.png", "note.mp4"}
        assert z.read("cover.png") == (made["out"] / "cover.png").read_bytes()
    # and the video of the draft renders from there, with its cover
    r = subprocess.run([sys.executable, "-m", "creator.cli", "video", "../笔记", "-o", "再来.mp4"],
                       cwd=made["elsewhere"], env=made["env"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "cover" not in r.stderr.lower() and (made["elsewhere"] / "再来.mp4").stat().st_size > 1000


def test_the_zip_carries_no_coordinates_altitude_or_local_paths(made):
    zipped = Assistant.export_zip(made["out"], made["base"] / "分享.zip")
    local = [str(made["base"]), str(Path(made["base"]).resolve()), os.path.expanduser("~"), "/tmp/"]
    with zipfile.ZipFile(zipped) as z:
        shared = z.read("draft.json").decode("utf-8")
        blobs = {n: z.read(n) for n in z.namelist()}
    assert _coordinates(shared) == [] and "altitude" not in shared and '"gps": null' in shared
    assert not any(p in shared for p in local), [p for p in local if p in shared]
    for name, blob in blobs.items():
        assert not any(p.encode() in blob for p in local), name
        assert not _coordinates(blob.decode("latin-1")), name
    back = Draft.model_validate_json(shared)
    assert [i.path for i in back.context.items] == ["西湖_0.jpg", "西湖_1.jpg"]
    assert back.track.path == "节拍.wav" and back.cover.path == "cover.png"
    assert back.context.places  # the town stays: it is what the note says anyway


def test_make_writes_the_image_note_ready_to_post_without_exif_or_paths(made):
    from PIL import Image

    post = made["out"] / "post"
    names = sorted(p.name for p in post.iterdir())
    assert names[:2] == ["01.jpg", "02.jpg"] and {"title.txt", "body.txt", "hashtags.txt",
                                                          "caption.txt", "music.m4a", "note.mp4"} <= set(names)
    draft = Draft.load(made["out"])
    assert (post / "title.txt").read_text(encoding="utf-8").strip() == draft.caption.title
    local = [str(made["base"]), os.path.expanduser("~")]
    for jpg in sorted(post.glob("*.jpg")):
        with Image.open(jpg) as im:
            assert im.size == (1080, 1440) and not im.getexif() and "exif" not in im.info
        blob = jpg.read_bytes()
        assert not _coordinates(blob.decode("latin-1")) and not any(p.encode() in blob for p in local)
