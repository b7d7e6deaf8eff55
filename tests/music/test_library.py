"""Scanning, metadata, the persistent index, and decoding through ffmpeg."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from creator.errors import MediaError
from creator.music.decode import decode, decode_ffmpeg
from creator.music.library import default_library_dir, index_library, load_index, read_metadata
from tests.factories import ffmpeg, make_click_track, make_mixed_library, make_tone


@pytest.fixture()
def lib(tmp_path):
    return make_mixed_library(tmp_path / "我的音乐")


def test_index_reindex_skip_drop_and_report(lib, tmp_path):
    idx_dir = tmp_path / "index"
    seen = []
    r1 = index_library(lib, idx_dir, progress=lambda d, t, p: seen.append((d, t)))
    assert seen[-1] == (4, 4)  # four audio files, the .txt ignored
    assert len(r1.added) == 4 and r1.unchanged == 0
    assert [p for p, _ in r1.failed] == [str((lib / "坏的.mp3").resolve())]
    assert r1.silent == [str((lib / "静音.wav").resolve())]
    usable = {t.title for t in r1.index.usable}
    assert usable == {"节拍 120", "和弦"}
    assert r1.path.is_file() and not list(r1.path.parent.glob("*.tmp"))
    # unchanged: nothing re-analysed
    r2 = index_library(lib, idx_dir)
    assert r2.unchanged == 4 and not r2.added and not r2.updated
    # deleted file dropped; renamed file keeps its analysis (same content hash)
    (lib / "子目录" / "和弦.flac").rename(lib / "子目录" / "改名.flac")
    (lib / "节拍_120.wav").unlink()
    r3 = index_library(lib, idx_dir)
    assert str((lib / "节拍_120.wav").resolve()) in r3.removed
    assert r3.updated == [str((lib / "子目录" / "改名.flac").resolve())] and not r3.added
    assert {t.title for t in r3.index.usable} == {"改名"}
    loaded = load_index(lib, idx_dir)
    assert loaded is not None and len(loaded.tracks) == 3


def test_sidecar_and_tags(tmp_path):
    import mutagen.flac

    root = tmp_path / "lib"
    p = make_tone(root / "a.flac", freqs=(440.0, 554.37, 659.25), duration=3)
    f = mutagen.flac.FLAC(str(p))
    f["title"] = "海边的傍晚"
    f["artist"] = "某乐队"
    f["genre"] = "lofi"
    f["comment"] = "for slow evenings"
    f.save()
    meta = read_metadata(p)
    assert meta["title"] == "海边的傍晚" and meta["artist"] == "某乐队"
    assert meta["genre"] == "lofi" and meta["comment"] == "for slow evenings"
    p.with_suffix(".json").write_text(json.dumps({"title": "Sea", "license": "CC-BY-4.0",
                                                  "moods": ["calm", "tender"]}), "utf-8")
    meta = read_metadata(p)
    assert meta["title"] == "Sea" and meta["license"] == "CC-BY-4.0"
    assert meta["declared_moods"] == {"calm": 1.0, "tender": 1.0}
    r = index_library(root, tmp_path / "ix")
    t = r.index.usable[0]
    assert t.title == "Sea" and t.declared_moods and t.artist == "某乐队"
    # a sidecar edit alone is picked up
    p.with_suffix(".json").write_text(json.dumps({"title": "Sea 2"}), "utf-8")
    r = index_library(root, tmp_path / "ix")
    assert r.index.usable[0].title == "Sea 2"


def test_ffmpeg_fallback_for_m4a(tmp_path):
    wav = make_tone(tmp_path / "t.wav", freqs=(440.0,), duration=2)
    m4a = tmp_path / "音.m4a"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "aac", str(m4a)],
                   check=True)
    y = decode(m4a)  # soundfile cannot read m4a: goes through ffmpeg
    assert abs(len(y) / 22050 - 2.0) < 0.1
    spec = np.abs(np.fft.rfft(y[2000:2000 + 8192]))
    assert abs(np.argmax(spec) * 22050 / 8192 - 440) < 5
    with pytest.raises(MediaError):
        decode_ffmpeg(tmp_path / "missing.m4a")


def test_demo_library_decodes_and_has_license():
    tracks = sorted(default_library_dir().glob("*/*.opus"))
    assert len(tracks) == 28
    y = decode(tracks[0])
    assert 25 < len(y) / 22050 < 40


def test_bad_library_argument(tmp_path):
    # a missing folder is media that is not there (exit 1, as for missing photos)
    with pytest.raises(MediaError, match="library"):
        index_library(tmp_path / "nope", tmp_path / "ix")


def test_bad_files_are_skipped_one_by_one_and_loops_not_followed(tmp_path):
    """Issue 11 item 8: a symlink loop made the whole index fail (a traceback, nothing
    saved); a FIFO would hang it. Each is now one failed entry naming the file."""
    import os

    root = tmp_path / "音乐"
    make_click_track(root / "好的.wav", bpm=120, duration=6)
    make_tone(root / "子目录" / "和弦.flac", freqs=(440.0, 554.37, 659.25), duration=4)
    os.symlink("环_乙.mp3", root / "环_甲.mp3")  # a file symlink loop
    os.symlink("环_甲.mp3", root / "环_乙.mp3")
    os.symlink("..", root / "子目录" / "回到上层")  # a folder loop
    os.symlink(root / "子目录", root / "链接目录")  # a second way into one folder
    os.mkfifo(root / "管道.ogg")
    os.symlink("不存在.wav", root / "断链.wav")
    r = index_library(root, tmp_path / "索引")
    usable = sorted(t.title for t in r.index.usable)
    assert usable == ["和弦", "好的"]  # each once: the loop and the second link add nothing
    failed = dict(r.failed)
    assert "symlink loop" in failed[str(root / "环_甲.mp3")]
    assert "symlink loop" in failed[str(root / "环_乙.mp3")]
    assert "not a regular file" in failed[str(root / "管道.ogg")]
    assert "cannot read" in failed[str(root / "断链.wav")]
    assert load_index(root, tmp_path / "索引") is not None


def test_undecodable_file_name_is_reported_not_fatal(tmp_path):
    import os

    root = tmp_path / "lib"
    make_click_track(root / "ok.wav", bpm=100, duration=5)
    bad = os.path.join(os.fsencode(root), b"bad\xff.wav")
    with open(bad, "wb") as f:
        f.write((root / "ok.wav").read_bytes())
    r = index_library(root, tmp_path / "ix")
    assert [t.title for t in r.index.usable] == ["ok"]
    assert any("not valid UTF-8" in e and "bad\ufffd.wav" in p for p, e in r.failed)
    json.dumps(r.failed, ensure_ascii=False).encode("utf-8")  # printable and storable


def test_an_interrupted_index_keeps_what_was_analysed(tmp_path, monkeypatch):
    """The index is saved as it goes (and on the way out of a failure): a run stopped
    after two tracks keeps both, and the next run does not analyse them again."""
    from creator.music import library

    root = tmp_path / "曲库"
    for k in range(4):
        make_click_track(root / f"曲{k}.wav", bpm=90 + 10 * k, duration=5)
    ix = tmp_path / "索引"
    monkeypatch.setattr(library, "SAVE_EVERY", 0.0)
    on_disk = []

    def stop_after_two(done, total, path):
        idx = load_index(root, ix)
        on_disk.append(len(idx.tracks) if idx else 0)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index_library(root, ix, progress=stop_after_two)
    assert on_disk == [1, 2]  # saved after each analysed track, before it was reported
    kept = load_index(root, ix)
    assert sorted(t.title for t in kept.tracks) == ["曲0", "曲1"]
    r = index_library(root, ix)
    assert r.unchanged == 2 and len(r.added) == 2 and len(r.index.usable) == 4


def test_index_file_is_written_like_any_file_and_unsavable_index_is_a_warning(tmp_path):
    import os
    import stat

    from creator.drafts import _UMASK

    root = tmp_path / "lib"
    make_click_track(root / "a.wav", bpm=120, duration=5)
    r = index_library(root, tmp_path / "ix")
    assert stat.S_IMODE(r.path.stat().st_mode) == 0o666 & ~_UMASK  # not mkstemp's 0600
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    r = index_library(root, blocker / "ix")  # the index folder cannot be made
    assert [t.title for t in r.index.usable] == ["a"]
    assert r.warnings and "cannot save the index" in r.warnings[0]
