"""Nothing the service keeps stays forever (Settings.service.keep_hours): uploads, covers
and videos not used for that long are deleted, each use of an id renews it, a video being
rendered is kept, and finished jobs are forgotten. A real uvicorn server and real folders."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from creator.service.app import Jobs, Store, create_app
from creator.types import VideoResult
from tests.distributed.service_fixtures import LocalServer, make_library, make_trip, service_settings, upload


def _age(folder: Path, hours: float) -> None:
    """Back-dates ``folder`` as if it had last been used ``hours`` ago."""
    t = time.time() - hours * 3600
    os.utime(folder, (t, t))


def test_an_upload_not_used_for_keep_hours_is_deleted_and_use_renews_it(tmp_path):
    photos = make_trip(tmp_path / "西湖")
    settings = service_settings(tmp_path, make_library(tmp_path / "音乐"), keep_hours=1)
    uploads = settings.service_root / "uploads"
    with LocalServer(create_app(settings)) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        old = upload(client, photos[:1])
        used = upload(client, photos[1:2])
        _age(uploads / old["upload"], 2)
        _age(uploads / used["upload"], 2)
        r = client.post("/understand", json={"media": [used["files"][0]["id"]]})  # a use renews it
        assert r.status_code == 200, r.text
        upload(client, photos[2:])  # each upload request sweeps first
        assert not (uploads / old["upload"]).exists()
        assert (uploads / used["upload"]).is_dir()
        r = client.post("/understand", json={"media": [old["files"][0]["id"]]})
        assert r.status_code == 400 and "no upload" in r.json()["error"], r.text


def test_sweep_keeps_what_is_fresh_or_rendering_and_never_leaves_its_folders(tmp_path):
    store = Store(tmp_path / "服务")
    outside = tmp_path / "别人的"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    ids = {name: Store.new_id() for name in ("upload", "cover", "video", "rendering", "fresh", "link")}
    folders = {"upload": store.uploads / ids["upload"], "cover": store.covers / ids["cover"],
               "video": store.videos / ids["video"], "rendering": store.videos / ids["rendering"],
               "fresh": store.uploads / ids["fresh"]}
    for f in folders.values():
        f.mkdir()
        (f / "x.bin").write_bytes(b"\0")
    for name in ("upload", "cover", "video", "rendering"):
        _age(folders[name], 30)
    not_ours = store.uploads / "notes"  # not an id this server gave: never touched
    not_ours.mkdir()
    _age(not_ours, 30)
    link = store.covers / ids["link"]
    link.symlink_to(outside, target_is_directory=True)
    os.utime(link, (0, 0), follow_symlinks=False)

    assert store.sweep(24 * 3600, keep=[ids["rendering"]]) == 3
    assert not folders["upload"].exists() and not folders["cover"].exists() and not folders["video"].exists()
    assert folders["rendering"].is_dir() and folders["fresh"].is_dir() and not_ours.is_dir()
    assert link.is_symlink() and (outside / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_finished_jobs_are_forgotten_and_running_ones_named_for_keeping():
    jobs = Jobs(workers=2)
    release = threading.Event()

    def quick(_progress, _cancel):
        return VideoResult(path="videos/a/note.mp4", duration=1.0, width=180, height=320, fps=10)

    def slow(_progress, cancel):
        release.wait(30)
        return quick(None, cancel)

    try:
        jobs.start("a" * 16, quick, str)
        jobs.start("b" * 16, slow, str)
        deadline = time.monotonic() + 30
        while jobs.get("a" * 16).state != "done":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert jobs.sweep(3600) == ["b" * 16]  # done a moment ago: kept for now
        assert jobs.get("a" * 16).state == "done"
        assert jobs.sweep(0.0) == ["b" * 16]  # finished longer ago than 0 s: forgotten
        with pytest.raises(Exception, match="no job"):
            jobs.get("a" * 16)
        assert jobs.get("b" * 16).state in ("queued", "running")
    finally:
        release.set()
        jobs.shutdown()
