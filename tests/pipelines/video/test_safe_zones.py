"""Safe zones: the title, the captions and the cover frame stay clear of the feed's
overlays (bottom 20 %, right 12 %, top 8 % by default); a landscape clip in 9:16 gets a
blurred fill instead of black bars. Real renders, decoded back and measured."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from creator.config import VideoSettings
from creator.types import MediaItem
from pipelines.video import Pipeline, VideoRequest
from pipelines.video.plan import safe_area
from tests.factories import ffmpeg, make_clip, make_photo

W, H, FPS = 270, 480, 30
SAFE = (0, 40, 236, 384)  # 270x480 less 8 % top, 20 % bottom, 12 % right, on even pixels (inward)


def frames(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), exclusive, of the true pixels of a (h, w) mask."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def inside(box, area) -> bool:
    return area[0] <= box[0] and area[1] <= box[1] and box[2] <= area[2] and box[3] <= area[3]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("安全区")
    return [MediaItem(path=str(make_photo(d / f"{name}.jpg", name, size=(480, 640))), id=f"id{k}", kind="photo")
            for k, name in enumerate(["china", "coffee", "astronaut"])]


def render(items, out: Path, settings: VideoSettings | None = None, **kw) -> np.ndarray:
    result = Pipeline(settings)(VideoRequest(items=items, output=out, size=(W, H), fps=FPS, length=6.0,
                                             transitions=["cut"], **kw))
    assert result.warnings == []
    render.cuts = result.cuts
    return frames(out)


TEXTS = dict(title="西湖一日 Hangzhou",
             captions={"id1": "第2天 · 杭州西湖断桥残雪与雷峰塔夕照", "id2": "Day 3 · Lingyin Temple"})


def text_boxes(with_text: np.ndarray, without: np.ndarray) -> list:
    """Every 3rd frame, the bounding box of what the text changed (None where there is none)."""
    a, b = with_text[::3].astype(np.int16), without[::3].astype(np.int16)
    diff = np.abs(a - b).max(axis=3) > 60
    return [bbox(m) for m in diff]


def test_safe_area_of_the_defaults():
    assert safe_area(VideoSettings(), (W, H)) == SAFE
    assert safe_area(VideoSettings(), (1080, 1920)) == (0, 154, 950, 1536)
    with pytest.raises(ValueError, match="safe zones"):
        safe_area(VideoSettings(safe_top=0.49, safe_bottom=0.49), (W, H))


def test_title_and_captions_lie_inside_the_safe_zone(photos, tmp_path):
    plain = render(photos, tmp_path / "无字.mp4")
    texted = render(photos, tmp_path / "有字.mp4", **TEXTS)
    boxes = text_boxes(texted, plain)
    shown = [(k, b) for k, b in enumerate(boxes) if b is not None]
    # the title over the first photo, then one caption on each of the other two
    assert len(shown) > FPS  # of 60 frames looked at
    for k, b in shown:
        assert inside(b, SAFE), f"frame {k}: text at {b}, outside the safe area {SAFE}"
    # the captions sit on the bottom edge of the safe area (not somewhere trivially high)
    lows = [b[3] for _, b in shown if b[1] > H / 2]
    assert lows and max(lows) > SAFE[3] - 40
    # the long Chinese caption was broken into lines that fit the safe width
    assert max(b[2] - b[0] for _, b in shown) > 0.6 * SAFE[2]


def test_the_setting_moves_the_text(photos, tmp_path):
    # the same render without safe zones puts the captions lower and wider: the safe area
    # above is what the setting bought, not an accident of the layout
    full = VideoSettings(safe_top=0, safe_bottom=0, safe_left=0, safe_right=0)
    plain = render(photos, tmp_path / "无字.mp4", full)
    texted = render(photos, tmp_path / "有字.mp4", full, **TEXTS)
    boxes = [b for b in text_boxes(texted, plain) if b is not None]
    assert max(b[3] for b in boxes) > SAFE[3] + 30  # into what would be the buttons' zone


def test_the_cover_frame_and_its_title_stay_inside_the_safe_zone(photos, tmp_path):
    # a 3:4 cover whose "title" (pure red) runs to its bottom-right corner, as a cover
    # style with a bottom title zone draws it; the intro pushes in, so every intro frame counts
    cover = Image.open(make_photo(tmp_path / "封面.jpg", "chelsea", size=(600, 800))).convert("RGB")
    draw = ImageDraw.Draw(cover)
    draw.rectangle([330, 700, 599, 799], fill=(255, 0, 0))
    draw.rectangle([0, 0, 120, 60], fill=(0, 255, 0))
    cover_path = tmp_path / "封面.png"
    cover.save(cover_path)
    got = render(photos, tmp_path / "封面.mp4", cover_path=cover_path)
    intro = got[: round(render.cuts[0] * FPS)].astype(int)  # the cover's own frames
    assert len(intro) > FPS
    red = (intro[..., 0] > 170) & (intro[..., 1] < 90) & (intro[..., 2] < 90)
    green = (intro[..., 1] > 170) & (intro[..., 0] < 90) & (intro[..., 2] < 90)
    for k in range(len(intro)):
        for name, mask in (("red", red[k]), ("green", green[k])):
            b = bbox(mask)
            assert b is not None and (b[2] - b[0]) * (b[3] - b[1]) > 200, f"frame {k}: no {name} corner"
            assert inside(b, SAFE), f"frame {k}: the cover's {name} corner at {b}, outside {SAFE}"
    # and it reaches close to the safe area's edges: the cover is as large as it may be
    b = bbox(red[0])
    assert b[2] > SAFE[2] - 20 and b[3] > SAFE[3] - 40


def test_a_landscape_clip_in_9_16_gets_a_blurred_fill_not_black_bars(tmp_path):
    clip = make_clip(tmp_path / "横屏.mp4", duration=2.0, size=(320, 180), audio=False)
    out = tmp_path / "竖屏.mp4"
    Pipeline()(VideoRequest(items=[MediaItem(path=str(clip), id="c", kind="clip")], output=out,
                            size=(W, H), fps=FPS, length=2.0))
    f = frames(out)[FPS].astype(float)
    # the clip, whole, in the middle band (270x152 at y 164..316); above and below it the fill
    band_h = round(W * 180 / 320)
    top, bottom = f[: (H - band_h) // 2 - 4], f[(H + band_h) // 2 + 4:]
    for part in (top, bottom):
        assert part.mean() > 25  # not black bars
        assert part.std() > 5  # a picture (the blurred clip), not a flat colour
    # blurred: far smoother than the clip itself
    mid = f[(H - band_h) // 2 + 4: (H + band_h) // 2 - 4]
    rough = lambda a: np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
    assert rough(top) < 0.5 * rough(mid)
