"""Clips through the bundled ffmpeg: probe, rotation, shots, keyframes, frames."""

from __future__ import annotations

import re
import subprocess
import threading
from datetime import datetime, timezone

import numpy as np
import pytest

from creator.errors import Cancelled, MediaError
from creator.media import detect_shots, keyframe_times, load_media, read_frames
from creator.media.ffmpeg import parse_location, parse_stamp, parse_time, probe, run_ffmpeg
from tests.factories import ffmpeg, make_clip

CREATED = datetime(2024, 5, 1, 10, 0, 0)


def _local(dt_utc: datetime) -> datetime:
    return dt_utc.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


def test_mp4_rotated_with_audio_and_creation_time(tmp_path):
    path = make_clip(tmp_path / "a.mp4", duration=3.0, fps=25, rotate=90, creation_time=CREATED)
    [item] = load_media([path])
    assert item.error is None, item.error
    clip = item.clip
    assert item.kind == "clip"
    assert clip.duration == pytest.approx(3.0, abs=0.1)
    assert clip.fps == pytest.approx(25.0)
    assert clip.rotation == 90
    assert (clip.width, clip.height) == (240, 320)  # as displayed
    assert (item.width, item.height) == (240, 320)
    assert clip.codec == "h264" and clip.has_audio
    assert item.taken_at == _local(CREATED)
    # The frames come out upright too.
    [frame] = read_frames(path, [1.0], max_side=None)
    assert frame.size == (240, 320)


def test_mov_without_audio_rotated_270(tmp_path):
    path = make_clip(tmp_path / "b.mov", duration=2.0, fps=30, audio=False, rotate=270, size=(320, 180))
    [item] = load_media([path])
    assert item.error is None, item.error
    assert item.clip.rotation == 270 and (item.width, item.height) == (180, 320)
    assert not item.clip.has_audio and item.taken_at is None
    assert item.clip.fps == pytest.approx(30.0)


def test_webm_vp9(tmp_path):
    path = make_clip(tmp_path / "c.webm", duration=2.0, size=(256, 144))
    [item] = load_media([path])
    assert item.error is None, item.error
    assert item.clip.codec == "vp9" and item.clip.has_audio
    assert item.clip.duration == pytest.approx(2.0, abs=0.1)
    assert (item.clip.width, item.clip.height) == (256, 144)


def _cuts(shots):
    return [s.start for s in shots[1:]]


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_three_scenes_found_within_0_2_s(tmp_path, suffix):
    path = make_clip(tmp_path / f"scenes{suffix}", duration=6.0, scenes=3, size=(320, 240))
    [item] = load_media([path])
    shots = item.clip.shots
    assert len(shots) == 3, shots
    assert _cuts(shots) == [pytest.approx(2.0, abs=0.2), pytest.approx(4.0, abs=0.2)]
    assert shots[0].start == 0.0 and shots[-1].end == pytest.approx(6.0, abs=0.1)
    for s in shots:
        assert s.keyframes and all(s.start <= k < s.end for k in s.keyframes)
    # Keyframes of different shots show different pictures.
    frames = read_frames(path, [s.keyframes[0] for s in shots], max_side=160)
    means = [np.asarray(f).reshape(-1, 3).mean(axis=0) for f in frames]
    assert np.abs(means[0] - means[1]).sum() > 20 and np.abs(means[1] - means[2]).sum() > 20


def test_single_moving_shot_has_no_cut(tmp_path):
    path = make_clip(tmp_path / "one.mp4", duration=4.0, scenes=1)  # testsrc2: moving parts
    shots = detect_shots(path)
    assert len(shots) == 1
    assert shots[0].motion is not None and shots[0].motion > 0


def test_cut_between_codec_keyframes(tmp_path):
    """1 s GOPs without scene-cut keyframes, and a cut at 4.4 s: the keyframe pass must
    flag the GOP and the fine pass must place the cut."""
    path = tmp_path / "gop.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error",
                    "-f", "lavfi", "-t", "4.4", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-t", "3.6", "-i", "smptebars=size=320x240:rate=25",
                    "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v]",
                    "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", str(path)],
                   check=True, capture_output=True)
    shots = detect_shots(path)
    assert _cuts(shots) == [pytest.approx(4.4, abs=0.1)]
    # Keyframe times of the 4.4 s shot: one near its middle, on a codec keyframe (2.0).
    assert shots[0].keyframes == [2.0]
    assert shots[0].sharpness is not None and 0 < shots[0].sharpness <= 1


def test_keyframe_times_rule():
    assert keyframe_times(0.0, 3.0) == [1.5]
    assert keyframe_times(10.0, 26.0) == [12.0, 16.0, 20.0, 24.0]
    assert keyframe_times(0.0, 3.0, anchors=[1.4, 2.9]) == [1.4]
    assert keyframe_times(0.0, 3.0, anchors=[0.1]) == [1.5]  # too far from the middle


def test_read_frames_sizes_order_and_end(tmp_path):
    path = make_clip(tmp_path / "f.mp4", duration=3.0, scenes=3, size=(320, 240), audio=False)
    frames = read_frames(path, [0.5, 2.5, 1.5, 99.0], max_side=100)
    assert [f.size for f in frames] == [(100, 75)] * 4
    assert all(f.mode == "RGB" for f in frames)
    a, b, c, end = (np.asarray(f).astype(int) for f in frames)
    assert np.abs(b - end).mean() < np.abs(b - a).mean()  # past the end: the last scene
    assert np.abs(a - c).mean() > 10


