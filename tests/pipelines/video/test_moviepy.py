"""The moviepy backend renders the same plan as the ffmpeg filter graph: the same small
plan (three photos, one clip with sound, music, a title and two captions) rendered by
both, decoded back with real ffmpeg and compared frame by frame; the text found in both
and inside the safe zone; the sound; Assistant.video_clip as the README shows it."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creator.assistant import Assistant
from creator.config import Settings, VideoSettings
from creator.errors import BackendUnavailable, Cancelled
from creator.media import content_id
from creator.types import (Caption, ClipInfo, Draft, Excerpt, MediaItem, Moment, NoteContext, Place, Shot,
                           TrackMatch)
from pipelines.video import Pipeline, VideoRequest
from tests.factories import ffmpeg, make_click_track, make_clip, make_photo

W, H, FPS, LENGTH = 270, 480, 30, 6.0
SAFE = (0, 40, 236, 384)  # 270x480 less the default safe zones (as test_safe_zones measures them)
ROOT = Path(__file__).resolve().parents[3]
# the two renders of a photo frame differ by the encoders' noise and the two scalers
# (measured 2.6-3.6); the same frame shifted by 2 px, or the motion held for 3 frames,
# differs by 7-29 on these photos
AGREE = 6.0


def frames(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(np.int16)


def sound(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", "8000",
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def bbox(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def solid(mask: np.ndarray) -> np.ndarray:
    """The pixels of a mask with at least 3 of their 3x3 neighbourhood set: text strokes
    kept, the encoder's lone noisy pixels dropped."""
    padded = np.pad(mask.astype(np.int8), 1)
    count = sum(padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]] for dy in range(3) for dx in range(3))
    return mask & (count >= 3)


def inside(box, area) -> bool:
    return area[0] <= box[0] and area[1] <= box[1] and box[2] <= area[2] and box[3] <= area[3]


TEXTS = dict(title="西湖一日 Hangzhou", captions={"p1": "第2天 · 杭州西湖断桥", "p3": "Day 3 · Lingyin"})


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("素材")
    photos = [MediaItem(path=str(make_photo(d / f"{name}.jpg", name, size=size)), id=f"p{k}", kind="photo")
              for k, (name, size) in enumerate([("china", (640, 480)), ("coffee", (480, 640))])]
    clip = make_clip(d / "片段.mp4", duration=3.0, size=(320, 180), audio=True)
    info = ClipInfo(duration=3.0, fps=30, width=320, height=180, has_audio=True,
                    shots=[Shot(start=0.0, end=3.0, sharpness=0.8, motion=0.1)])
    items = photos + [MediaItem(path=str(clip), id="c2", kind="clip", clip=info),
                      MediaItem(path=str(make_photo(d / "宇航员.jpg", "astronaut", size=(480, 640))), id="p3",
                                kind="photo")]
    music, beats = make_click_track(d / "音乐.wav", bpm=100, duration=12)
    track = TrackMatch(track_id="t", title="click", path=str(music), score=1.0,
                       excerpt=Excerpt(start=1.0, end=11.0), beats=[float(b) for b in beats])
    return d, items, track


def request(items, track, out: Path, texts: bool = True, **kw) -> VideoRequest:
    return VideoRequest(items=items, output=out, size=(W, H), fps=FPS, length=LENGTH, track=track,
                        transitions=["fade", "slideup", "circleopen"], **(TEXTS if texts else {}), **kw)


@pytest.fixture(scope="module")
def renders(media, tmp_path_factory):
    """Both backends, with and without the text, and the plan they rendered."""
    _, items, track = media
    out = tmp_path_factory.mktemp("成片")
    got = {}
    for backend in ("ffmpeg", "moviepy"):
        pipe = Pipeline(VideoSettings(backend=backend))
        for texts in (True, False):
            path = out / f"{backend}-{'字' if texts else '无字'}.mp4"
            result = pipe(request(items, track, path, texts))
            assert result.warnings == [] and Path(result.path) == path
            got[backend, texts] = (path, frames(path))
    plan = Pipeline().plan(request(items, track, out / "plan.mp4")).timeline
    return got, plan


