"""Title typography: font, glyph coverage (no tofu), line breaking, fitting, placement, contrast."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from creator.errors import InputError
from creator.types import Box
from pipelines.cover import styles
from pipelines.cover.crop import crop_to_ratio
from creator.text import NO_LINE_END, NO_LINE_START, break_lines
from pipelines.cover import CoverRequest, Pipeline
from pipelines.cover.typography import (RULE_CLEARANCE, TitleSpec, clean_title, colour_contrast, fit_title,
                                        font_path, load_font, missing_glyphs, set_title, title_language)
from tests.factories import sample_image

FACE = Box(x0=0.349, y0=0.114, x1=0.521, y1=0.339)  # skimage astronaut, detected once


def test_font_comes_from_the_pip_package():
    for family in ("sans", "serif"):
        p = font_path(family)
        assert p.suffix in (".otf", ".ttf") and "pylopdf_fonts_zh_cn" in str(p)
        assert missing_glyphs("杭州西湖秋天慢慢走，。！？ABCxyz0123·", family) == []


def test_emoji_are_dropped_not_drawn_as_tofu():
    text, dropped = clean_title("杭州西湖两日｜秋天慢慢走🍂")
    assert text == "杭州西湖两日｜秋天慢慢走" and dropped == "🍂"
    text, dropped = clean_title("Two slow days 👨‍👩‍👧 by the lake 🌅")
    assert text == "Two slow days by the lake"
    assert "🌅" in dropped and "\u200d" in dropped


def test_rendered_title_has_a_glyph_for_every_drawn_character():
    img = Image.new("RGB", (1080, 1440), (40, 80, 120))
    for title in ("第一次去青岛🌊，海边的风好舒服！", "Sunset ✨ over the old harbour"):
        _, layout = set_title(img, title, TitleSpec())
        drawn = "".join(layout.lines)
        assert missing_glyphs(drawn) == []
        font = load_font("sans", 48)
        for ch in set(drawn) - {" "}:  # every drawn character leaves ink of its own shape
            assert font.getbbox(ch)[2] > font.getbbox(ch)[0]


def _measure(px=40):
    font = load_font("sans", px)
    return font.getlength


def test_zh_breaks_with_kinsoku():
    measure = _measure()
    text = "第一次去青岛，海边的风好舒服！（真的）晚霞“橘粉色”的"
    for width in (120, 170, 200, 260, 330):
        lines = break_lines(text, measure, width)
        assert "".join(lines) == text  # nothing lost, nothing added
        for line in lines[1:]:
            assert line[0] not in NO_LINE_START, lines
        for line in lines[:-1]:
            assert line[-1] not in NO_LINE_END, lines


def test_en_breaks_between_words_and_balances_lines():
    measure = _measure()
    text = "Two slow days by the lake in early autumn"
    lines = break_lines(text, measure, 420)
    assert " ".join(lines) == text
    assert all(w in text.split() for line in lines for w in line.split())
    widths = [measure(x) for x in lines]
    assert max(widths) <= 420 and min(widths) > 0.5 * max(widths)  # no orphan word


def test_mixed_zh_en_keeps_latin_words_and_numbers_whole():
    lines = break_lines("2024年Hangzhou西湖City Walk", _measure(), 150)
    joined = "".join(lines)
    assert "2024" in joined and all("Hangz" not in x or "Hangzhou" in x for x in lines)


def test_size_fits_the_space():
    spec = TitleSpec(size=(0.03, 0.2), max_lines=2)
    short = fit_title("西湖", spec, 900, 400, 1080)
    long = fit_title("杭州西湖两日游秋天慢慢走看晚霞", spec, 900, 400, 1080)
    assert short.size > long.size
    for b in (short, long):
        assert b.width <= 900 and b.height <= 400 and len(b.lines) <= 2


def test_language():
    assert title_language("杭州 City Walk") == "zh" and title_language("City Walk") == "en"


def test_title_goes_where_the_image_is_calm():
    rng = np.random.default_rng(0)
    arr = np.full((1440, 1080, 3), 110, np.uint8)
    arr[:720] = rng.integers(0, 255, (720, 1080, 3), dtype=np.uint8)  # busy top half, flat bottom
    spec = TitleSpec(zones=("top", "middle", "bottom"))
    _, layout = set_title(Image.fromarray(arr), "安静的地方", spec)
    assert layout.box[1] >= 720 - 40  # wholly in the flat half


def test_title_stays_off_the_face_and_reads_at_4_5_to_1():
    photo, faces, _, _ = crop_to_ratio(sample_image("astronaut"), (1080, 1440), [FACE])
    W, H = photo.size
    (f,) = faces
    fb = (f.x0 * W, f.y0 * H, f.x1 * W, f.y1 * H)
    for name, preset in styles().items():
        if preset["layout"] != "full":
            continue
        spec = TitleSpec.from_dict(preset["title"])
        out, layout = set_title(photo, "宇航员的一天｜Space Walk", spec, avoid=faces)
        x0, y0, x1, y1 = layout.box
        assert x1 <= fb[0] or x0 >= fb[2] or y1 <= fb[1] or y0 >= fb[3], (name, layout.box, fb)
        assert layout.contrast >= 4.5, (name, layout)
        assert out.size == photo.size


def test_treatments_follow_the_background():
    spec = TitleSpec.from_dict(styles()["magazine"]["title"])
    dark = Image.new("RGB", (1080, 1440), (15, 20, 30))
    _, a = set_title(dark, "Night market", spec)
    assert a.fill == "#FFFFFF" and a.treatment == "shadow" and a.contrast >= 4.5
    light = Image.new("RGB", (1080, 1440), (245, 240, 230))
    _, b = set_title(light, "Night market", spec)
    assert b.fill == "#141414" and b.contrast >= 4.5
    # a busy mid-grey checkerboard: neither ink is enough alone, a band/scrim is laid under it
    arr = np.indices((1440, 1080)).sum(0) // 24 % 2
    busy = Image.fromarray(np.where(arr[..., None] == 1, 200, 60).astype(np.uint8).repeat(3, 2))
    _, c = set_title(busy, "Night market", spec)
    assert c.treatment in ("band", "scrim") and c.contrast >= 4.5
    assert colour_contrast("#FFFFFF", "#000000") == pytest.approx(21.0)


def test_sticker_labels_contrast_with_their_text():
    spec = TitleSpec.from_dict(styles()["bold_sticker"]["title"])
    for colour in ((250, 250, 250), (10, 10, 10), (200, 60, 40)):
        _, layout = set_title(Image.new("RGB", (1080, 1440), colour), "大字标题", spec)
        assert layout.treatment == "sticker" and layout.contrast >= 4.5


def test_a_title_of_only_emoji_is_refused():
    with pytest.raises(InputError, match="title"):
        set_title(Image.new("RGB", (200, 300)), "🍂🌅", TitleSpec())


def test_unknown_title_setting_is_a_config_error():
    from creator.errors import ConfigError

    with pytest.raises(ConfigError, match="colour"):
        TitleSpec.from_dict({"colour": "red"})
    assert dataclasses.asdict(TitleSpec.from_dict({"tilt": 2}))["tilt"] == 2


# --- word-aware breaking on real covers (issue 14 item 11) ---------------------------

ZH_PARTS = "西湖雾里的一天｜杭州慢游"
ZH_LONG = "在西湖边走了一整天，看雾慢慢散开"
EN_LONG = "Two slow days by West Lake in the autumn fog"


@pytest.fixture(scope="module")
def every_style(trip):
    """One cover per style for each long title (the real pipeline, small covers)."""
    out = {}
    for title in (ZH_PARTS, ZH_LONG, EN_LONG):
        for name in styles():
            res = Pipeline()(CoverRequest(context=trip, title=title, style=name, n=1, width=540,
                                          safety_check=False))
            out[title, name] = res.candidates[0].layout["lines"]
    return out


def test_a_title_breaks_at_its_separator_in_every_style(every_style):
    for name in styles():
        assert every_style[ZH_PARTS, name] == ["西湖雾里的一天", "杭州慢游"], name


def test_words_stay_whole_in_every_style(every_style):
    for name in styles():
        lines = every_style[ZH_LONG, name]
        assert "".join(lines) == ZH_LONG, (name, lines)
        for word in ("西湖", "一整天", "慢慢", "散开"):  # each on one line
            assert any(word in line for line in lines), (name, word, lines)
        assert not any(line[0] in NO_LINE_START for line in lines), (name, lines)
        en = every_style[EN_LONG, name]
        words = [w for line in en for w in line.split()]
        assert words == EN_LONG.upper().split() or words == EN_LONG.split(), (name, en)


def _ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """Runs of rows (first, last) that have dark ink on a white page."""
    rows = np.flatnonzero((np.asarray(image.convert("L")) < 160).any(axis=1))
    bands, start = [], rows[0]
    for a, b in zip(rows, rows[1:]):
        if b != a + 1:
            bands.append((start, a))
            start = b
    return bands + [(start, rows[-1])]


def test_the_magazine_rule_keeps_clear_of_title_and_kicker():
    spec = dataclasses.replace(TitleSpec.from_dict(styles()["magazine"]["title"]), treatment="plain")
    page = Image.new("RGB", (720, 960), (255, 255, 255))
    for title in (ZH_PARTS, EN_LONG, "西湖"):
        out, layout = set_title(page, title, spec, kicker="杭州 · 2024.10.03–10.04")
        bands = _ink_bands(out)
        # the title's lines, then the rule (a few rows), then the kicker
        assert len(bands) == len(layout.lines) + 2, (title, bands)
        text_bottom, (rule_top, rule_bottom), kicker_top = bands[-3][1], bands[-2], bands[-1][0]
        assert rule_bottom - rule_top < 0.06 * layout.size
        assert rule_top - text_bottom >= 0.2 * layout.size, (title, bands)
        assert kicker_top - rule_bottom >= 0.1 * layout.size, (title, bands)
    assert RULE_CLEARANCE >= 0.2
