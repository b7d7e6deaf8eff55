"""Odd photos look the same in every stage: the video (a real render, read back with
ffmpeg), the cover, the carousel and understanding all read them through the one loader.

Each photo is one flat colour whose right display is known here (16-bit grey at mid
level is mid grey, transparent pixels are white whatever colour lies under them, half
transparent blue over white is light blue, a Display P3 red is the sRGB red its profile
says...), so a frame can be checked by its colour.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creator.media import load_media
from creator.types import CarouselEntry, MediaItem
from creator.understanding import _look
from creator.understanding.moments import build_context
from pipelines.carousel.render import render_entry
from pipelines.cover import CoverRequest
from pipelines.cover import Pipeline as CoverPipeline
from pipelines.video import Pipeline, VideoRequest
from pipelines.video.render import fit_cover
from tests.factories import ffmpeg, make_photo
from tests.icc import cmyk_profile, matrix_rgb_profile, rgb_to_srgb

W, H, FPS = 270, 480, 10


def _rgba(path: Path, rgba: tuple[int, int, int, int], size=(300, 400)) -> Path:
    Image.new("RGBA", size, rgba).save(path)
    return path


def _grey16(path: Path, level: int, size=(300, 400)) -> Path:
    Image.fromarray(np.full(size[::-1], level, np.uint16)).save(path)  # a 16-bit grey PNG
    with Image.open(path) as im:
        assert im.mode.startswith("I;16")
    return path


def _cmyk(path: Path) -> Path:
    Image.new("CMYK", (300, 400), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    return path


# a phone's wide-gamut photo: its pixels are Display P3 values, shown right only through
# the profile (ffmpeg ignores it; read naively it looks dull)
P3_RED = (220, 40, 40)


def _p3(path: Path) -> Path:
    Image.new("RGB", (300, 400), P3_RED).save(path, quality=95, icc_profile=matrix_rgb_profile())
    return path


def _print_profile(corner):
    c, m, y, k = corner  # this press prints full cyan as red (a naive conversion shows cyan)
    return (0.0, 0.0, 0.0) if k else (53.24, 80.09, 67.20) if c else (100.0, 0.0, 0.0)


def _cmyk_profiled(path: Path) -> Path:
    Image.new("CMYK", (300, 400), (255, 0, 0, 0)).save(path, quality=95, icc_profile=cmyk_profile(_print_profile))
    return path


def _heic(path: Path) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.new("RGB", (300, 400), (30, 180, 60)).save(path, quality=95)
    return path


def _huge(path: Path) -> Path:
    # 13500x13500 = 182 megapixels: over Pillow's own bomb limit (179 MP), which the
    # video stage used to hit (an uncaught DecompressionBombError) though understanding opened it
    Image.new("L", (13500, 13500), 90).save(path, quality=80)
    return path


def _rotated(path: Path) -> Path:
    arr = np.zeros((300, 400, 3), np.uint8)
    arr[:, :200] = (220, 30, 30)  # stored left half red: shown on top (orientation 6)
    arr[:, 200:] = (30, 30, 220)
    return make_photo(path, Image.fromarray(arr), orientation=6)


# name -> (how to make it, the colour it shows; None: checked by its own test)
CASES = {
    "十六位灰.png": (lambda p: _grey16(p, 128 * 257), (128, 128, 128)),
    "全透明.png": (lambda p: _rgba(p, (220, 0, 0, 0)), (255, 255, 255)),
    "半透明.png": (lambda p: _rgba(p, (0, 0, 255, 128)), (127, 127, 255)),
    "印刷.jpg": (_cmyk, (255, 0, 0)),
    "印刷带配置.jpg": (_cmyk_profiled, (255, 0, 0)),
    "显示P3.jpg": (_p3, rgb_to_srgb(P3_RED)),
    "苹果.heic": (_heic, (30, 180, 60)),
    "巨幅.jpg": (_huge, (90, 90, 90)),
    "旋转.jpg": (_rotated, None),
}


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("奇怪的图")
    return {name: make(d / name) for name, (make, _) in CASES.items()}


def _frames(path: Path, size=(W, H)) -> np.ndarray:
    w, h = size
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-s", f"{w}x{h}", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def _middle_band(image: Image.Image) -> np.ndarray:
    arr = np.asarray(image.convert("RGB"), float)
    return np.median(arr[arr.shape[0] * 2 // 5: arr.shape[0] * 3 // 5].reshape(-1, 3), axis=0)


@pytest.fixture(scope="module")
def render(odd, tmp_path_factory):
    """One real render, each odd photo a slot with hard cuts; the middle frame of each."""
    out = tmp_path_factory.mktemp("视频") / "奇怪.mp4"
    names = list(odd)
    items = [MediaItem(path=str(odd[n]), id=f"id{k}", kind="photo") for k, n in enumerate(names)]
    result = Pipeline()(VideoRequest(items=items, output=out, size=(W, H), fps=FPS, transitions=["cut"],
                                     length=1.5 * len(items)))
    frames = _frames(out)
    bounds = [0.0, *result.cuts, result.duration]
    assert len(bounds) == len(names) + 1, (result.cuts, result.warnings)
    middle = {n: frames[min(len(frames) - 1, round((a + b) / 2 * FPS))]
              for n, a, b in zip(names, bounds, bounds[1:])}
    return result, middle


@pytest.mark.parametrize("name", [n for n, (_, c) in CASES.items() if c is not None])
def test_video_frame_shows_the_photo_as_displayed(render, name):
    result, middle = render
    assert not result.warnings, result.warnings  # nothing left out, the 182 MP JPEG included
    want = np.array(CASES[name][1], float)
    got = np.median(middle[name].reshape(-1, 3), axis=0)
    assert np.abs(got - want).max() <= 14, f"{name}: frame {got}, want {want}"


def test_video_applies_exif_orientation(render):
    _, middle = render
    frame = middle["旋转.jpg"].astype(float)
    top, bottom = frame[: H // 4].mean(axis=(0, 1)), frame[-H // 4:].mean(axis=(0, 1))
    assert top[0] > 150 and top[2] < 90, top  # red on top, as displayed
    assert bottom[2] > 150 and bottom[0] < 90, bottom


@pytest.mark.parametrize("name", [n for n, (_, c) in CASES.items() if c is not None])
def test_every_stage_shows_it_alike(odd, render, tmp_path, name):
    _, middle = render
    want = np.array(CASES[name][1], float)
    [item] = load_media([odd[name]])
    assert item.error is None, item.error
    seen = {"video": np.median(middle[name].reshape(-1, 3), axis=0)}
    [looked] = _look(item, 448)  # what understanding tags and scores
    seen["understanding"] = np.asarray(looked, float).reshape(-1, 3).mean(axis=0)
    # the cover stage: one full-bleed candidate; its middle band is the photo (the title
    # sits at the top or the bottom)
    cover = CoverPipeline()(CoverRequest(context=build_context([item]), title="西湖", style="magazine",
                                         n=1, width=270, kicker=""))
    seen["cover"] = _middle_band(cover.candidates[0].image)
    # and the video's own intro, when the cover given to it is such a photo (fitted whole
    # over a darkened blur of itself: the middle band is the photo)
    seen["video intro"] = _middle_band(Image.open(fit_cover(odd[name], tmp_path / "intro.png", (W, H))))
    # the image note's carousel: the whole photo, as posted
    entry = CarouselEntry(item_id=item.id, box=(0.0, 0.0, float(item.width), float(item.height)))
    seen["carousel"] = _middle_band(render_entry(entry, item, (300, 400), labels=False))
    for stage, got in seen.items():
        assert np.abs(got - want).max() <= 14, f"{name} in the {stage}: {got}, want {want}"


def test_plain_jpegs_go_to_ffmpeg_as_they_are_and_others_at_the_size_needed(odd, tmp_path):
    plain = make_photo(tmp_path / "普通.jpg", "china", size=(640, 480))
    big = tmp_path / "大.jpg"
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(big, quality=80)
    pipe = Pipeline()
    plan = {p: pipe._plan_item(MediaItem(path=str(p), id=p.stem, kind="photo"), None, tmp_path, k, frame=(W, H))
            for k, p in enumerate([plain, big, odd["十六位灰.png"], odd["巨幅.jpg"], odd["旋转.jpg"], odd["显示P3.jpg"]])}
    assert plan[plain].path == str(plain) and plan[plain].origin is None  # the fast path
    for p in (big, odd["十六位灰.png"], odd["巨幅.jpg"], odd["旋转.jpg"], odd["显示P3.jpg"]):
        pi = plan[p]
        assert pi.origin == str(p) and pi.path != str(p), p.name
        with Image.open(pi.path) as conv:
            assert conv.format == "JPEG" and conv.mode == "RGB"
            # as displayed, large enough to cover the frame after the Ken Burns zoom, no larger
            assert (conv.width > conv.height) == (pi.width > pi.height)
            side = max(pi.width, pi.height)
            assert min(side, max(W / pi.width, H / pi.height) * 1.12 * side) - 2 <= max(conv.size) <= side
    assert (plan[big].width, plan[big].height) == (4000, 3000)  # the plan keeps the photo's own shape
    assert max(Image.open(plan[odd["巨幅.jpg"]].path).size) < 1000  # 13500 px decoded at 1/8, then fitted
