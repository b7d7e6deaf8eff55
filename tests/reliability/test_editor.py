"""The editor under hostile input (issue 11, item 12): what a browser can make the server
read, store and keep running.

- the folder field: off unless the editor serves on loopback (or a setting allows it),
  only inside Settings.ui.local_roots, one message whatever the reason, a bounded walk;
- uploads: a size and a pixel budget (the pixels read from the header, never decoded),
  names sanitised (NUL, separators, '..') and stored inside <draft>/media;
- a generation stops when its browser session ends (the SDK's `cancel`).

The Start page runs in AppTest (as tests/ui do) over the real SDK.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from creator.assistant import Assistant
from creator.config import Settings, UISettings
from creator.errors import Cancelled, InputError
from creator.media import iter_media_files
from creator.understanding import understand
from tests.factories import make_photo
from tests.ui.conftest import drafts_root, music_library, ui_environment  # noqa: F401  (fixtures)
from ui.panels import start

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


def _no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header says width×height (RGBA) with a few bytes of data: what a
    1.4 MB decompression bomb looks like to a reader of the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def roots(tmp_path, monkeypatch) -> Path:
    """A root the folder field may read (Chinese name), and the editor 'on 127.0.0.1'."""
    root = tmp_path / "我的照片"
    root.mkdir()
    monkeypatch.setenv("CREATOR_UI_HOST", "127.0.0.1")
    monkeypatch.setenv("CREATOR_UI__LOCAL_ROOTS", f'["{root}"]')
    return root


# -- the folder field: when it is there ---------------------------------------------------

@pytest.mark.parametrize("host, setting, shown", [
    (None, None, False),  # Streamlit with no address listens on every interface
    ("0.0.0.0", None, False),
    ("192.168.1.20", None, False),
    ("myserver.local", None, False),
    ("127.0.0.1", None, True),
    ("::1", None, True),
    ("localhost", None, True),
    ("0.0.0.0", True, True),  # the setting allows it
    ("127.0.0.1", False, False),  # the setting turns it off
])
def test_the_folder_field_is_on_only_on_loopback_or_by_setting(host, setting, shown, monkeypatch, drafts_root):
    monkeypatch.delenv("CREATOR_UI_HOST", raising=False)
    if host:
        monkeypatch.setenv("CREATOR_UI_HOST", host)
    if setting is not None:
        monkeypatch.setenv("CREATOR_UI__LOCAL_FOLDERS", str(setting).lower())
    at = AppTest.from_file(APP, default_timeout=60).run()
    _no_exceptions(at)
    labels = [w.label for w in at.text_input]
    assert (start.t("folder") in labels) is shown, (host, setting, labels)


def test_no_roots_no_folder_field(monkeypatch):
    monkeypatch.setenv("CREATOR_UI_HOST", "127.0.0.1")
    assert start.local_folders_allowed(UISettings())
    assert not start.local_folders_allowed(UISettings(local_roots=[]))
    assert Settings().ui.local_roots == [Path.home()]  # the documented default


# -- the folder field: what it may read ---------------------------------------------------

def test_outside_the_roots_and_missing_read_the_same(roots, tmp_path):
    ui = Settings().ui
    inside = roots / "杭州"
    inside.mkdir()
    (roots / "照片.jpg").write_bytes(b"x")
    outside = tmp_path / "别人的文件夹"
    outside.mkdir()
    (roots / "链接").symlink_to(outside)  # a link inside the root, leading out
    assert start.local_folder(str(inside), ui) == inside.resolve()
    assert start.local_folder(str(roots), ui) == roots.resolve()
    refused = [
        "/", "/etc", str(outside),  # they exist
        "/no/such/文件夹", str(roots / "没有"),  # they don't
        str(roots / "照片.jpg"),  # a file, not a folder
        str(roots / "链接"), str(roots / ".." / outside.name),  # the way out
        "我的照片", "../..",  # relative: against the server's working folder
        str(roots) + "\0/x",  # a NUL byte
    ]
    messages = set()
    for path in refused:
        with pytest.raises(InputError) as e:
            start.local_folder(path, ui)
        assert path in str(e.value)
        messages.add(str(e.value).replace(path, "<path>"))
    assert len(messages) == 1, messages  # nothing tells a missing path from a forbidden one


def test_typing_a_slash_reads_nothing(roots, drafts_root):
    at = AppTest.from_file(APP, default_timeout=60).run()
    folder = [w for w in at.text_input if w.label == start.t("folder")][0]
    t0 = time.monotonic()
    folder.set_value("/")
    at.button[0].click().run()
    _no_exceptions(at)
    assert time.monotonic() - t0 < 10
    assert at.error and at.error[0].value == start.t("folder_refused", path="/")
    assert not drafts_root.exists() or not any(drafts_root.iterdir())


def test_a_huge_folder_is_refused_after_a_bounded_walk(roots, monkeypatch, drafts_root):
    trip = roots / "一万张"
    for k in range(30):
        (trip / f"子{k % 3}").mkdir(parents=True, exist_ok=True)
        (trip / f"子{k % 3}" / f"照片{k}.jpg").write_bytes(b"x")
    monkeypatch.setenv("CREATOR_UI__FOLDER_MAX_FILES", "20")
    at = AppTest.from_file(APP, default_timeout=60).run()
    [w for w in at.text_input if w.label == start.t("folder")][0].set_value(str(trip))
    at.button[0].click().run()
    _no_exceptions(at)
    assert at.error and str(trip) in at.error[0].value and "20" in at.error[0].value
    assert not drafts_root.exists() or not any(drafts_root.iterdir())
    # the other bound: files looked at, media or not
    ui = UISettings(local_roots=[roots], folder_max_files=100, folder_max_entries=25)
    with pytest.raises(InputError, match="25"):
        start.folder_media(trip.resolve(), ui)


def test_an_unreadable_subfolder_is_said_not_skipped_silently(roots, monkeypatch):
    trip = roots / "旅行"
    (trip / "锁住的").mkdir(parents=True)
    (trip / "锁住的" / "1.jpg").write_bytes(b"x")
    (trip / "2.jpg").write_bytes(b"x")
    locked = (trip / "锁住的").resolve()
    real_scandir = os.scandir

    def scandir(path="."):  # what a folder without read permission gives (tests run as root)
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, notes = start.folder_media(trip.resolve(), UISettings(local_roots=[roots]))
    assert files == [trip.resolve() / "2.jpg"]
    assert len(notes) == 1 and str(locked) in notes[0]


def test_the_bounded_walk_finds_what_the_sdk_would(roots, tmp_path):
    trip = roots / "旅行"
    for rel in ["b/2.jpg", "a.JPG", "b/c/3.mov", "d.png", ".hidden.jpg", ".隐藏/4.jpg", "说明.txt", "e.heic"]:
        (trip / rel).parent.mkdir(parents=True, exist_ok=True)
        (trip / rel).write_bytes(b"x")
    outside = tmp_path / "外面.jpg"
    outside.write_bytes(b"x")
    (trip / "外链.jpg").symlink_to(outside)  # a file link leading out of the roots
    (trip / "内链.jpg").symlink_to(trip / "d.png")
    ui = UISettings(local_roots=[roots])
    found, notes = start.folder_media(trip.resolve(), ui)
    assert notes == []
    expected = [p for p in iter_media_files(trip.resolve()) if p.name != "外链.jpg"]
    assert found == expected
    assert trip.resolve() / "外链.jpg" not in found and trip.resolve() / "内链.jpg" in found
    # RAW and TIFF files beside them are named in one note, as the SDK names them
    for rel in ["IMG_1.CR2", "b/IMG_2.cr2", "扫描.tiff"]:
        (trip / rel).write_bytes(b"x")
    found, notes = start.folder_media(trip.resolve(), ui)
    assert found == expected and len(notes) == 1 and ".cr2 ×2, .tiff ×1" in notes[0], notes


# -- uploads -----------------------------------------------------------------------------

class _Upload:
    """What the uploader hands the page: a name, a size, a buffer."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data, self.size = name, data, len(data)

    def getbuffer(self):
        return memoryview(self._data)