def photo_frames(plan) -> list[int]:
    """Every frame where only photos are on screen (their transitions included)."""
    shown = set()
    for s in plan.slots:
        if s.item.kind != "clip":
            shown |= set(range(s.start - s.lead, s.end + (plan.slots[s.index + 1].lead
                                                          if s.index + 1 < len(plan.slots) else 0)))
    for s in plan.slots:
        if s.item.kind == "clip":
            nxt = plan.slots[s.index + 1].lead if s.index + 1 < len(plan.slots) else 0
            shown -= set(range(s.start - s.lead, s.end + nxt))
    return sorted(shown)


def test_the_photo_frames_of_both_renders_agree(renders):
    got, plan = renders
    a, b = got["ffmpeg", True][1], got["moviepy", True][1]
    assert a.shape == b.shape == (plan.frames, H, W, 3)
    ks = photo_frames(plan)
    assert len(ks) > 3 * FPS  # of 180 frames
    diffs = [mad(a[k], b[k]) for k in ks]
    worst = int(np.argmax(diffs))
    assert max(diffs) < AGREE, f"frame {ks[worst]}: mean absolute difference {diffs[worst]:.1f}"
    # the comparison can fail: the same moviepy frames 2 px to the side, or with the
    # motion 3 frames late (a crop that does not move as planned), are far from ffmpeg's
    moving = [k for k in ks if k >= 3]
    shifted = np.mean([mad(a[k][:, 4:-4], b[k][:, 6:-2]) for k in moving])
    late = np.mean([mad(a[k], b[k - 3]) for k in moving])
    assert shifted > 2 * AGREE and late > 2 * AGREE, (shifted, late)
    # and the clip is there in both: its frames agree far better than with a photo's
    clip = next(s for s in plan.slots if s.item.kind == "clip")
    k = (clip.start + clip.end) // 2
    assert mad(a[k], b[k]) < 0.5 * mad(a[k], b[ks[0]])


def test_the_title_and_captions_are_in_both_and_inside_the_safe_zone(renders):
    got, plan = renders
    ks = photo_frames(plan)[::3]  # the text is over photos (a clip's busy test pattern encodes unevenly)
    boxes = {}
    for backend in ("ffmpeg", "moviepy"):
        texted, plain = got[backend, True][1][ks], got[backend, False][1][ks]
        diff = np.abs(texted - plain).max(axis=3) > 60  # what the text changed
        boxes[backend] = [bbox(solid(m)) for m in diff]
        shown = [(k, box) for k, box in zip(ks, boxes[backend]) if box is not None]
        assert len(shown) > FPS // 2, backend  # the title, then the two captions
        for k, box in shown:
            assert inside(box, SAFE), f"{backend} frame {k}: text at {box}, outside the safe area {SAFE}"
        assert max(box[3] for _, box in shown) > SAFE[3] - 40  # a caption on the safe area's bottom edge
        assert min(box[1] for _, box in shown) < H / 2  # and the title, higher
    # the same text at the same place on the same frames
    for k, fb, mb in zip(ks, boxes["ffmpeg"], boxes["moviepy"]):
        assert (fb is None) == (mb is None), f"frame {k}: text in one render only"
        if fb is not None:
            assert max(abs(u - v) for u, v in zip(fb, mb)) <= 4, f"frame {k}: {fb} vs {mb}"