def test_probe_rejects_non_video(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"\x00\x01not really a movie" * 50)
    with pytest.raises(MediaError, match=r"x\.mp4"):
        probe(bad)
    audio = tmp_path / "tone.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-t", "1", "-i",
                    "sine=frequency=440", "-c:a", "aac", str(audio)], check=True)
    with pytest.raises(MediaError, match="no video stream"):
        probe(audio)


def _ffmpeg_children() -> list[int]:
    """Process ids of this process's children that run ffmpeg (from /proc)."""
    import os
    from pathlib import Path

    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            if ppid == os.getpid() and "ffmpeg" in (stat.parent / "cmdline").read_bytes().decode(errors="replace"):
                kids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def test_run_ffmpeg_error_and_cancel():
    """An endless ffmpeg is stopped by the cancel event: Cancelled, and no ffmpeg left
    running. (How soon: tests/benchmarks/bench_cancel.py.)"""
    with pytest.raises(MediaError, match="ffmpeg failed"):
        run_ffmpeg(["-f", "lavfi", "-i", "nosuchsource", "-f", "null", "-"])
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    # the timeout only keeps a broken cancel from hanging the suite: it raises MediaError
    with pytest.raises(Cancelled):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc2=rate=25", "-f", "null", "-"], cancel=stop, timeout=60)
    timer.join()
    assert _ffmpeg_children() == []


def test_parse_time():
    assert parse_time("2024-05-01T10:00:00.000000Z") == _local(datetime(2024, 5, 1, 10))
    assert parse_time("2024-05-01T18:00:00+0800") == datetime(2024, 5, 1, 18)  # keeps wall clock
    assert parse_time("1904-01-01T00:00:00.000000Z") is None
    assert parse_time("garbage") is None


def test_parse_stamp_and_location():
    # a UTC stamp: this computer's wall clock, and its offset at that instant
    utc = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    local, offset = parse_stamp("2024-05-01T10:00:00.000000Z")
    assert local == _local(datetime(2024, 5, 1, 10))
    assert offset == int(utc.astimezone().utcoffset().total_seconds() // 60)
    assert parse_stamp("2024-05-01T18:00:00+0800") == (datetime(2024, 5, 1, 18), 480)
    assert parse_stamp("2024-05-01T06:30:00-0330") == (datetime(2024, 5, 1, 6, 30), -210)
    assert parse_stamp("2024-05-01 10:00:00") == (datetime(2024, 5, 1, 10), None)  # no zone
    assert parse_stamp("garbage") == (None, None)
    assert parse_location("+30.2500+120.1500/") == (30.25, 120.15)
    assert parse_location("+35.0100+135.7700+045.200/") == (35.01, 135.77)
    assert parse_location("-33.8688-070.6693/") == (-33.8688, -70.6693)
    for bad in ("", "+0000.0000+00000.0000/", "+95.0+10.0/", "+3015.00+12009.00/", "here"):
        assert parse_location(bad) is None, bad


def test_a_clip_s_position_and_instant_reach_the_item(tmp_path):
    """A phone clip's ISO 6709 location and UTC creation time: its place, and the sun
    (dusk in a Kyoto December, 08:40 UTC = 17:40 JST) follow."""
    from creator.understanding.sun import item_sun

    clip = make_clip(tmp_path / "岚山" / "黄昏.mp4", duration=1.0, audio=False,
                     creation_time=datetime(2026, 12, 4, 8, 40), location="+35.0100+135.7700/")
    [item] = load_media([clip])
    assert item.ok and item.gps is not None and (item.gps.lat, item.gps.lon) == (35.01, 135.77)
    assert item.utc_offset is not None
    assert item_sun(item) == pytest.approx(-11.2, abs=0.5)
    plain = make_clip(tmp_path / "无位置.mp4", duration=1.0, audio=False)
    [bare] = load_media([plain])
    assert bare.gps is None and bare.utc_offset is None and item_sun(bare) is None


def _garbled(tmp_path, name: str):
    """A clip whose header is intact (moov first) but whose picture data is noise: the
    probe succeeds, every decode fails."""
    good = make_clip(tmp_path / "好.mp4", duration=2.0)
    fast = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(good), "-c", "copy",
                    "-movflags", "+faststart", str(fast)], check=True)
    data = bytearray(fast.read_bytes())
    rng = np.random.default_rng(1)
    start = data.find(b"mdat") + 100
    data[start::7] = rng.integers(0, 256, len(data[start::7]), dtype=np.uint8).tobytes()
    bad = tmp_path / name
    bad.write_bytes(bytes(data))
    return good, bad


def test_a_clip_that_cannot_be_decoded_gets_one_line_naming_it(tmp_path):
    good, bad = _garbled(tmp_path, "坏的 视频.mp4")
    assert probe(bad)["duration"]  # the header still reads
    items = {i.path.rsplit("/", 1)[-1]: i for i in load_media([good, bad])}
    assert items["好.mp4"].ok
    err = items["坏的 视频.mp4"].error
    assert re.fullmatch(r"坏的 视频\.mp4: not a readable video "
                        r"\((no frame could be decoded|invalid data|corrupt video data)\)", err), err
    with pytest.raises(MediaError) as e:
        read_frames(bad, [0.5])
    assert "\n" not in str(e.value) and str(e.value).startswith("坏的 视频.mp4: not a readable video")
    assert "ffmpeg failed" in str(e.value.__cause__)  # the full log stays on the cause
