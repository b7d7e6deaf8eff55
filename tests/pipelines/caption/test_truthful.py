"""Drafts say only what the photos show: an oracle written here, not the checker's.

For each trip the test knows which tags its photos carry. Across every style, both
languages and n = 3, no draft may name a scene or subject of another tag (its header,
title phrase or hashtags in either bank), and each must name at least two of the
trip's own. The caption checker (checks.py) is not consulted: a blind spot there must
not hide a claim here.
"""

from __future__ import annotations

import re

import pytest

from creator.resources import load_prompt
from creator.vocabulary import vocabulary
from pipelines.caption import CaptionRequest, Pipeline, style_names
from tests.pipelines.caption.contexts import REALISTIC


def _shown(ctx) -> set[str]:
    ids = {t.id for m in ctx.moments for t in m.tags} | {t.id for i in ctx.items for t in i.tags}
    broader = load_prompt("caption/themes.yaml")["broader"]
    # a general word for a specific thing shown ("architecture" for a temple) is true too
    ids |= {g for g, specific in broader.items() if ids & set(specific)}
    return ids


def _names(tag_id: str, lang: str) -> list[str]:
    """How a draft names a tag: its header, title phrase and hashtags (a one-character
    Chinese header such as 花 is left out: it is part of too many other words, 浪花)."""
    entry = load_prompt(f"caption/{lang}.yaml")["tags"].get(tag_id) or {}
    out = [entry.get("header"), entry.get("title_where"), *entry.get("hashtags", [])]
    return [w for w in out if w and (lang == "en" or len(w) > 1)]


def _claims(tag_ids, shown, lang) -> list[tuple[str, str]]:
    """(tag, word) pairs that would claim a tag not shown: its names less those that also
    name a shown tag (a lighthouse's #海边 is the sea's too, 咖啡 is in 咖啡馆)."""
    own = [w for t in shown for w in _names(t, lang)]
    return [(t, w) for t in tag_ids for w in _names(t, lang)
            if not any(w.lower() in o.lower() for o in own)]


def _title_phrase(tag_id: str, lang: str) -> str | None:
    return (load_prompt(f"caption/{lang}.yaml")["tags"].get(tag_id) or {}).get("title_where")


def _says(text: str, word: str, lang: str) -> bool:
    if lang == "en" or word.isascii():
        return re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text, re.I) is not None
    return word in text


def _text(caption, ctx, lang) -> str:
    """Title, body and hashtags less the place names (西湖 names a place, not a lake photo)
    and the tips (advice such as "rest indoors at midday" claims nothing)."""
    body = "\n".join(line for line in caption.body.splitlines() if not line.startswith("· "))
    text = "\n".join([caption.title, body, " ".join(caption.hashtags)])
    for p in ctx.places:
        for name in (p.name_zh, p.name_en, p.city_zh, p.city_en):
            if name:
                text = text.replace(name, " ").replace(re.sub(r"[\s'’\-.]", "", name), " ")
    return text


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_no_draft_claims_what_no_photo_shows(name, lang):
    ctx = REALISTIC[name]()
    shown = _shown(ctx)
    claims = _claims([t for t in vocabulary().ids if t not in shown], shown, lang)
    bank = load_prompt(f"caption/{lang}.yaml")
    # a tip for a scene no photo shows (sunscreen for a beach) is a claim too
    foreign_tips = {tip for t, e in bank["tags"].items() if t not in shown for tip in e.get("tips", [])} - {
        tip for t in shown for tip in bank["tags"].get(t, {}).get("tips", [])}
    for style in style_names():
        for seed in (0, 1):
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3, seed=seed)).captions:
                text = _text(c, ctx, lang)
                for t, word in claims:
                    # a title phrase ("on the water") is the tag's only in a title: a lake's
                    # clause may watch "lines on the water"
                    where = c.title if word == _title_phrase(t, lang) else text
                    assert not _says(where, word, lang), (t, word, c.text())
                tips = [line[2:] for line in c.body.splitlines() if line.startswith("· ")]
                assert not set(tips) & foreign_tips, (set(tips) & foreign_tips, c.text())
                named = {t for t in shown for w in _names(t, lang) if _says(text, w, lang)}
                assert len(named) >= 2, (named, c.text())


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_a_tip_is_for_a_scene_the_note_tells(name, lang):
    ctx = REALISTIC[name]()
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    owner = {tip: t for t, e in bank.items() for tip in e.get("tips", [])}
    for style in style_names():
        for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions:
            story = "\n".join([c.title] + [line for line in c.body.splitlines() if not line.startswith("· ")])
            for line in c.body.splitlines():
                t = owner.get(line[2:]) if line.startswith("· ") else None
                if t is None:
                    continue  # a general tip (the season's, any trip's)
                e = bank[t]
                words = [e["header"], *e.get("words", []), *(e.get("day") or []), e.get("title_where") or ""]
                assert any(w and _says(story, w, lang) for w in words) or any(
                    cl in story for cl in e.get("clauses", [])), (t, line, c.text())



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_tropical_winter_gets_no_cold_weather_tip(lang):
    """Sanya in January is not cold: no gloves and no early dark; the tropics' tips instead.
    The same trip placed in Harbin keeps the winter's."""
    from datetime import date

    from tests.pipelines.caption.contexts import SANYA, scenes

    general = load_prompt(f"caption/{lang}.yaml")["generic_tips"]

    def tips(gps):
        ctx = scenes([(1, 10, SANYA, [("sky", 0.9), ("clouds", 0.8)]), (2, 16, SANYA, [("city", 0.8), ("sky", 0.7)])],
                     start=date(2025, 1, 10), season="winter", gps=gps)
        return {line[2:] for style in style_names() for seed in range(6)
                for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3, seed=seed)).captions
                for line in c.body.splitlines() if line.startswith("· ")}

    sanya = tips((18.25, 109.5))
    assert not sanya & set(general["winter"]), sanya
    assert sanya & set(general["tropics"]), sanya
    assert tips((45.8, 126.5)) & set(general["winter"])

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_sunshine_in_a_moment_whose_photos_show_fog(lang):
    from datetime import date

    from tests.pipelines.caption.contexts import HUANGSHAN, scenes

    ctx = scenes([(1, 8, HUANGSHAN, [("meadow", 0.9), ("fog", 0.8)]),
                  (1, 11, HUANGSHAN, [("meadow", 0.85), ("fog", 0.7), ("plant", 0.5)])],
                 start=date(2024, 10, 3), season="autumn", gps=(30.13, 118.17))
    sun = re.compile(r"阳光|太阳|晒" if lang == "zh" else r"\b(sun|sunlight|sunshine|sunny|sunlit)\b", re.I)
    for style in style_names():
        for seed in range(4):
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3, seed=seed)).captions:
                story = "\n".join(line for line in c.body.splitlines() if not line.startswith("· "))
                assert not sun.search(story), c.text()



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_lit_sky_in_a_moment_at_night(lang):
    """Night skylines with sky and clouds tagged: no "颜色干净" blue sky, no clouds drifting."""
    from datetime import date

    from tests.pipelines.caption.contexts import OSAKA, scenes

    ctx = scenes([(1, 21, OSAKA, [("sky", 0.9), ("city", 0.85), ("clouds", 0.8)]),
                  (1, 22, OSAKA, [("clouds", 0.9), ("sky", 0.8), ("night", 0.7)]),
                  (2, 20, OSAKA, [("sky", 0.9), ("clouds", 0.8), ("city", 0.7)])],
                 start=date(2024, 10, 3), season="autumn", gps=(34.69, 135.5))
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    lit = [c for t in ("sky", "clouds") for c in bank[t]["clauses"]]
    told = 0
    for style in style_names():
        for seed in range(4):
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3, seed=seed)).captions:
                told += 1
                assert not [x for x in lit if x in c.body], c.text()
    assert told >= 3 * 4 * len(style_names())

