"""How a draft reads on realistic trips: titles lead with the place and the trip's scenery,
day headers name places or a natural phrase, no general+specific doubles, no empty lines
for facts the photos do not give. Hand-built contexts: tests/pipelines/caption/contexts.py."""

from __future__ import annotations

import re

import pytest

from creator.resources import load_prompt
from creator.vocabulary import vocabulary
from pipelines.caption import CaptionRequest, Pipeline, caption_problems
from tests.pipelines.caption.contexts import REALISTIC, beach_no_place, weak_objects, west_lake

OBJECT_GROUPS = {"food", "animal", "people"}
PLACED = ["west_lake", "beach", "hiking", "night_market"]
STYLES = ["guide", "mood", "minimal"]


def drafts(ctx, lang, style="guide", n=4, seed=0):
    return Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=n, seed=seed)).captions


def context_tags(ctx) -> set[str]:
    return {t.id for t in ctx.top_tags} | {t.id for m in ctx.moments for t in m.tags}


def day_headers(body: str) -> list[tuple[int, str]]:
    """(day, what follows the separator) of every 'Day N｜...' header line."""
    out = []
    for line in body.splitlines():
        m = re.match(r"^Day (\d+)(?:｜| \| )(.+)$", line)
        if m and not re.search(r"。|\. ", m[2]):  # a header line, not an inline mood paragraph
            out.append((int(m[1]), m[2]))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(REALISTIC))
def test_realistic_trips_keep_limits_grounding_and_seeds(name, lang):
    ctx = REALISTIC[name]()
    for style in STYLES:
        a = drafts(ctx, lang, style, n=3, seed=7)
        assert [c.text() for c in a] == [c.text() for c in drafts(ctx, lang, style, n=3, seed=7)]
        assert len({c.text() for c in a}) == 3, [c.title for c in a]
        for c in a:
            assert caption_problems(c, ctx) == [], c.text()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", PLACED)
def test_title_leads_with_the_place(name, lang):
    ctx = REALISTIC[name]()
    place = ctx.places[0].name(lang)
    for style in STYLES:
        for c in drafts(ctx, lang, style, n=5, seed=1):
            assert c.title.startswith(place), (style, c.title)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", PLACED + ["beach_no_place"])
def test_title_theme_is_the_scenery_not_an_object(name, lang):
    """Drinks, pets and people score high in these trips; the title still names scenery or sights."""
    ctx = REALISTIC[name]()
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    voc = vocabulary()
    objects = [t for t in context_tags(ctx) if voc[t].group in OBJECT_GROUPS and t != "food"]
    scenes = [t for t in context_tags(ctx) if voc[t].group not in OBJECT_GROUPS]
    assert objects and scenes
    named_scene = 0
    for style in ("guide", "mood"):
        for c in drafts(ctx, lang, style, n=6, seed=3):
            low = c.title.lower()
            def names(t: str) -> bool:  # the tag's header, or its phrase ("by the lake")
                return any(w and w.lower() in low for w in (bank[t]["header"], bank[t].get("title_where")))

            for t in objects:
                assert not names(t), (t, c.title)
            named_scene += any(names(t) for t in scenes)
    assert named_scene >= 4  # most titles carry a theme, and it is scenery


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_day_headers_name_the_days_places(lang):
    ctx = west_lake()
    by_day: dict[int, set[str]] = {}
    for m in ctx.moments:
        by_day.setdefault(m.day, set()).add(m.place.name(lang))
    for c in drafts(ctx, lang, "guide", n=3, seed=2):
        heads = day_headers(c.body)
        assert [d for d, _ in heads] == [1, 2], c.body
        for day, what in heads:
            assert any(p in what for p in by_day[day]), (day, what)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", ["beach", "hiking", "night_market"])
def test_single_place_day_headers_are_phrases_not_tag_lists(name, lang):
    ctx = REALISTIC[name]()
    bank = load_prompt(f"caption/{lang}.yaml")
    phrases = {p for entry in bank["tags"].values() for p in entry.get("day", [])}
    bare = {bank["tags"][t]["header"] for t in ("people", "selfie", "group", "sky", "indoor")}
    for c in drafts(ctx, lang, "guide", n=3, seed=4):
        heads = day_headers(c.body)
        assert len(heads) == ctx.days, c.body
        for _, what in heads:
            assert " → " not in what  # an arrow joins places, never tags
            parts = what.split(bank["day_joiner"])
            assert all(p.lower() in {x.lower() for x in phrases} for p in parts), what
            assert not set(parts) & bare, what


GENERAL_SPECIFIC = [("architecture", "palace"), ("architecture", "temple"), ("drink", "coffee"),
                    ("drink", "tea"), ("sky", "sunset"), ("cafe", "coffee"),
                    ("people", "selfie"), ("plant", "forest")]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(REALISTIC))
def test_no_general_tag_next_to_its_specific_one(name, lang):
    """A palace photo is a palace, not "architecture"; a coffee is not "a drink" as well."""
    ctx = REALISTIC[name]()
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    present = context_tags(ctx)
    pairs = [(g, s) for g, s in GENERAL_SPECIFIC if g in present and s in present]
    assert pairs
    for style in STYLES:
        for c in drafts(ctx, lang, style, n=3, seed=5):
            heads = " ".join(w for _, w in day_headers(c.body))
            for general, _ in pairs:
                entry = bank[general]
                assert not any(cl in c.body for cl in entry["clauses"]), (general, c.body)
                assert not set(entry["hashtags"]) & set(c.hashtags), (general, c.hashtags)
                assert entry["header"] not in c.title + heads, (general, c.title, heads)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_place_no_dates_reads_naturally(lang):
    ctx = weak_objects()
    for style in STYLES:
        for c in drafts(ctx, lang, style, n=3, seed=6):
            text = c.title + "\n" + c.body
            assert "📍" not in text and "🗓" not in text and "地点" not in text and "Where" not in text
            assert "Day " not in c.body  # no dates: not told by day
            assert re.search(r"\d", text) is None
            for claim in ("一日游", "几天", "两天", "day trip", "these days", "in order"):
                assert claim not in text.lower(), (claim, text)
            assert c.title.strip() and len(c.body.splitlines()[0]) > 5


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dates_without_a_place_have_no_place_line(lang):
    ctx = beach_no_place()
    for c in drafts(ctx, lang, "guide", n=3, seed=8):
        first = c.body.splitlines()[0]
        assert first.startswith("🗓") and "📍" not in c.body, c.body
        assert "Day 3" in c.body
