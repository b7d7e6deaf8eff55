"""Limits, grounding, reply parsing and repair."""

from __future__ import annotations

import pytest

from creator.types import Caption
from pipelines.caption.checks import (caption_problems, grounding_problems, parse_reply, repair, title_length,
                                      trim_title)
from tests.pipelines.caption.contexts import hangzhou, kyoto


@pytest.mark.parametrize("text,n", [
    ("", 0),
    ("杭州", 2),
    ("Kyoto", 3),  # Latin letters count half, rounded up
    ("杭州西湖两日｜秋天慢慢走🍂", 13),
    ("Two slow days 🌅", 8),
    ("👨‍👩‍👧 family", 5),  # a ZWJ family is one emoji
    ("👍🏽", 1),  # skin tone modifier
    ("❤️", 1),  # variation selector
    ("🇯🇵京都", 3),  # a flag is two regional indicators
    ("1️⃣", 1),  # keycap
    ("1️⃣2️⃣", 2),  # keycaps are emoji, not digits
    ("Two slow days by West Lake", 13),
    ("café", 2),
    ("cafe\u0301", 2),  # combining accent
])
def test_title_length(text, n):
    assert title_length(text) == n


def test_trim_title_keeps_at_most_20_and_cuts_at_a_boundary():
    t = trim_title("京都三日｜红叶和寺庙和夜景和美食都想要的一次旅行🍁")
    assert title_length(t) <= 20
    assert t.startswith("京都三日")
    t = trim_title("A very long title about two slow days in Kyoto")
    assert title_length(t) <= 20 and not t.endswith(" ")
    assert trim_title("短标题") == "短标题"


def _cap(body, title="杭州两日｜秋天", tags=("杭州", "湖边", "日落"), lang="zh"):
    return Caption(title=title, body=body, hashtags=list(tags), language=lang)


def test_grounded_text_has_no_problems():
    ctx = hangzhou()
    body = "📍 杭州　🗓 10.03–10.04　两天一晚\n\n秋天去了一趟杭州，湖边和日落都没有错过。Day 2｜骑行"
    assert grounding_problems(_cap(body), ctx) == []


@pytest.mark.parametrize("body,word", [
    ("坐标 30.25, 120.15，湖边", "coordinates"),
    ("在 30.25,120.15 看日落", "coordinates"),
    ("湖边 N30° E120°", "coordinates"),
    ("拍摄于 30.2500", "coordinate"),
    ("住在西湖路12号附近", "address"),
    ("酒店地址给大家", "address"),
    ("10月5日去了湖边", "date"),
    ("10.07 的日落", "date"),
    ("2023年的秋天", "year"),
    ("三天两晚，刚刚好", "length"),
    ("Day 3｜湖边", "Day 3"),
    ("第四天去了湖边", "第四"),
    ("顺路去了上海和苏州", "place"),
    ("比巴黎还美", "place"),
])
def test_ungrounded_zh(body, word):
    problems = grounding_problems(_cap(body), hangzhou())
    assert problems, body
    assert any(word.lower() in p.lower() for p in problems), problems


@pytest.mark.parametrize("body,word", [
    ("We stayed at 12 Shijo Street for the night.", "address"),
    ("Shot at 35.01, 135.77.", "coordinates"),
    ("Latitude aside, the temples were great.", "coordinates"),
    ("We arrived on Nov 20.", "date"),
    ("Then a train to Tokyo.", "place"),
    ("Four days in Kyoto.", "length"),
    ("A trip in 2019.", "year"),
    ("Day 4 — temples.", "Day 4"),
])
def test_ungrounded_en(body, word):
    problems = grounding_problems(_cap(body, title="Kyoto", tags=("Kyoto", "Temples", "Autumn"), lang="en"), kyoto())
    assert any(word.lower() in p.lower() for p in problems), (body, problems)


def test_grounded_en_and_hints_are_facts():
    ctx = kyoto()
    ok = "📍 Kyoto, Japan   🗓 Nov 16–18 · 3 days\n\nThree days in Kyoto. Day 3 — the river at sunset."
    assert grounding_problems(_cap(ok, title="Kyoto", tags=("Kyoto", "Temples", "River"), lang="en"), ctx) == []
    # a place or a date the user gave is allowed
    body = "We came from Tokyo on the shinkansen."
    cap = _cap(body, title="Kyoto", tags=("Kyoto", "Temples", "River"), lang="en")
    assert grounding_problems(cap, ctx)
    assert grounding_problems(cap, ctx, hints=["came from Tokyo by train"]) == []


def test_caption_problems_limits_language_and_keywords():
    ctx = hangzhou()
    good = _cap("📍 杭州\n\n秋天的杭州，沿着湖边慢慢走，日落很美。")
    assert caption_problems(good, ctx) == []
    assert any("keyword" in p for p in caption_problems(good, ctx, keywords=["西湖"]))
    long = good.model_copy(update={"title": "杭" * 21, "body": "湖" * 1001, "hashtags": ["a b", "湖"]})
    ps = " | ".join(caption_problems(long, ctx))
    assert "title is 21" in ps and "body is 1001" in ps and "2 hashtags" in ps and "spaces" in ps
    english = _cap("We walked along the lake in Hangzhou at sunset.", title="Hangzhou")
    assert any("Chinese" in p for p in caption_problems(english, ctx))
    no_place = _cap("秋天沿着湖边慢慢走，日落很美。", title="秋天两日｜湖边")
    assert any("place" in p for p in caption_problems(no_place, ctx))
    no_theme = _cap("杭州的两天，很开心。", title="杭州两日", tags=("杭州", "旅行", "日记"))
    assert any("themes" in p for p in caption_problems(no_theme, ctx))


def test_parse_reply_variants():
    want = {"title": "杭州｜湖边", "body": "正文 {not json}", "hashtags": ["杭州", "湖边", "日落"]}
    fenced = '好的！\n```json\n{"title": "杭州｜湖边", "body": "正文 {not json}", "hashtags": ["杭州", "湖边", "日落"]}\n```'
    assert parse_reply(fenced) == want
    prose = 'Sure. {"note": 1} then {"title": "杭州｜湖边", "body": "正文 {not json}", "hashtags": "#杭州 #湖边 #日落"}'
    assert parse_reply(prose) == want
    with pytest.raises(ValueError):
        parse_reply("no json here")
    with pytest.raises(ValueError):
        parse_reply('{"title": 3, "body": "x"}')
    with pytest.raises(ValueError):
        parse_reply('{"title": "x", "body": "y", "hashtags": [1, 2]}')


def test_repair_fixes_small_things():
    template = Caption(title="t", body="b", hashtags=["杭州", "杭州旅行", "湖边"])
    raw = Caption(title="杭州西湖两日游｜秋天的湖边和日落真的太美了一定要去🍂", body="正文\n\n#杭州 #湖边",
                  hashtags=["#杭州", "杭 州", "湖边", "#湖边"])
    fixed = repair(raw, template, keywords_line="关键词：西湖。")
    assert title_length(fixed.title) <= 20
    assert fixed.hashtags == ["杭州", "湖边", "杭州旅行"]
    assert fixed.body == "正文\n\n关键词：西湖。"
    big = raw.model_copy(update={"body": ("第一段。" * 100 + "\n\n") * 5})
    assert len(repair(big, template).body) <= 1000
