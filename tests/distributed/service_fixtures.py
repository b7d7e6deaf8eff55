"""What the service tests share (tests/distributed/test_service*.py): a small trip, a small
music library, Settings in tmp folders, a real uvicorn server on a free port, and the
round trip a client makes. Not a conftest, so that it does not clash with other tests
in this folder: the test files import it."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from creator.config import Settings
from tests.factories import make_click_track, make_photo, make_tone

__all__ = ["make_trip", "make_library", "service_settings", "LocalServer", "round_trip", "free_port",
           "assert_no_server_path", "upload"]


def make_trip(root: Path) -> list[Path]:
    """Three real photos (Chinese names) over two days around Hangzhou, small enough to
    keep the stages quick."""
    root.mkdir(parents=True, exist_ok=True)
    return [
        make_photo(root / "宫殿.jpg", "china", size=(480, 320), taken_at=datetime(2026, 10, 3, 9), gps=(30.25, 120.15)),
        make_photo(root / "花.jpg", "flower", size=(480, 320), taken_at=datetime(2026, 10, 3, 10),
                   gps=(30.251, 120.151)),
        make_photo(root / "咖啡.jpg", "coffee", size=(400, 300), taken_at=datetime(2026, 10, 4, 16),
                   gps=(30.26, 120.16)),
    ]


def make_library(root: Path) -> Path:
    """Three 12 s tracks: indexed in seconds through the same code as a real library."""
    make_click_track(root / "慢 clicks.wav", bpm=80, duration=12)
    make_click_track(root / "fast clicks.wav", bpm=132, duration=12)
    make_tone(root / "warm chord.wav", freqs=(261.6, 329.6, 392.0), duration=12)
    return root


def service_settings(tmp: Path, library: Path, **service) -> Settings:
    """Settings with every folder under ``tmp`` (never ~/.cache), a small video and the
    given service fields."""
    s = Settings(cache_dir=tmp / "cache", service={"work_dir": tmp / "服务", **service})
    s.music.library = library
    s.cover.n = 1
    s.cover.width = 360
    for k, v in dict(width=180, height=320, fps=10, min_length=4.0, max_length=6.0, photo_seconds=1.0,
                     intro_seconds=1.0).items():
        setattr(s.video, k, v)
    return s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """uvicorn serving ``app`` in a thread on 127.0.0.1 and a free port."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(20)


def upload(client: httpx.Client, photos: list[Path]) -> dict:
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
    r = client.post("/uploads", files=files)
    assert r.status_code == 201, r.text
    return r.json()


# an absolute POSIX path of two or more components, or a Windows drive path
_ABS = re.compile(r'(?<![\w.:/])/(?:[^\s/"]+/)+[^\s/"]*|[A-Za-z]:\\')


def assert_no_server_path(payload, *roots: Path) -> None:
    """No absolute path (and none of ``roots``) anywhere in a JSON response."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    for root in roots:
        assert str(root) not in text, f"{root} leaks in {text[:300]}"
    hits = _ABS.findall(text)
    assert not hits, f"absolute paths in a response: {hits[:3]}"


def round_trip(client: httpx.Client, photos: list[Path], *roots: Path) -> dict:
    """upload → understand → caption → soundtrack → cover (and its image): every JSON
    answer checked for server paths. Returns what each step gave."""
    up = upload(client, photos)
    assert [f["name"] for f in up["files"]] == [p.name for p in photos]
    r = client.post("/understand", json={"media": [f["id"] for f in up["files"]]})
    assert r.status_code == 200, r.text
    ctx = r.json()
    assert sorted(i["path"] for i in ctx["items"]) == sorted(f["id"] for f in up["files"])
    assert all(i["error"] is None for i in ctx["items"]) and ctx["places"]
    r = client.post("/caption", json={"context": ctx, "language": "zh", "n": 2, "seed": 3})
    assert r.status_code == 200, r.text
    captions = r.json()
    assert len(captions) == 2 and "杭州" in captions[0]["title"] + captions[0]["body"]
    r = client.post("/soundtrack", json={"context": ctx, "length": 8, "top": 2})
    assert r.status_code == 200, r.text
    tracks = r.json()
    assert tracks and tracks[0]["excerpt"] and tracks[0]["path"].endswith(".wav")
    r = client.post("/cover", json={"context": ctx, "title": captions[0]["title"], "n": 1})
    assert r.status_code == 200, r.text
    covers = r.json()
    assert len(covers) == 1 and covers[0]["path"].startswith("covers/")
    image = client.get("/" + covers[0]["path"])
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    w, h = Image.open(BytesIO(image.content)).size
    assert (w, h) == (360, 480)  # 3:4 at the settings' width
    for payload in (up, ctx, captions, tracks, covers):
        assert_no_server_path(payload, *roots)
    return {"upload": up, "context": ctx, "captions": captions, "tracks": tracks, "covers": covers,
            "cover_bytes": image.content}


def follow_job(client: httpx.Client, job: dict, *, poll: float = 0.1, limit: float = 60) -> tuple[dict, list[float]]:
    """Poll a video job until it is neither queued nor running (or ``limit`` seconds):
    its last state and every progress value read on the way."""
    seen, deadline = [], time.monotonic() + limit
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(poll)
        job = client.get(f"/videos/{job['id']}").json()
        seen.append(job["progress"])
    return job, seen
