"""creator.text: the one home of the CJK predicates, the language guess, grapheme
counting and the line breaker; every former copy now answers the same."""

from __future__ import annotations

import pytest
from PIL import ImageFont

from creator.resources import cjk_font_path
from creator.text import (NO_LINE_END, NO_LINE_START, SEPARATORS, break_lines, cjk_ratio, graphemes,
                          guess_language, is_cjk, is_cjk_script, layout_lines, title_length, trim_title,
                          words)

SAMPLES = ["杭州 City Walk", "City Walk", "東京タワー", "서울 여행", "🍂🌅", "", "   ", "2024",
           "Café au lait", "西湖｜Hangzhou", "𠀋山", "ｈｅｌｌｏ"]


def test_predicates():
    assert all(is_cjk(c) for c in "西湖杭州𠀋豈")  # unified, extension B, compatibility
    assert not any(is_cjk(c) for c in "aé1｜，タ한")
    assert all(is_cjk_script(c) for c in "西タたー한")
    assert not any(is_cjk_script(c) for c in "a｜，。1")
    assert cjk_ratio("杭州 City") == pytest.approx(2 / 6) and cjk_ratio("🍂 2024") == 0.0


def test_language_guess():
    expected = {"杭州 City Walk": "zh", "City Walk": "en", "東京タワー": "zh", "서울 여행": "zh",
                "🍂🌅": None, "": None, "   ": None, "2024": None, "Café au lait": "en",
                "西湖｜Hangzhou": "zh", "𠀋山": "zh", "ｈｅｌｌｏ": None}
    assert {s: guess_language(s) for s in SAMPLES} == expected


def test_every_former_caller_agrees():
    """The caption checks, the cover typography, the music query and the places lookup
    had a CJK test each; they now use these, so they agree on every sample."""
    from creator.music.query import text_language
    from creator.understanding.places import _han_name
    from pipelines.caption import checks
    from pipelines.cover.typography import title_language

    assert checks.is_cjk is is_cjk and checks.cjk_ratio is cjk_ratio and checks.title_length is title_length
    for s in SAMPLES:
        assert text_language(s) == guess_language(s), s
        assert title_language(s) == (guess_language(s) or "en"), s
        assert checks.cjk_ratio(s) == cjk_ratio(s)
    # a place's Chinese name: all Han (a middle dot allowed), no kana, no latin
    assert _han_name(["Hangzhou", "杭州市", "杭州"]) == "杭州"
    assert _han_name(["東京タワー", "Tokyo"]) is None
    assert _han_name(["𠀋山村"]) == "𠀋山村"


def test_graphemes_and_title_length():
    assert graphemes("👨‍👩‍👧é̃a") == ["👨‍👩‍👧", "é̃", "a"]
    assert title_length("杭州西湖两日｜秋天慢慢走🍂") == 13
    assert title_length("Two slow days by West Lake") == 13
    assert trim_title("杭州西湖两日｜秋天慢慢走看晚霞看日出", 10) == "杭州西湖两日"


def _measure(px=40):
    return ImageFont.truetype(str(cjk_font_path("sans")), px).getlength


# each title with the words that must never be split, written here (the oracle)
TITLES = {
    "西湖雾里的一天｜杭州慢游": ["西湖", "一天", "杭州"],
    "在西湖边走了一整天，看雾慢慢散开": ["西湖", "一整天", "慢慢", "散开"],
    "杭州西湖两日｜秋天慢慢走": ["杭州", "西湖", "两日", "秋天", "慢慢"],
    "第一次去青岛，海边的风好舒服！": ["第一次", "青岛", "海边", "舒服"],
}


def test_words_are_never_split_while_a_word_fits():
    measure = _measure()
    for text, keep in TITLES.items():
        pieces: list[str] = []
        for w in words(text):  # a word with the closing punctuation that sticks to it
            if pieces and all(c in NO_LINE_START for c in w):
                pieces[-1] += w
            else:
                pieces.append(w)
        longest = max(measure(w) for w in pieces)
        for width in range(int(longest) + 1, int(measure(text)) + 80, 15):
            lines = break_lines(text, measure, width)
            for word in keep:
                assert any(word in line for line in lines), (text, width, word, lines)
            for line in lines:
                assert measure(line) <= width + 0.5, (text, width, lines)
                assert line[0] not in NO_LINE_START and line[0] not in SEPARATORS, (text, width, lines)
                assert line[-1] not in NO_LINE_END, (text, width, lines)
            # nothing lost: only a separator where a line broke
            assert "".join(lines) in (text, *[text.replace(s, "", 1) for s in SEPARATORS]), (width, lines)


def test_separator_and_comma_are_the_preferred_breaks():
    measure = _measure()
    assert break_lines("西湖雾里的一天｜杭州慢游", measure, 330) == ["西湖雾里的一天", "杭州慢游"]
    assert break_lines("在西湖边走了一整天，看雾慢慢散开", measure, 420) == ["在西湖边走了一整天，", "看雾慢慢散开"]
    assert break_lines("Hangzhou · West Lake", measure, 300) == ["Hangzhou", "West Lake"]
    assert break_lines("Hangzhou · West Lake", measure, 1000) == ["Hangzhou · West Lake"]
    # with hard breaks the bar always breaks (the covers' first choice)
    assert break_lines("西湖｜杭州", measure, 1000, hard_breaks=True) == ["西湖", "杭州"]


def test_a_word_wider_than_the_line_is_split_and_says_so():
    measure = _measure()
    b = layout_lines("桂林山水甲天下", measure, 100)
    assert b.splits_words and all(measure(x) <= 100.5 for x in b.lines)
    assert "".join(b.lines) == "桂林山水甲天下"
    b = layout_lines("Supercalifragilistic", measure, 100)
    assert b.lines == ["Supercalifragilistic"] and b.overflows
    assert not layout_lines("桂林山水甲天下", measure, 400).splits_words


def test_newlines_always_break_and_emoji_stay_whole():
    measure = _measure()
    assert break_lines("西湖\n杭州", measure, 1000) == ["西湖", "杭州"]
    lines = break_lines("家人👨‍👩‍👧一起去西湖👨‍👩‍👧", measure, 90)
    assert "".join(lines) == "家人👨‍👩‍👧一起去西湖👨‍👩‍👧"
    assert all("\u200d" not in (ln[0], ln[-1]) for ln in lines)
