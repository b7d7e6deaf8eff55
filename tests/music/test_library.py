"""Scanning, metadata, the persistent index, and decoding through ffmpeg."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from creator.errors import InputError, MediaError
from creator.music.decode import decode, decode_ffmpeg
from creator.music.library import default_library_dir, index_library, load_index, read_metadata
from tests.factories import ffmpeg, make_click_track, make_tone


@pytest.fixture()
def lib(tmp_path):
    root = tmp_path / "我的音乐"
    make_click_track(root / "节拍_120.wav", bpm=120, duration=8)
    make_tone(root / "sub" / "和弦.flac", freqs=(523.25, 659.25, 783.99), duration=6)
    make_tone(root / "silence.wav", freqs=(440.0,), duration=3, amplitude=0.0)
    (root / "broken.mp3").write_bytes(b"ID3\x03\x00 this is not audio" * 20)
    (root / "notes.txt").write_text("not music")
    return root


def test_index_reindex_skip_drop_and_report(lib, tmp_path):
    idx_dir = tmp_path / "index"
    seen = []
    r1 = index_library(lib, idx_dir, progress=lambda d, t, p: seen.append((d, t)))
    assert seen[-1] == (4, 4)  # four audio files, the .txt ignored
    assert len(r1.added) == 4 and r1.unchanged == 0
    assert [p for p, _ in r1.failed] == [str((lib / "broken.mp3").resolve())]
    assert r1.silent == [str((lib / "silence.wav").resolve())]
    usable = {t.title for t in r1.index.usable}
    assert usable == {"节拍 120", "和弦"}
    assert r1.path.is_file() and not list(r1.path.parent.glob("*.tmp"))
    # unchanged: nothing re-analysed
    r2 = index_library(lib, idx_dir)
    assert r2.unchanged == 4 and not r2.added and not r2.updated
    # deleted file dropped; renamed file keeps its analysis (same content hash)
    (lib / "sub" / "和弦.flac").rename(lib / "sub" / "改名.flac")
    (lib / "节拍_120.wav").unlink()
    r3 = index_library(lib, idx_dir)
    assert str((lib / "节拍_120.wav").resolve()) in r3.removed
    assert r3.updated == [str((lib / "sub" / "改名.flac").resolve())] and not r3.added
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
    with pytest.raises(InputError, match="library"):
        index_library(tmp_path / "nope", tmp_path / "ix")