def test_the_pixel_budget_reads_the_header_only():
    import resource

    big = _Upload("超大全景.png", _png_header(12000, 10000))  # 120 MP, 480 MB as RGBA
    bomb = _Upload("炸弹.png", _png_header(19500, 19500))  # 380 MP: past PIL's own limit
    fine = _Upload("小图.png", _png_header(4000, 3000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = start.check_uploads([fine, big, bomb], UISettings())
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(problems) == 2
    assert problems[0].startswith("超大全景.png") and "12000×10000" in problems[0] and "100" in problems[0]
    assert problems[1].startswith("炸弹.png") and "380250000" in problems[1]
    assert grown_mb < 50  # nothing was decoded


def test_the_size_budgets_per_file_and_in_total():
    ui = UISettings(upload_max_mb=1, upload_total_mb=2.5, upload_max_pixels=10**9,
                    upload_total_pixels=30_000_000)
    mb = 1024 * 1024
    files = [_Upload(f"视频{k}.mp4", b"\0" * (mb - 10)) for k in range(3)] + [_Upload("太大.mp4", b"\0" * (2 * mb))]
    problems = start.check_uploads(files, ui)
    assert [p.split("：")[0] for p in problems] == ["视频2.mp4", "太大.mp4"]
    assert "2 MB" in problems[1] and "1 MB" in problems[1]
    photos = [_Upload(f"照片{k}.png", _png_header(4000, 3000)) for k in range(3)]  # 12 MP each
    assert [p.split("：")[0] for p in start.check_uploads(photos, ui)] == ["照片2.png"]


@pytest.mark.parametrize("given, stored", [
    ("西湖.jpg", "西湖.jpg"),
    ("西\x00湖.jpg", "西湖.jpg"),
    ("../../逃出去.jpg", "逃出去.jpg"),
    ("..\\..\\Windows\\逃出去.jpg", "逃出去.jpg"),
    ("/etc/cron.d/x.jpg", "x.jpg"),
    ("..", "upload"),
    ("", "upload"),
    ("\x00", "upload"),
    (".bashrc", "bashrc"),
    ("照片\n\r\t.png", "照片.png"),
    ("..jpg", "upload.jpg"),
])
def test_upload_names_are_plain_file_names(given, stored):
    assert start.safe_name(given) == stored


def test_a_long_upload_name_keeps_its_suffix():
    name = start.safe_name("长" * 200 + ".jpeg")
    assert name.endswith(".jpeg") and len(name.encode()) <= 180 and name.startswith("长")


def test_uploads_are_stored_sanitised_inside_the_draft(drafts_root, tmp_path):
    from creator.types import Draft

    from datetime import datetime

    photos = [make_photo(tmp_path / f"p{k}.jpg", size=(320, 240), taken_at=datetime(2025, 10, 3, 9 + k))
              for k in range(3)]
    names = ["西湖.jpg", "../../../逃出去.jpg", "..\\灵隐寺.jpg"]
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.file_uploader[0].set_value([(n, p.read_bytes(), "image/jpeg") for n, p in zip(names, photos)]).run()
    at.button[0].click().run()
    _no_exceptions(at)
    folder = drafts_root / at.query_params["draft"]
    media = folder / "media"
    assert sorted(p.name for p in media.iterdir()) == ["灵隐寺.jpg", "西湖.jpg", "逃出去.jpg"]
    assert [p.read_bytes() for p in sorted(media.iterdir())] == [
        photos[2].read_bytes(), photos[0].read_bytes(), photos[1].read_bytes()]
    assert sorted(Path(i.path).name for i in Draft.load(folder).context.items) == sorted(p.name for p in media.iterdir())
    # nothing escaped the drafts folder, no temporary left behind
    assert {p.name for p in tmp_path.iterdir()} == {"p0.jpg", "p1.jpg", "p2.jpg", "草稿"}
    assert not [p for p in folder.rglob("*.part")]


def test_over_budget_uploads_are_refused_by_name(drafts_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CREATOR_UI__UPLOAD_MAX_PIXELS", "50000000")
    ok = make_photo(tmp_path / "正常.jpg", size=(320, 240))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.file_uploader[0].set_value([("正常.jpg", ok.read_bytes(), "image/jpeg"),
                                   ("炸弹.png", _png_header(19500, 19500), "image/png")]).run()
    at.button[0].click().run()
    _no_exceptions(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("炸弹.png")
    assert not drafts_root.exists() or not any(drafts_root.iterdir())  # nothing stored, nothing run


# -- cancel --------------------------------------------------------------------------------

def _trip(folder: Path, n: int) -> list[Path]:
    from datetime import datetime

    return [make_photo(folder / f"照片{k:02d}.jpg", ["china", "flower", None][k % 3], size=(200, 150),
                       taken_at=datetime(2025, 10, 3, 8 + k // 60, k % 60)) for k in range(n)]


def test_understand_stops_between_items(tmp_path):
    _trip(tmp_path / "旅行", 12)
    cancel = threading.Event()
    seen: list[tuple] = []

    def progress(stage, done, total):
        seen.append((stage, done))
        if stage == "load" and done == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        understand([tmp_path / "旅行"], Settings(), progress=progress, cancel=cancel)
    assert max(d for s, d in seen if s == "load") <= 4 and not any(s == "tag" for s, _ in seen)
    # once the items are loaded: between tagging batches
    cancel.clear()
    seen.clear()

    def progress2(stage, done, total):
        seen.append((stage, done))
        if stage == "tag":
            cancel.set()

    settings = Settings()
    settings.tagging.batch_size = 4
    with pytest.raises(Cancelled):
        understand([tmp_path / "旅行"], settings, progress=progress2, cancel=cancel)
    assert [d for s, d in seen if s == "tag"] == [4]


def test_create_stops_between_stages_and_saves_nothing(tmp_path):
    _trip(tmp_path / "旅行", 3)
    cancel = threading.Event()
    stages: list[str] = []

    def progress(stage, done, total):
        stages.append(stage)
        if stage == "caption" and done == 1:
            cancel.set()

    out = tmp_path / "草稿"
    with pytest.raises(Cancelled):
        Assistant().create([tmp_path / "旅行"], out_dir=out, progress=progress, cancel=cancel)
    assert "soundtrack" not in stages and "cover" not in stages
    assert not (out / "draft.json").exists()


def test_generation_stops_when_the_session_ends(roots, drafts_root):
    """AppTest stops a script that runs past its timeout the way Streamlit stops the
    script of a browser session that went away (ScriptRunner.request_stop): the
    generation's worker must stop soon after, and leave no draft behind."""
    _trip(roots / "长途旅行", 240)  # enough that the run outlasts the timeout even with warm models
    t0 = time.monotonic()
    at = AppTest.from_file(APP, default_timeout=60).run()
    [w for w in at.text_input if w.label == start.t("folder")][0].set_value(str(roots / "长途旅行"))
    at.button[0].click()
    with pytest.raises(RuntimeError, match="timed out"):
        at.run(timeout=2)
    stopped = time.monotonic()
    deadline = stopped + 60
    while any(t.name.startswith("ui-stage") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the generation kept running after its session ended"
        time.sleep(0.1)
    print(f"\nworker stopped {time.monotonic() - stopped:.1f} s after the session's script "
          f"(generation started {stopped - t0:.1f} s before)")
    assert not list(drafts_root.rglob("draft.json")) if drafts_root.exists() else True
    assert not drafts_root.exists() or not any(drafts_root.iterdir())  # its folder is gone too
