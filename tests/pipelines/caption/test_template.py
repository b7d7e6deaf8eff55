"""The template composer through the Pipeline: structure, limits, grounding, seeds, options."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from creator.errors import InputError
from creator.resources import load_prompt
from creator.vocabulary import vocabulary
from pipelines.caption import CaptionRequest, Pipeline, caption_problems, mentioned_themes, title_length
from pipelines.caption.checks import cjk_ratio, grounding_problems, is_cjk
from pipelines.caption.template import compose, style_names
from tests.pipelines.caption.contexts import HANGZHOU, KYOTO, OSAKA, hangzhou, kyoto, trip

EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF]")


def draft(ctx, **kw):
    return Pipeline()(CaptionRequest(context=ctx, **kw)).captions


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("style", ["guide", "mood", "minimal"])
@pytest.mark.parametrize("make", [hangzhou, kyoto])
def test_drafts_follow_the_conventions(lang, style, make):
    ctx = make()
    caps = draft(ctx, language=lang, style=style, n=3, seed=11)
    place = ctx.places[0].name(lang)
    for c in caps:
        assert c.language == lang and c.style == style and c.backend == "template"
        assert caption_problems(c, ctx) == [], c.text()
        assert title_length(c.title) <= 20 and len(c.body) <= 1000
        assert 3 <= len(c.hashtags) <= 10 and all(" " not in h and "#" not in h for h in c.hashtags)
        assert place in c.title + c.body and any(place in h for h in c.hashtags)
        assert len(mentioned_themes(c, ctx)) >= 2
        assert c.body.startswith("📍") and "🗓" in c.body.splitlines()[0] + c.body.splitlines()[1]
        assert len(EMOJI.findall(c.title)) <= 1
        lines = c.body.splitlines()
        tips_at = next(i for i, line in enumerate(lines) if "💡" in line)
        tips = [line for line in lines[tips_at + 1:] if line.startswith("· ")]
        assert 1 <= len(tips) <= 3
        if lang == "zh":
            assert cjk_ratio(c.title + c.body) > 0.8
            assert all(any(is_cjk(ch) for ch in h) for h in c.hashtags)
        else:
            assert cjk_ratio(c.title + c.body + "".join(c.hashtags)) == 0
        if style != "minimal":
            assert "Day 1" in c.body and f"Day {ctx.days}" in c.body
    assert len({c.text() for c in caps}) == 3


def test_same_seed_same_drafts_other_seed_other_drafts():
    ctx = kyoto()
    a = draft(ctx, language="zh", n=4, seed=3)
    b = draft(ctx, language="zh", n=4, seed=3)
    c = draft(ctx, language="zh", n=4, seed=4)
    assert [x.text() for x in a] == [x.text() for x in b]
    assert [x.text() for x in a] != [x.text() for x in c]
    assert len({x.text() for x in a}) == 4


def test_sentences_read_as_prose_with_connectives():
    ctx = hangzhou()
    c = draft(ctx, language="zh", style="guide", seed=1)[0]
    day1 = c.body.split("Day 1")[1].split("Day 2")[0]
    sentences = [s for s in day1.splitlines()[1].split("。") if s]
    assert len(sentences) >= 3
    bank = load_prompt("caption/zh.yaml")
    leads = [w for ws in bank["times"].values() for w in ws] + [w for ws in bank["connectives"].values() for w in ws]
    leads += ["到了", "等到"]
    # every sentence opens with a time word or a connective, then a clause: not "湖、日落、市集"
    assert all(any(s.startswith(w) for w in leads) for s in sentences), sentences
    assert "、" not in day1.splitlines()[1].replace("红的红、黄的黄", "")
    en = draft(ctx, language="en", style="guide", seed=1)[0]
    assert re.search(r"\b(Later|After that|Then|From there|Finally|In the \w+|By \w+|Come \w+|At \w+|"
                     r"Around \w+|That \w+|Early|First thing|Mid-morning|Towards|As the|Once|After dark|"
                     r"A little further|Not long after|To end|Last of all)\b", en.body)


def test_options_keywords_hints_tone_emoji():
    ctx = kyoto()
    c = draft(ctx, language="zh", keywords=["红叶季", "带爸妈"], hints="第一次带爸妈来京都", tone="温柔",
              emoji=False, seed=2)[0]
    assert "红叶季" in c.body and "带爸妈" in c.body + c.title
    assert "第一次带爸妈来京都" in c.body
    assert "红叶季" in c.hashtags
    assert not EMOJI.search(c.title + c.body)
    assert c.body.startswith("地点：")
    warm = load_prompt("caption/zh.yaml")["closings"]["warm"]
    assert any(w in c.body for w in warm)
    assert caption_problems(c, ctx, hints=["第一次带爸妈来京都"], keywords=["红叶季", "带爸妈"]) == []
    # a hint in the other language is not quoted, and the draft says so
    e = draft(ctx, language="en", hints=["第一次带爸妈来京都"], tone="mysterious")[0]
    assert "第一次" not in e.body
    assert any("hints" in n for n in e.notes) and any("tone" in n for n in e.notes)


def test_bad_request_names_the_argument():
    with pytest.raises(InputError, match="style"):
        draft(hangzhou(), style="baroque")
    with pytest.raises(Exception, match="n"):
        CaptionRequest(context=hangzhou(), n=0)
    assert draft(hangzhou(), style="氛围感")[0].style == "mood"
    assert set(style_names()) >= {"guide", "mood", "minimal"}


def test_context_without_dates_places_or_moments():
    ctx = trip(None, [[(9, ["beach", "sea"])], [(10, ["food"])]], start=None, gps=None, season=None)
    for lang in ("zh", "en"):
        c = draft(ctx, language=lang, seed=5)[0]
        assert "🗓" not in c.body and "📍" not in c.body
        assert 3 <= len(c.hashtags) <= 10 and title_length(c.title) <= 20
        assert grounding_problems(c, ctx) == []
        assert re.search(r"\d", c.body) is None  # no date, no length, nothing invented
        tips = load_prompt(f"caption/{lang}.yaml")["tags"]["beach"]["tips"]
        assert any(t in c.body for t in tips)  # a beach → sun protection


def test_multi_place_trip_and_long_trip_fit():
    ctx = trip(KYOTO, [[(9, ["temple"]), (14, ["street"])], [(10, ["castle" if False else "palace"]), (19, ["night"])]],
               places_by_day=[KYOTO, OSAKA], start=date(2024, 4, 1), season="spring")
    c = draft(ctx, language="zh")[0]
    assert "大阪" in c.body and "京都" in c.body and grounding_problems(c, ctx) == []
    ids = vocabulary().ids
    long = trip(HANGZHOU, [[(8 + 3 * k, ids[(d * 3 + k) % len(ids)] and [ids[(d * 3 + k) % len(ids)]])
                             for k in range(3)] for d in range(9)])
    for lang in ("zh", "en"):
        for style in ("guide", "mood"):
            c = draft(long, language=lang, style=style)[0]
            assert len(c.body) <= 1000 and caption_problems(c, long) == [], (lang, style, len(c.body))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bank_covers_the_vocabulary_and_every_clause_is_grounded(lang):
    """Every tag, and every family of themes.yaml (water, green), has a bank entry whose
    clauses mention it; each clause drafts cleanly."""
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    for tid in list(vocabulary().ids) + list(load_prompt("caption/themes.yaml")["families"]):
        entry = bank.get(tid)
        assert entry, f"{lang}.yaml has no entry for tag {tid!r}"
        assert entry["hashtags"] and entry["header"] and len(entry["clauses"]) >= 2
        for clause in entry["clauses"]:
            assert any(w.lower() in clause.lower() for w in entry["words"]), (tid, clause)
        for h in entry["hashtags"]:
            assert " " not in h and (lang == "en" or any(is_cjk(c) for c in h)), h
    # every clause, tip and connective through the composer: no grounding problem anywhere
    ids = vocabulary().ids
    for k in range(0, len(ids), 2):
        ctx = trip(HANGZHOU, [[(6, ids[k:k + 1]), (12, ids[k + 1:k + 2] or ids[:1])],
                              [(18, ids[k:k + 2])]])
        for seed in range(2):
            for style in ("guide", "mood", "minimal"):
                c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
                assert grounding_problems(c, ctx) == [], (ids[k], c.text())
