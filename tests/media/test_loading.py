"""Batch loading: file discovery, ids, bad files, Chinese names, originals untouched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from creator.media import (SUPPORTED_CLIP, SUPPORTED_PHOTO, content_id, iter_media_files,
                           load_media)
from tests.factories import make_clip, make_photo


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_suffix_sets():
    assert ".jpg" in SUPPORTED_PHOTO and "HEIC" in SUPPORTED_PHOTO and "webp" in SUPPORTED_PHOTO
    assert ".MOV" in SUPPORTED_CLIP and ".m4v" in SUPPORTED_CLIP
    assert ".mp4" not in SUPPORTED_PHOTO and ".txt" not in SUPPORTED_CLIP and "" not in SUPPORTED_CLIP
    assert sorted(SUPPORTED_CLIP) == [".m4v", ".mov", ".mp4", ".webm"]


def test_iter_media_files(tmp_path):
    make_photo(tmp_path / "b.JPG")
    make_photo(tmp_path / "a.png")
    make_photo(tmp_path / "sub" / "c.webp")
    make_photo(tmp_path / ".hidden.jpg")
    make_photo(tmp_path / ".cache" / "d.jpg")
    (tmp_path / "notes.txt").write_text("hi")
    explicit = tmp_path / "notes.txt"
    found = iter_media_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.png", "b.JPG", "sub/c.webp"]
    assert [p.name for p in iter_media_files(tmp_path, recursive=False)] == ["a.png", "b.JPG"]
    # An explicitly named file is kept whatever it is; duplicates are dropped.
    both = iter_media_files([explicit, tmp_path, tmp_path / "a.png"])
    assert both[0] == explicit and len(both) == 4


def test_content_id_is_content_hash(tmp_path):
    a = make_photo(tmp_path / "a.jpg")
    b = tmp_path / "copy of a.jpg"
    shutil.copyfile(a, b)
    assert content_id(a) == content_id(b) == hashlib.sha256(a.read_bytes()).hexdigest()[:16]
    items = load_media([a, b])
    assert items[0].id == items[1].id == content_id(a)
    assert items[0].path != items[1].path


def _bad_files(folder: Path) -> dict[str, Path]:
    good = make_photo(folder / "good.jpg")
    files = {"good": good}
    files["zero"] = folder / "zero.jpg"
    files["zero"].write_bytes(b"")
    files["truncated"] = folder / "truncated.jpg"
    data = make_photo(folder / "src" / "full.jpg", "china", quality=95).read_bytes()
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["text"] = folder / "text.jpg"
    files["text"].write_text("this is not a photo\n")
    files["corrupt_mp4"] = folder / "corrupt.mp4"
    clip = make_clip(folder / "src" / "ok.mp4", duration=1.0).read_bytes()
    files["corrupt_mp4"].write_bytes(clip[:600])  # the moov box is at the end: cut off
    files["garbage_mov"] = folder / "garbage.mov"
    files["garbage_mov"].write_bytes(os.urandom(4096))
    files["unsupported"] = folder / "readme.txt"
    files["unsupported"].write_text("hello")
    files["dir_named_jpg"] = folder / "album.jpg"
    files["dir_named_jpg"].mkdir()
    return files


def test_bad_files_get_clear_errors_and_the_batch_goes_on(tmp_path):
    files = _bad_files(tmp_path)
    missing = tmp_path / "missing.jpg"
    order = [files["zero"], files["truncated"], files["text"], files["corrupt_mp4"], missing,
             files["garbage_mov"], files["unsupported"], files["good"]]
    seen = []
    items = load_media(order, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, len(order)) for i in range(1, len(order) + 1)]
    by_name = {Path(i.path).name: i for i in items}
    assert by_name["good.jpg"].error is None and by_name["good.jpg"].width == 640
    expected = {
        "zero.jpg": "empty file",
        "truncated.jpg": "truncated",
        "text.jpg": "not a valid image",
        "corrupt.mp4": "not a readable video",
        "missing.jpg": "file not found",
        "garbage.mov": "not a readable video",
        "readme.txt": "unsupported file type '.txt'",
    }
    for name, words in expected.items():
        err = by_name[name].error
        assert err is not None and words in err, (name, err)
        assert err.startswith(name), err  # names the file
        assert len(by_name[name].id) == 16
    # A folder named like a photo is walked as a folder (here: empty), not read as a photo.
    assert load_media([files["dir_named_jpg"]]) == []
    # a pipe or a device named like a photo is said to be one (it was "empty file (0 bytes)")
    fifo = tmp_path / "管道.jpg"
    os.mkfifo(fifo)
    device = tmp_path / "零.jpg"
    device.symlink_to("/dev/zero")
    for item in load_media([fifo, device]):
        assert item.error and "not a regular file" in item.error, item.error


def test_unreadable_file(tmp_path):
    """chmod 000. Root reads anything, so as root the load runs in a forked child that has
    dropped to the 'nobody' user: a real permission error, nothing simulated."""
    if os.geteuid() != 0:
        path = make_photo(tmp_path / "锁住.jpg")
        path.chmod(0)
        try:
            errors = [i.error for i in load_media([path, make_photo(tmp_path / "ok.jpg")])]
        finally:
            path.chmod(0o644)
    else:
        folder = Path(tempfile.mkdtemp(prefix="creator-perm-"))
        try:
            folder.chmod(0o755)
            locked = make_photo(folder / "锁住.jpg")
            readable = make_photo(folder / "ok.jpg")
            locked.chmod(0)
            readable.chmod(0o644)
            errors = _load_as_nobody([locked, readable])
        finally:
            shutil.rmtree(folder)
    assert errors[0] is not None and "permission denied" in errors[0], errors
    assert errors[0].startswith("锁住.jpg")
    assert errors[1] is None


def _load_as_nobody(paths: list[Path]) -> list[str | None]:
    from tests.factories import as_nobody

    return as_nobody(lambda: [i.error for i in load_media(paths)])


def test_chinese_names_and_originals_unchanged(tmp_path):
    trip = tmp_path / "杭州"
    photo = make_photo(trip / "西湖 日落.jpg", "china", taken_at=datetime(2024, 4, 3, 18, 30),
                       gps=(30.2590, 120.1300), orientation=6)
    heic = make_photo(trip / "灵隐寺" / "大殿.heic", "flower")
    clip = make_clip(trip / "视频 一.mp4", duration=2.0, scenes=2, rotate=90)
    bad = trip / "坏的 照片.jpg"
    bad.write_text("不是图片")
    before = {p: _digest(p) for p in (photo, heic, clip, bad)}
    items = load_media([trip])
    after = {p: _digest(p) for p in (photo, heic, clip, bad)}
    assert before == after  # content and modification time untouched
    assert sorted(os.listdir(trip)) == sorted(["西湖 日落.jpg", "灵隐寺", "视频 一.mp4", "坏的 照片.jpg"])
    by_name = {Path(i.path).name: i for i in items}
    assert set(by_name) == {"西湖 日落.jpg", "大殿.heic", "视频 一.mp4", "坏的 照片.jpg"}
    assert by_name["西湖 日落.jpg"].error is None
    assert by_name["西湖 日落.jpg"].gps.lat == pytest.approx(30.259, abs=1e-4)
    assert by_name["大殿.heic"].error is None
    v = by_name["视频 一.mp4"]
    assert v.error is None and v.clip.rotation == 90 and len(v.clip.shots) == 2
    assert by_name["坏的 照片.jpg"].error.startswith("坏的 照片.jpg")
    assert all(Path(i.path).is_absolute() for i in items)


def _unlistable_folder(parent: Path) -> Path:
    """A real folder whose path is longer than the system allows (PATH_MAX, 4096 bytes):
    os.walk cannot list it, for root as for anyone. Made level by level through file
    descriptors, the only way to create it. Returns its top."""
    top = parent / "很深的文件夹"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(18):  # 18 x 241 bytes > 4096
            os.mkdir("深" * 80, dir_fd=fd)
            nfd = os.open("深" * 80, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        os.close(os.open("藏起来.jpg", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    return top


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped(tmp_path):
    trip = tmp_path / "旅行"
    make_photo(trip / "好.jpg")
    _unlistable_folder(trip)
    items = load_media([trip])
    assert [Path(i.path).name for i in items if i.ok] == ["好.jpg"]
    bad = [i for i in items if not i.ok]
    assert len(bad) == 1 and "folder cannot be read (file name too long)" in bad[0].error
    assert bad[0].error.startswith("深" * 80) and "skipped" in bad[0].error
    skipped: list = []
    assert [p.name for p in iter_media_files([trip], unreadable=skipped)] == ["好.jpg"]
    assert len(skipped) == 1 and skipped[0][0] == Path(bad[0].path)


def test_a_folder_without_read_permission_is_reported(tmp_path):
    """chmod 000 on a subfolder; as root the load runs as 'nobody' (see above)."""
    folder = Path(tempfile.mkdtemp(prefix="creator-perm-"))
    try:
        folder.chmod(0o755)
        make_photo(folder / "好.jpg").chmod(0o644)
        locked = folder / "锁住的文件夹"
        make_photo(locked / "里面.jpg")
        locked.chmod(0)
        if os.geteuid() != 0:
            errors = [i.error for i in load_media([folder])]
        else:
            errors = _load_as_nobody([folder])
        locked.chmod(0o755)
    finally:
        shutil.rmtree(folder)
    assert errors[0] is None
    assert errors[1] == ("锁住的文件夹: folder cannot be read (permission denied); "
                         "the photos and clips in it were skipped")


def test_a_name_that_is_not_utf8_is_reported_in_printable_text(tmp_path):
    """GBK bytes in a name (as an old zip leaves them) cannot go into JSON or a terminal:
    the item says so, and its path and error print as UTF-8."""
    good = make_photo(tmp_path / "好.jpg")
    odd = tmp_path / os.fsdecode(b"\xb0\xa1\xc4\xe3.jpg")
    shutil.copyfile(good, odd)
    items = load_media([tmp_path])
    bad = [i for i in items if not i.ok]
    assert len(bad) == 1 and "the file name is not valid UTF-8" in bad[0].error
    json.dumps([i.model_dump(mode="json") for i in items]).encode("utf-8")  # no surrogates left
    assert bad[0].error.startswith("\ufffd") and bad[0].path.endswith(".jpg")


def test_photo_warnings_name_their_file(tmp_path):
    from PIL import Image

    make_photo(tmp_path / "方向.jpg", orientation=9)
    (item,) = load_media([tmp_path / "方向.jpg"])
    assert item.ok and item.warnings and all(w.startswith("方向.jpg: ") for w in item.warnings)
    assert Image.open(tmp_path / "方向.jpg").getexif()[0x0112] == 9


def test_dates_in_the_future_are_dropped_with_a_warning(tmp_path):
    trip = tmp_path / "未来之旅"
    photo = make_photo(trip / "照片.jpg", taken_at=datetime(2099, 7, 1, 12, 0))
    # (an MP4 stores its date in 32-bit seconds since 1904: nothing after 2040 fits)
    clip = make_clip(trip / "视频.mp4", duration=1.0, creation_time=datetime(2039, 7, 1, 12, 0))
    ok = make_clip(trip / "昨天.mp4", duration=1.0, creation_time=datetime(2024, 5, 1, 10, 0))
    by_name = {Path(i.path).name: i for i in load_media([photo, clip, ok])}
    for name, year in (("照片.jpg", 2099), ("视频.mp4", 2039)):
        item = by_name[name]
        assert item.error is None and item.taken_at is None, name
        assert any(f"{year}-07-01" in w and "future" in w for w in item.warnings), (name, item.warnings)
    assert by_name["昨天.mp4"].taken_at is not None and by_name["昨天.mp4"].warnings == []


def test_photos_of_other_types_in_a_folder_are_named_once_not_skipped_in_silence(tmp_path):
    """RAW and TIFF files beside the JPEGs (RAW+JPEG shooting) are not read: one error item
    for the folder counts them by type; other files (sidecars, notes) are not media."""
    trip = tmp_path / "旅行 相册"
    make_photo(trip / "好.jpg")
    for name in ("IMG_1.CR2", "IMG_2.cr2", "扫描.tiff", "IMG_1.xmp", "说明.txt"):
        (trip / name).write_bytes(b"\0" * 16)
    items = load_media([trip])
    assert [Path(i.path).name for i in items if i.ok] == ["好.jpg"]
    bad = [i for i in items if not i.ok]
    assert len(bad) == 1 and Path(bad[0].path) == trip
    assert "3 files of a type not read here skipped (.cr2 ×2, .tiff ×1)" in bad[0].error
    assert ".xmp" not in bad[0].error and ".txt" not in bad[0].error and "jpg" in bad[0].error
    assert [p.name for p in iter_media_files([trip])] == ["好.jpg"]
