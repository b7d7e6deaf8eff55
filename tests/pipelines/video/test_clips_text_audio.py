"""Clip segment choice, text rendering (CJK), the ducking envelope."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageFont

from creator.types import ClipInfo, Shot
from pipelines.video.audio import duck_expression
from pipelines.video.clips import SHAKY_START, best_segment, score_shot
from pipelines.video.text import font_path, render_text, wrap_text


def info(*shots: Shot, duration: float = 10.0) -> ClipInfo:
    return ClipInfo(duration=duration, fps=30, width=1920, height=1080, shots=list(shots))


def test_shaky_start_is_skipped():
    seg = best_segment(info(duration=8.0), wanted=3.0)
    assert seg.start >= SHAKY_START - 1e-9
    assert seg.duration == pytest.approx(3.0)


def test_sharp_steady_shot_beats_a_blurry_or_shaky_one():
    blurry = Shot(start=0, end=4, sharpness=0.2, motion=0.15)
    shaky = Shot(start=4, end=8, sharpness=0.9, motion=0.9)
    good = Shot(start=8, end=12, sharpness=0.8, motion=0.12, keyframes=[10.0])
    seg = best_segment(info(blurry, shaky, good, duration=12), wanted=2.0)
    assert 8.0 < seg.start and seg.end <= 12.0
    assert seg.start == pytest.approx(9.0)  # centred on the keyframe
    assert score_shot(good, 2.0) > score_shot(shaky, 2.0) > 0


def test_short_shot_grows_into_neighbours_and_short_clip_gives_what_it_has():
    seg = best_segment(info(Shot(start=0, end=5, sharpness=0.1), Shot(start=5, end=6, sharpness=1.0)),
                       wanted=3.0)
    assert seg.duration == pytest.approx(3.0)
    assert seg.start >= SHAKY_START and seg.end <= 10.0
    tiny = best_segment(info(duration=1.5), wanted=4.0)
    assert tiny.start >= 0.4 and tiny.end <= 1.5 and tiny.duration > 0.8


def _glyph(ch: str, size: int = 48) -> np.ndarray:
    font = ImageFont.truetype(str(font_path()), size)
    img = Image.new("L", (size * 2, size * 2))
    from PIL import ImageDraw

    ImageDraw.Draw(img).text((4, 4), ch, font=font, fill=255)
    return np.asarray(img) > 128


def test_font_has_real_chinese_glyphs():
    notdef = _glyph("\ue000")  # a private-use code point: the font's missing-glyph box
    xi, hu = _glyph("西"), _glyph("湖")
    assert xi.sum() > 50 and hu.sum() > 50
    assert (xi != notdef).mean() > 0.02 and (hu != notdef).mean() > 0.02 and (xi != hu).mean() > 0.02


def test_render_text_makes_a_transparent_png_in_frame(tmp_path):
    img = render_text("西湖一日：断桥、苏堤与雷峰塔的黄昏 Hangzhou", tmp_path / "标题.png",
                      frame=(540, 960), role="title")
    with Image.open(img.path) as im:
        assert im.mode == "RGBA" and im.size == (img.width, img.height)
        alpha = np.asarray(im)[..., 3]
    assert alpha.max() == 255 and alpha.min() == 0
    assert img.width <= 540 and img.x + img.width <= 540 and img.y + img.height <= 960
    assert img.x % 2 == 0 and img.y % 2 == 0 and img.width % 2 == 0 and img.height % 2 == 0
    assert img.y < 960 * 0.5  # a title sits in the upper half


def test_wrap_keeps_words_and_punctuation():
    font = ImageFont.truetype(str(font_path()), 40)
    lines = wrap_text("黄昏的西湖，安静得像一幅画。", font, 260)
    assert len(lines) >= 2 and "".join(lines) == "黄昏的西湖，安静得像一幅画。"
    assert not any(ln[0] in "，。" for ln in lines)
    en = wrap_text("sunset over the quiet lake", font, 260)
    assert " ".join(en) == "sunset over the quiet lake"


def test_video_text_breaks_between_words_and_at_the_separator():
    """The captions use the covers' word-aware breaker: 西湖 and 一整天 stay whole and a
    two-part title breaks at its bar, which starts no line."""
    font = ImageFont.truetype(str(font_path()), 40)
    assert wrap_text("西湖雾里的一天｜杭州慢游", font, 330) == ["西湖雾里的一天", "杭州慢游"]
    for width in range(170, 700, 20):  # "一整天，" (with its comma) is 160 px wide
        lines = wrap_text("在西湖边走了一整天，看雾慢慢散开", font, width)
        assert "".join(lines) == "在西湖边走了一整天，看雾慢慢散开"
        assert any("一整天" in ln for ln in lines) and any("西湖" in ln for ln in lines), (width, lines)
        bar = wrap_text("西湖雾里的一天｜杭州慢游", font, width)
        assert not any(ln.startswith("｜") for ln in bar) and all("西湖" in ln or "西" not in ln for ln in bar)


def _evaluate(expr: str, t: float) -> float:
    py = re.sub(r"\bclip\(", "_clip(", expr)
    return eval(py, {"_clip": lambda v, a, b: min(max(v, a), b), "min": min, "max": max, "t": t})


def test_duck_expression_is_gain_inside_and_one_outside():
    e = duck_expression([(2.0, 4.0), (6.0, 7.0)], 0.25, ramp=0.25)
    assert _evaluate(e, 0.0) == pytest.approx(1.0)
    assert _evaluate(e, 3.0) == pytest.approx(0.25)
    assert _evaluate(e, 1.875) == pytest.approx(0.625)  # half way down the ramp
    assert _evaluate(e, 5.0) == pytest.approx(1.0)
    assert _evaluate(e, 6.5) == pytest.approx(0.25)
    assert duck_expression([], 0.25) == "1"


def test_video_text_takes_the_cover_styles_look(tmp_path):
    """One look across the note: a sticker cover style gives the title card its band and
    dark ink, a serif (magazine) style its serif font; the request carries the draft's
    cover style."""
    import numpy as np
    from PIL import Image

    from creator.types import Caption, Cover, Draft, MediaItem, NoteContext
    from pipelines.video import VideoRequest
    from pipelines.video.text import render_text

    def pixels(style):
        t = render_text("西湖一日", tmp_path / f"{style}.png", frame=(540, 960), role="title", style=style)
        return np.asarray(Image.open(t.path).convert("RGBA"), np.float32)

    plain, sticker, serif = pixels(None), pixels("bold_sticker"), pixels("magazine")
    band = sticker[..., 3] > 250
    assert band.mean() > 0.8  # a filled band behind the text
    yellow = np.array([0xFF, 0xE1, 0x4D], np.float32)
    assert np.abs(sticker[band][:, :3] - yellow).sum(axis=1).__lt__(30).mean() > 0.5
    assert (plain[..., 3] > 250).mean() < 0.5  # white text with an outline, no band
    assert plain.shape != serif.shape or np.abs(plain - serif).mean() > 5  # another font
    photo = MediaItem(path=str(tmp_path / "a.jpg"), id="a" * 16, kind="photo")
    draft = Draft(context=NoteContext(items=[photo]), order=[photo.id], caption=Caption(title="西湖一日", body="."),
                  cover=Cover(title="西湖一日", style="bold_sticker", source=photo.id))
    assert VideoRequest.from_draft(draft, tmp_path).style == "bold_sticker"
    draft.cover = draft.cover.model_copy(update={"style": "magazine"})
    assert VideoRequest.from_draft(draft, tmp_path).style == "magazine"
