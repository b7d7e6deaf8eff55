"""Real renders with the bundled ffmpeg, small frames, probed and decoded back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creator.errors import Cancelled
from creator.types import Box, ClipInfo, Excerpt, MediaItem, Quality, Shot, TrackMatch
from pipelines.video import Pipeline, VideoRequest
from tests.factories import ffmpeg, make_click_track, make_clip, make_photo, make_tone

W, H, FPS = 270, 480, 30


def info(path: Path) -> dict:
    err = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    v = re.search(r"Video: (\w+).*?, (\d+)x(\d+).*?, ([\d.]+) fps", err)
    a = re.search(r"Audio: (\w+)", err)
    d = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    return {"vcodec": v[1], "size": (int(v[2]), int(v[3])), "fps": float(v[4]),
            "acodec": a[1] if a else None,
            "duration": int(d[1]) * 3600 + int(d[2]) * 60 + float(d[3])}


def frames(path: Path, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """Every decoded frame as RGB, (n, h, w, 3) uint8."""
    w, h = size
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-s", f"{w}x{h}", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def audio(path: Path, sr: int = 16000) -> np.ndarray:
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(sr),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def solid(path: Path, rgb: tuple[int, int, int], size=(400, 600)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, rgb).save(path, quality=95)
    return path


def photo_item(path: Path, i: int, **kw) -> MediaItem:
    return MediaItem(path=str(path), id=f"id{i}", kind="photo", **kw)


@pytest.fixture(scope="module")
def full_render(tmp_path_factory):
    """One render with everything: cover, photos, a clip with sound, music, captions, a bad file."""
    d = tmp_path_factory.mktemp("媒体")
    items = [
        photo_item(make_photo(d / "长城.jpg", "china", size=(640, 480)), 0),
        photo_item(make_photo(d / "宇航员.jpg", "astronaut", size=(400, 400)), 1,
                   quality=Quality(sharpness=0.8, exposure=0.9, colourfulness=0.5, score=0.8,
                                   faces=[Box(x0=0.4, y0=0.1, x1=0.6, y1=0.35)])),
    ]
    clip = make_clip(d / "游船.mp4", duration=4.0, size=(240, 320), fps=25, scenes=2)
    items.append(MediaItem(path=str(clip), id="clip", kind="clip", clip=ClipInfo(
        duration=4.0, fps=25, width=240, height=320, has_audio=True,
        shots=[Shot(start=0, end=2, sharpness=0.9, motion=0.1), Shot(start=2, end=4, sharpness=0.3)])))
    items.append(photo_item(make_photo(d / "咖啡.jpg", "coffee", size=(600, 400)), 3))
    items.append(photo_item(d / "不存在.jpg", 4))  # missing
    broken = d / "坏.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    items.append(photo_item(broken, 5))
    track_path, beats = make_click_track(d / "click.wav", bpm=100, duration=14.0)
    track = TrackMatch(track_id="t", title="click", path=str(track_path), score=1.0,
                       excerpt=Excerpt(start=0.0, end=14.0), beats=[float(b) for b in beats])
    cover = make_photo(d / "cover.png", "chelsea", size=(W, H))
    out = d / "输出" / "note.mp4"
    seen: list[float] = []
    result = Pipeline()(VideoRequest(items=items, output=out, cover_path=cover, title="西湖一日",
                                     captions={"id1": "断桥残雪", "clip": "游船"}, track=track,
                                     size=(W, H), fps=FPS, progress=seen.append))
    return result, out, cover, beats, seen


def test_output_probes_as_h264_aac_at_size_and_fps(full_render):
    result, out, *_ = full_render
    meta = info(out)
    assert meta["vcodec"] == "h264" and meta["acodec"] == "aac"
    assert meta["size"] == (W, H) and meta["fps"] == FPS
    assert (result.width, result.height, result.fps) == (W, H, FPS)
    # faststart: the moov box comes before the media data
    head = out.read_bytes()[:200_000]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")
    assert not list(out.parent.glob(".*part"))


def test_duration_matches_the_plan(full_render):
    result, out, *_ = full_render
    n = len(frames(out, (54, 96)))
    assert n == round(result.duration * FPS)
    assert abs(info(out)["duration"] - result.duration) < 0.06  # AAC frames overhang a little
    assert abs(len(audio(out)) / 16000 - result.duration) < 0.06
    assert 13.0 <= result.duration <= 14.0  # auto length: clamped to the 14 s excerpt, on a beat


def test_cuts_are_on_beats(full_render):
    result, _, _, beats, _ = full_render
    assert len(result.cuts) == 4  # cover, 3 photos and a clip: 5 slots
    for c in result.cuts:
        assert np.min(np.abs(beats - c)) <= 1 / FPS


def test_first_frame_is_the_cover(full_render):
    from PIL import ImageOps

    from creator.config import VideoSettings
    from pipelines.video.plan import safe_area
    from pipelines.video.render import cover_box

    _, out, cover, *_ = full_render
    # the whole cover, inside the safe area (the default safe zones)
    x0, y0, x1, y1 = cover_box((W, H), safe_area(VideoSettings(), (W, H)))
    im = ImageOps.contain(Image.open(cover).convert("RGB"), (x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    px, py = x0 + (x1 - x0 - im.width) // 2, y0 + (y1 - y0 - im.height) // 2
    first = frames(out)[0].astype(float)[py:py + im.height, px:px + im.width]
    want = np.asarray(im, float)
    assert np.abs(first - want).mean() < 6.0
    other = np.asarray(im.transpose(Image.Transpose.FLIP_TOP_BOTTOM), float)
    assert np.abs(first - other).mean() > 15.0  # the comparison can tell pictures apart


def test_bad_media_are_warnings_and_progress_is_reported(full_render):
    result, _, _, _, seen = full_render
    text = "\n".join(result.warnings)
    assert "不存在.jpg" in text and "坏.jpg" in text
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 3


def test_hard_cuts_land_on_the_planned_frames(tmp_path):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 30), (30, 220, 220)]
    items = [photo_item(solid(tmp_path / f"{i}.jpg", c), i) for i, c in enumerate(colours)]
    track_path, beats = make_click_track(tmp_path / "click.wav", bpm=97, duration=12.0)
    track = TrackMatch(track_id="t", title="c", path=str(track_path), score=1, beats=[float(b) for b in beats])
    result = Pipeline()(VideoRequest(items=items, output=tmp_path / "cuts.mp4", track=track, size=(W, H),
                                     length=10.0, transitions=["cut"]))
    px = frames(tmp_path / "cuts.mp4", (16, 16)).reshape(-1, 16 * 16 * 3).astype(float)
    jumps = np.where(np.abs(np.diff(px, axis=0)).mean(axis=1) > 40)[0] + 1  # first frame of a new shot
    assert list(jumps) == [round(c * FPS) for c in result.cuts]
    for j in jumps:
        assert np.min(np.abs(beats - j / FPS)) <= 1 / FPS


def test_chinese_title_is_drawn_without_a_cover(tmp_path):
    items = [photo_item(solid(tmp_path / "蓝.jpg", (10, 20, 60)), 0), photo_item(solid(tmp_path / "b.jpg", (10, 20, 60)), 1)]
    result = Pipeline()(VideoRequest(items=items, output=tmp_path / "标题.mp4", title="西湖日落", size=(W, H),
                                     length=3.0))
    assert result.warnings == []
    frame = frames(tmp_path / "标题.mp4")[15].astype(float).mean(axis=2)
    from pipelines.video.text import render_text

    img = render_text("西湖日落", tmp_path / "ref.png", frame=(W, H), role="title")
    alpha = np.asarray(Image.open(img.path))[..., 3]
    white = np.asarray(Image.open(img.path).convert("L"))
    region = frame[img.y:img.y + img.height, img.x:img.x + img.width]
    glyph = (alpha > 250) & (white > 250)
    assert glyph.sum() > 100
    assert region[glyph].mean() > 180  # the strokes are there, white
    assert frame[img.y + img.height + 20:, :].mean() < 60  # and the rest is the dark photo


def test_other_sizes_and_the_clip_sound_ducks_the_music(tmp_path):
    music = make_tone(tmp_path / "music.wav", freqs=(1000.0,), duration=8.0)
    clip = make_clip(tmp_path / "c.mp4", duration=3.0, size=(320, 180), fps=30)  # 440 Hz tone
    items = [photo_item(make_photo(tmp_path / "a.jpg", "flower", size=(400, 300)), 0),
             MediaItem(path=str(clip), id="c", kind="clip"),  # no ClipInfo: probed
             photo_item(make_photo(tmp_path / "b.jpg", "rocket", size=(300, 400)), 2)]
    track = TrackMatch(track_id="t", title="tone", path=str(music), score=1, excerpt=Excerpt(start=0, end=8))
    for size in [(270, 360), (480, 270)]:
        out = tmp_path / f"{size[0]}x{size[1]}.mp4"
        result = Pipeline()(VideoRequest(items=items, output=out, track=track, size=size, length=7.5))
        assert info(out)["size"] == size
    # ducking, checked in the last render: the 1 kHz music is quieter while the clip plays
    clip_slot = (result.cuts[0], result.cuts[1])
    y = audio(out)
    t = np.arange(len(y)) / 16000

    def band(a: float, b: float, f: float) -> float:
        seg = y[(t >= a) & (t < b)]
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        freqs = np.fft.rfftfreq(len(seg), 1 / 16000)
        return float(spec[(freqs > f - 30) & (freqs < f + 30)].sum())

    inside = band(clip_slot[0] + 0.5, clip_slot[1] - 0.5, 1000)
    outside = band(0.6, clip_slot[0] - 0.5, 1000)
    assert inside < 0.5 * outside
    assert band(clip_slot[0] + 0.5, clip_slot[1] - 0.5, 440) > 5 * band(0.6, clip_slot[0] - 0.5, 440)
    # loudness normalised to about -14 LUFS
    err = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(out), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    lufs = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])
    assert -17.0 < lufs < -11.0


def test_cancel_stops_and_leaves_no_file(tmp_path):
    items = [photo_item(make_photo(tmp_path / f"{i}.jpg", "astronaut"), i) for i in range(3)]
    cancel = threading.Event()

    def progress(f: float) -> None:
        if f > 0.05:
            cancel.set()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(Cancelled):
        Pipeline()(VideoRequest(items=items, output=out, size=(540, 960), length=20.0, progress=progress,
                                cancel=cancel))
    assert not out.exists()
    assert list(tmp_path.glob("*.part")) == [] and list(tmp_path.glob(".*")) == []


def test_cancel_is_heard_while_the_photos_are_prepared(tmp_path, monkeypatch):
    """Preparing the photos came before any check: a crafted order of one big photo
    repeated thousands of times kept the service's video worker busy for hours, cancel or
    not. A set cancel stops before the next photo."""
    items = [photo_item(make_photo(tmp_path / f"{i}.jpg", "astronaut"), i) for i in range(6)]
    cancel = threading.Event()
    prepared = []
    real = Pipeline._plan_item

    def prepare_then_cancel(self, item, *args, **kwargs):  # the real preparation, counted
        prepared.append(item.id)
        cancel.set()
        return real(self, item, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "_plan_item", prepare_then_cancel)
    out = tmp_path / "cancelled.mp4"
    with pytest.raises(Cancelled):
        Pipeline()(VideoRequest(items=items, output=out, size=(540, 960), length=3.0, cancel=cancel))
    assert len(prepared) == 1
    assert not out.exists()
    assert list(tmp_path.glob("*.part")) == [] and list(tmp_path.glob(".*")) == []


def test_rotated_heic_and_single_items(tmp_path):
    # an upright-by-EXIF photo (stored 400x300, orientation 6 = displayed 300x400) and a HEIC
    rotated = make_photo(tmp_path / "转.jpg", Image.new("RGB", (400, 300), (200, 40, 40)), orientation=6)
    heic = make_photo(tmp_path / "照片.heic", "coffee", size=(320, 240))
    items = [photo_item(rotated, 0), photo_item(heic, 1)]
    result = Pipeline()(VideoRequest(items=items, output=tmp_path / "a.mp4", size=(W, H), length=3.0))
    assert result.warnings == [] and len(result.cuts) == 1
    assert info(tmp_path / "a.mp4")["size"] == (W, H)
    # one clip alone, without sound of its own and without music: still an AAC track
    clip = make_clip(tmp_path / "c.mp4", duration=1.0, size=(160, 120), audio=False)
    result = Pipeline()(VideoRequest(items=[MediaItem(path=str(clip), id="c", kind="clip")],
                                     output=tmp_path / "b.mp4", size=(W, H), length=2.0))
    assert result.cuts == [] and info(tmp_path / "b.mp4")["acodec"] == "aac"
    assert len(frames(tmp_path / "b.mp4", (16, 16))) == 2 * FPS  # the short clip's last frame is held


def test_nothing_readable_is_a_media_error_and_a_bad_size_an_input_error(tmp_path):
    from creator.errors import InputError, MediaError

    cover = make_photo(tmp_path / "cover.png", "chelsea", size=(W, H))
    with pytest.raises(MediaError, match="items"):  # nothing usable (exit 1), not a usage error
        Pipeline()(VideoRequest(items=[photo_item(tmp_path / "nope.jpg", 0)], output=tmp_path / "x.mp4",
                                cover_path=cover, size=(W, H)))
    with pytest.raises(InputError, match="size"):
        Pipeline()(VideoRequest(items=[], output=tmp_path / "x.mp4", size=(271, 480)))
    assert list(tmp_path.glob("*.mp4")) == []


def test_a_clip_of_another_shape_renders_in_a_small_frame(tmp_path):
    # its blurred fill is made at 1/8 of the frame: 18x32 here, too small for boxblur=6
    clip = make_clip(tmp_path / "横屏.mp4", duration=2.0, size=(320, 180), audio=False)
    out = tmp_path / "小.mp4"
    Pipeline()(VideoRequest(items=[MediaItem(path=str(clip), id="c", kind="clip")], output=out,
                            size=(144, 256), length=1.5))
    assert info(out)["size"] == (144, 256)


@pytest.mark.parametrize("how", ["setpriv", "preexec_fn"])
def test_spawned_ffmpeg_has_its_own_session_and_dies_with_its_parent_thread(monkeypatch, how):
    import creator.media.ffmpeg as ff

    if how == "preexec_fn":
        monkeypatch.setattr(ff, "_setpriv", lambda: None)
    else:
        assert ff._setpriv() is not None  # the machine has util-linux's setpriv
    started: list = []

    def start() -> None:
        proc = ff.spawn([ffmpeg(), "-nostdin", "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        binary, deadline = os.path.realpath(ffmpeg()), time.monotonic() + 30
        while time.monotonic() < deadline:  # until it is ffmpeg (not the fork or setpriv before exec)
            try:
                if os.readlink(f"/proc/{proc.pid}/exe") == binary:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        started.append((proc, os.getsid(proc.pid), proc.poll()))

    t = threading.Thread(target=start)
    t.start()
    t.join()  # the thread that started it ends: the kernel kills it (as with kill -9 of Python)
    proc, sid, early = started[0]
    try:
        assert early is None and sid == proc.pid != os.getsid(0)
        assert proc.wait(timeout=5) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stale_work_folders_and_parts_are_removed_live_ones_kept(tmp_path):
    from creator.media.ffmpeg import clean_stale, part_name, work_folder

    folder = tmp_path / "草稿"
    folder.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    old = time.time() - 2 * 86400
    keep = [folder / "note.mp4", folder / "笔记.part", folder / ".用户的.part", folder / ".a.b.part",
            folder / f".creator-tmp-{os.getpid()}-live",
            folder / f".note.mp4.{os.getpid()}-0a1b2c3d.part", folder / ".draft.json.k2j4x9a_.part"]
    gone = [folder / f".creator-tmp-{dead.pid}-abc", folder / f".note.mp4.{dead.pid}-00ff00ff.part",
            folder / f".creator-tmp-{os.getpid()}-old", folder / ".note.mp4.deadbeef.part",
            folder / ".draft.json.a1b2c3d4.part"]
    for p in keep + gone:
        if "creator-tmp" in p.name:
            p.mkdir()
            (p / "text0.png").write_bytes(b"x")
        else:
            p.write_bytes(b"x")
    os.utime(folder / f".creator-tmp-{os.getpid()}-old", (old, old))  # a live pid, but a day old: reused
    for p in (folder / ".note.mp4.deadbeef.part", folder / ".draft.json.a1b2c3d4.part",
              folder / ".用户的.part", folder / ".a.b.part"):
        os.utime(p, (time.time() - 7200,) * 2)  # no pid in the name: stale once untouched for an hour
    assert sorted(clean_stale(folder)) == sorted(gone)
    assert sorted(folder.iterdir()) == sorted(keep)
    # the helpers the video stage uses: the work folder is in the output's folder, the part beside it
    with work_folder(folder) as w:
        assert Path(w).parent == folder and Path(w).name.startswith(f".creator-tmp-{os.getpid()}-")
    part = part_name(folder / "note.mp4")
    assert part.parent == folder and part.name.startswith(f".note.mp4.{os.getpid()}-")
    assert clean_stale(tmp_path / "不存在") == []