def test_the_sound_is_there_with_the_videos_length_and_loudness(renders):
    got, _ = renders
    a, b = sound(got["ffmpeg", True][0]), sound(got["moviepy", True][0])
    for s in (a, b):
        assert abs(len(s) / 8000 - LENGTH) < 0.06
    rms = lambda s: float(np.sqrt(np.mean(s.astype(np.float64) ** 2)))  # noqa: E731
    assert rms(b) > 0.02 and 0.7 < rms(b) / rms(a) < 1.4  # both loudness-normalised
    # the same sound over time: the music's clicks, ducked under the clip's tone
    env = lambda s: np.sqrt(np.mean(s[: len(s) // 400 * 400].reshape(-1, 400) ** 2, axis=1))  # noqa: E731
    assert np.corrcoef(env(a), env(b))[0, 1] > 0.8


def test_progress_and_cancel(media, tmp_path):
    _, items, track = media
    seen: list[float] = []
    out = tmp_path / "进度.mp4"
    Pipeline(VideoSettings(backend="moviepy"))(request(items, track, out, progress=seen.append))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 10
    stop = threading.Event()
    out2 = tmp_path / "取消.mp4"

    def progress(f: float) -> None:
        if f > 0.3:
            stop.set()

    with pytest.raises(Cancelled):
        Pipeline(VideoSettings(backend="moviepy"))(request(items, track, out2, progress=progress, cancel=stop))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["进度.mp4"]  # no partial file, no work folder


def test_without_moviepy_one_clear_error(media, tmp_path, monkeypatch):
    _, items, track = media
    monkeypatch.setitem(sys.modules, "moviepy", None)  # as if it were not installed
    with pytest.raises(BackendUnavailable, match=re.escape("pip install '.[moviepy]'")):
        Pipeline(VideoSettings(backend="moviepy"))(request(items, track, tmp_path / "x.mp4"))
    assert list(tmp_path.iterdir()) == []


def test_the_backend_setting(monkeypatch):
    assert VideoSettings().backend == "ffmpeg"
    monkeypatch.setenv("CREATOR_VIDEO__BACKEND", "moviepy")
    assert Settings().video.backend == "moviepy"
    with pytest.raises(ValueError):
        VideoSettings(backend="blender")


def make_draft(folder: Path, media) -> None:
    _, items, track = media
    hz, lake = Place(name_zh="杭州", name_en="Hangzhou"), Place(name_zh="西湖", name_en="West Lake")
    ids = {i.id: content_id(i.path) for i in items}  # a saved draft's ids are its files' content ids
    items = [i.model_copy(update={"id": ids[i.id], "taken_at": datetime(2025, 10, 3 + k // 2, 9 + k),
                                  "place": hz if k < 2 else lake})
             for k, i in enumerate(items)]
    ctx = NoteContext(items=items, days=2, moments=[
        Moment(index=0, day=1, place=hz, item_ids=[ids["p0"], ids["p1"]]),
        Moment(index=1, day=2, place=lake, item_ids=[ids["c2"], ids["p3"]])])
    Draft(context=ctx, order=[i.id for i in items], caption=Caption(title="杭州两日", body="..."),
          track=track.model_copy(update={"track_id": content_id(track.path)})).save(folder)


def test_video_clip_as_the_readme_shows_it(media, tmp_path):
    """The README's moviepy example, run as written: the composed clip, a layer added,
    written by moviepy itself."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # a ```py block: tests/test_readme.py runs the first ```python one
    code = next(c for c in re.findall(r"```py(?:thon)?\n(.*?)```", text, re.S) if "video_clip(" in c)
    note = tmp_path / "note"
    make_draft(note, media)
    Image.new("RGB", (60, 40), (255, 0, 0)).save(tmp_path / "logo.png")
    env = {"CREATOR_VIDEO__WIDTH": str(W), "CREATOR_VIDEO__HEIGHT": str(H), "CREATOR_VIDEO__LENGTH": str(LENGTH),
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "CREATOR_CACHE_DIR": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    mine = frames(note / "mine.mp4")
    assert len(mine) == round(LENGTH * FPS)
    logo = mine[:, 10:40, 10:60].astype(float)  # the layer the user added (5, 5, 65, 45), on every frame
    assert logo[..., 0].min() > 200 and logo[..., 1:].max() < 60
    assert abs(len(sound(note / "mine.mp4")) / 8000 - LENGTH) < 0.1  # with the sound
    # under the layer, the video the draft makes
    ref = Assistant(Settings(cache_dir=tmp_path / "cache")).video(
        Draft.load(note), out=tmp_path / "ref" / "ref.mp4", draft_dir=note, size=(W, H), length=LENGTH)
    want = frames(Path(ref.path))
    assert mad(mine[FPS, 100:], want[FPS, 100:]) < AGREE


@pytest.mark.parametrize("fmt", ["gbrp", "yuv444p"])
def test_every_transition_is_xfades_own(fmt):
    """Each transition the plan may name, drawn by the moviepy backend, against ffmpeg's
    xfade itself on the same two pictures, frame by frame: on RGB frames, and on the
    limited-range YUV the filter graph blends in (its black and white lie outside the
    picture's range)."""
    from pipelines.video.moviepy_render import TV_BLACK, TV_WHITE, xfade
    from pipelines.video.plan import TRANSITIONS

    colours = {} if fmt == "gbrp" else {"black": TV_BLACK, "white": TV_WHITE}
    conv = "" if fmt == "gbrp" else ":out_range=tv"
    tolerance = 1.5 if fmt == "gbrp" else 2.5  # the YUV round trip's own rounding, darkest frames

    w, h, n = 64, 96, 8
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 4, y * 2, np.full_like(x, 40)], -1).astype(np.uint8)
    b = np.stack([np.full_like(x, 200), 255 - y * 2, x * 3], -1).astype(np.uint8)
    for name in sorted(TRANSITIONS - {"cut"}):
        pair = (f"[0:v]scale=out_color_matrix=bt709{conv},format={fmt},split[x][y];"
                f"[x]trim=end_frame=1,loop={n - 1}:1:0,setpts=N/30/TB[a];"
                f"[y]trim=start_frame=1,loop={n - 1}:1:0,setpts=N/30/TB[b];"
                f"[a][b]xfade=transition={name}:duration={n / 30}:offset=0,"
                f"scale=in_color_matrix=bt709{conv.replace('out', 'in')},format=rgb24")
        out = subprocess.run([ffmpeg(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                              "-r", "30", "-i", "-", "-filter_complex", pair, "-f", "rawvideo", "-pix_fmt", "rgb24",
                              "-"], input=a.tobytes() + b.tobytes(), capture_output=True, check=True).stdout
        want = np.frombuffer(out, np.uint8).reshape(-1, h, w, 3).astype(np.int16)
        assert len(want) == n, name
        for j in range(n):
            got = xfade(name, a, b, 1 - j / n, **colours).astype(np.int16)
            assert got.shape == a.shape and mad(got, want[j]) < tolerance, f"{name} frame {j}: {mad(got, want[j]):.1f}"
        # and it goes from a to b
        first, last = xfade(name, a, b, 1.0).astype(np.int16), xfade(name, a, b, 1 / n).astype(np.int16)
        assert mad(first, a) < mad(first, b) and mad(last, b) < mad(last, a), name


def test_the_ducking_curve_is_the_graphs():
    """moviepy's music gain over time is the volume expression the filter graph uses."""
    from pipelines.video.audio import duck_expression
    from pipelines.video.moviepy_render import duck_gain

    windows, t = [(1.0, 2.5), (2.6, 4.0), (6.0, 7.0)], np.linspace(0, 8, 3201)
    expr = duck_expression(windows, 0.25)
    want = eval(expr, {"__builtins__": {}}, {"clip": np.clip, "min": np.minimum, "max": np.maximum, "t": t})
    assert np.allclose(duck_gain(t, windows, 0.25), want, atol=1e-6)
    assert duck_gain(1.5, windows, 0.25) == pytest.approx(0.25) and duck_gain(5.0, windows, 0.25) == 1.0


def test_an_hdr_clip_in_the_moviepy_backend_is_named_in_a_warning(tmp_path):
    """moviepy's reader cannot tone-map: the render says so instead of showing flat colours
    silently (the ffmpeg backend tone-maps; tests/pipelines/video/test_clip_colour.py)."""
    from creator.types import MediaItem
    from pipelines.video import VideoRequest
    from tests.factories import make_hdr_clip

    clip = make_hdr_clip(tmp_path / "手机 HDR.mov", size=(320, 568))
    out = tmp_path / "成片.mp4"
    result = Pipeline(VideoSettings(backend="moviepy"))(VideoRequest(
        items=[MediaItem(path=str(clip), id="c", kind="clip")], output=out, size=(270, 480), fps=10, length=1.0))
    assert out.is_file()
    assert [w for w in result.warnings if "HDR" in w and "手机 HDR.mov" in w and "ffmpeg backend" in w], result.warnings
    plain = Pipeline(VideoSettings(backend="ffmpeg"))(VideoRequest(
        items=[MediaItem(path=str(clip), id="c", kind="clip")], output=tmp_path / "b.mp4", size=(270, 480), fps=10,
        length=1.0))
    assert not [w for w in plain.warnings if "HDR" in w]