# --- what no photo can show -------------------------------------------------------------------
# A photo shows things and light; it does not carry a sound, a smell, a taste, the feel of
# sand or wind, the temperature, how old a building is, or that a car was moving. A
# sentence that says one as fact ("浪声一阵接着一阵", "the sea breeze carried a little salt")
# is true of some trips and invented for the rest (a sea wrongly tagged on a snowy
# airport got "咸咸的味道"). Nor where a dish was eaten or how far we went for it ("找了家
# 当地小馆子", "we made a detour just for the food"), nor how many came after it. The
# patterns below (written here, not taken from the banks) may match tips, which are
# advice ("湖边风大，傍晚记得加件衣服"), and nothing else.
UNSHOWN = {
    "zh": ["声", "听", "味", "香", "咸", "风(?!景|光|格)", "暖", "凉", "冷", "脚背", "光着脚", "呼吸", "空气", "咯吱", "沙沙",
           "多汁", "甜甜", "晒太阳", "晒在身上", "老建筑", "老房子", "历史感", "红墙", "一进又一进", "开过", "划过",
           "飞过", "边走边", "古寺", "城市夜景", "小馆", "绕了", "一道接一道"],
    "en": [r"sounds?", r"hear(?:d)?", r"loud(?:ly)?", r"smell\w*", r"scent", r"aroma", r"salt\w*", r"breeze",
           r"wind(?:s|y)?", r"underfoot", r"feet", r"barefoot", r"breath\w*", r"air", r"crunch\w*", r"rustl\w*",
           r"incense", r"bells?", r"warm", r"cool", r"cold", r"juicy", r"tast\w*", r"old", r"roar\w*",
           r"rolled past", r"flew overhead", r"crossed the sky", r"history", r"CityLights",
           r"local place", r"detour", r"dish after dish", r"kept coming"],
}
_NOT_TOLD = {"tips", "generic_tips", "words", "script", "place_label", "time_words", "lit_words", "colour_words", "town_words", "tone_aliases",
             "place_suffixes", "place_suffix_lead", "place_cut", "language", "language_name"}


def _told_strings(node, path=()):
    """Every string of a bank that can reach a draft, with where it sits."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in _NOT_TOLD:
                yield from _told_strings(v, path + (str(k),))
    elif isinstance(node, list):
        for v in node:
            yield from _told_strings(v, path)
    elif isinstance(node, str):
        yield path, node


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_banks_claim_nothing_a_photo_cannot_show(lang):
    bank = load_prompt(f"caption/{lang}.yaml")
    if lang == "zh":
        pats = [re.compile(p) for p in UNSHOWN["zh"]]
    else:
        pats = [re.compile(rf"(?<![A-Za-z]){p}(?![A-Za-z])", re.I) for p in UNSHOWN["en"]]
    bad = [(".".join(path), s, found) for path, s in _told_strings(bank)
           if (found := [p.pattern for p in pats if p.search(s)])]
    assert not bad, "\n".join(map(str, bad))
