"""The template composer's wording: titles that repeat no word and fit with long place
names; times of day that agree with the photos; no season the photos contradict.

Each test drafts across many seeds and every style, because the failures it guards
against come from particular draws of templates and clauses.
"""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from creator.resources import load_prompt
from creator.types import Place
from pipelines.caption import caption_problems, title_length
from pipelines.caption.checks import grounding_problems, is_cjk
from pipelines.caption.template import compose, time_bucket
from tests.pipelines.caption.contexts import HANGZHOU, KYOTO, scenes, trip

STYLES = ("guide", "mood", "minimal")
SEEDS = range(8)


def _place(zh: str, en: str, cc: str, country: tuple[str, str], city: tuple[str, str] | None = None) -> Place:
    return Place(name_zh=zh, name_en=en, city_zh=city[0] if city else None, city_en=city[1] if city else None,
                 country_zh=country[0], country_en=country[1], country_code=cc)


# (place, the forms of its name a title may use, en and zh)
LONG_PLACES = [
    (_place("京都府", "Kyoto Prefecture", "JP", ("日本", "Japan")), ["Kyoto Prefecture", "Kyoto"], ["京都府", "京都"]),
    (_place("里约热内卢", "Rio de Janeiro", "BR", ("巴西", "Brazil"), ("里约热内卢", "Rio de Janeiro")),
     ["Rio de Janeiro"], ["里约热内卢"]),
    (_place("路易斯湖", "Lake Louise, Alberta", "CA", ("加拿大", "Canada")), ["Lake Louise"], ["路易斯湖"]),
    (_place("西湖", "West Lake", "CN", ("中国", "China"), ("杭州", "Hangzhou")), ["West Lake"], ["西湖"]),
    (_place("湖区国家公园", "Lake District National Park", "GB", ("英国", "United Kingdom")),
     ["Lake District National Park", "Lake District"], ["湖区国家公园", "湖区"]),
    (_place("圣莫尼卡海滩", "Santa Monica Beach", "US", ("美国", "United States"), ("洛杉矶", "Los Angeles")),
     ["Santa Monica Beach"], ["圣莫尼卡海滩"]),
    (_place("黄山", "Huangshan", "CN", ("中国", "China")), ["Huangshan"], ["黄山"]),
    (_place("西双版纳傣族自治州", "Xishuangbanna Dai Autonomous Prefecture", "CN", ("中国", "China")),
     ["Xishuangbanna"], ["西双版纳"]),
    # no Han name known: the zh draft uses the roman one
    (_place("Frankfurt am Main", "Frankfurt am Main", "DE", ("德国", "Germany")), ["Frankfurt am Main"],
     ["Frankfurt am Main"]),
]
PLANS = {
    "lake": [[(7, ["lake", "mountain"]), (17, ["sunset", "lake"])], [(9, ["forest", "hiking"]), (20, ["night", "city"])]],
    "beach": [[(10, ["beach", "sea"]), (19, ["sunset", "beach"])], [(9, ["food", "market"]), (21, ["night", "street"])]],
    "autumn": [[(8, ["autumn", "temple"]), (13, ["street", "food"])], [(10, ["river", "bridge"]), (16, ["sky", "river"])]],
}
EN_STOP = {"a", "an", "the", "and", "of", "in", "on", "at", "to", "for", "by", "my", "its", "with", "de", "la", "am"}


def _en_words_repeat(title: str, place: str) -> list[tuple[str, str]]:
    """Pairs of words told twice in an English title (lake/lakeside, autumn/autumn); the
    place's own words are compared with the rest only."""
    def words(text: str) -> list[str]:
        return [w for w in re.findall(r"[a-z]+", text.lower()) if w not in EN_STOP]

    def same(a: str, b: str) -> bool:
        s, t = sorted((a, b), key=len)
        return a == b or (len(s) >= 3 and t.startswith(s)) or (len(s) >= 5 and s[-4:] == t[-4:])

    place_words = set(words(place))
    rest = [w for w in words(title) if w not in place_words]
    pairs = [(a, b) for i, a in enumerate(rest) for b in rest[i + 1:] if same(a, b)]
    return pairs + [(a, b) for a in place_words for b in rest if same(a, b)]


def _zh_chars_repeat(title: str) -> set[str]:
    han = [c for c in title if is_cjk(c) and c != "的"]
    return {c for c in han if han.count(c) > 1}


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_titles_with_long_or_overlapping_places_repeat_nothing_and_fit(lang, plan):
    seen = 0
    for place, en_forms, zh_forms in LONG_PLACES:
        ctx = trip(place, PLANS[plan], start=date(2024, 10, 5))
        name = place.name(lang)
        roman = not any(is_cjk(ch) for ch in name)
        for style in STYLES:
            for seed in SEEDS:
                c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
                t = c.title
                assert title_length(t) <= 20, t
                # the place whole or in one of its short forms, never cut mid-name
                # ("Xishuangbanna Dai"); a name too long for any hook may give way to one
                forms = en_forms if lang == "en" else zh_forms
                form = next((f for f in sorted(forms, key=len, reverse=True) if t.startswith(f)), None)
                head = name.split()[0] if roman else name[:2]
                assert form or not (t.startswith(head + " ") or t.startswith(head + ",") if roman else t.startswith(head)), \
                    (forms, t)
                if roman:
                    assert _en_words_repeat(t, form or "") == [], (name, t)
                else:
                    assert _zh_chars_repeat(t) == set(), (name, t)
                if seed >= 2:  # the whole check is slow (a gazetteer scan): on a few drafts
                    pass
                elif lang == "en" or not roman:
                    assert caption_problems(c, ctx) == [], c.text()
                else:  # a zh draft around a roman name is not > 80 % Chinese; still grounded
                    assert grounding_problems(c, ctx) == [], c.text()
                seen += 1
    assert seen == len(LONG_PLACES) * len(STYLES) * len(SEEDS)


@pytest.mark.parametrize("lang,k,short", [("en", 0, "Kyoto"), ("en", 2, "Lake Louise"), ("zh", 7, "西双版纳")])
def test_a_long_place_name_is_shortened_to_leave_room_for_a_hook(lang, k, short):
    """A name over the title's place budget gives way to its short form plus a theme."""
    place = LONG_PLACES[k][0]
    ctx = trip(place, PLANS["autumn"], start=date(2024, 10, 5))
    for style in STYLES:
        for seed in SEEDS:
            t = compose(ctx, lang=lang, style=style, rng=random.Random(seed)).title
            assert t.startswith(short) and place.name(lang) not in t, t
            assert title_length(t) >= title_length(short) + 2, t  # room left for a hook


def _sentences(body: str, lang: str) -> list[str]:
    text = "\n".join(line for line in body.splitlines() if not line.startswith(("📍", "🗓", "·", "💡")))
    return [s.strip() for s in re.split(r"[。！？\n]" if lang == "zh" else r"(?<=[.!?])\s+|\n", text) if s.strip()]


def _time_words(lang: str) -> dict[str, re.Pattern]:
    bank = load_prompt(f"caption/{lang}.yaml")
    day = [w for b in ("early", "morning", "noon", "afternoon") for w in bank["times"][b]]
    day += [bank["time_nouns"][b] for b in ("early", "morning", "noon", "afternoon")]
    night = bank["times"]["night"] + [bank["time_nouns"]["night"]]
    if lang == "en":
        sun = r"\b(sun|sunlight|sunshine)\b"
        return {"day": re.compile(r"\b(" + "|".join(map(re.escape, day)) + r")\b", re.I),
                "night": re.compile(r"\b(" + "|".join(map(re.escape, night)) + r"|night|dark)\b", re.I),
                "sun": re.compile(sun, re.I), "dinner": re.compile(r"\bdinner\b", re.I)}
    return {"day": re.compile("|".join(map(re.escape, day))), "night": re.compile("|".join(map(re.escape, night)) + "|夜"),
            "sun": re.compile("阳光|太阳"), "dinner": re.compile("晚饭|晚餐")}


def _night_at_wrong_clock() -> object:
    """One day told by photos the tagger calls night (with other tags ahead of "night"), but
    whose camera clock says morning: a phone left on another time zone."""
    return scenes([
        (1, 9, HANGZHOU, [("street", 0.9), ("market", 0.85), ("food", 0.8), ("night", 0.75)]),
        (1, 10, HANGZHOU, [("night", 0.8), ("city", 0.7), ("street", 0.6)]),
    ], start=date(2024, 10, 3), season="autumn", gps=(30.25, 120.15))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_night_photos_get_no_morning_phrase(lang):
    ctx = _night_at_wrong_clock()
    assert [time_bucket(m) for m in ctx.moments] == ["night", "night"]
    words = _time_words(lang)
    for style in ("guide", "mood"):
        for seed in range(12):
            c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
            story = "\n".join(s for s in _sentences(c.body, lang) if not s.startswith(("Day", "Tips")))
            assert not words["day"].search(story), (style, seed, c.body)
            assert not words["sun"].search(story), c.body
            assert words["night"].search(story), c.body  # the photos' time is told


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_clock_the_photos_contradict_weakly_leaves_the_time_unsaid(lang):
    """A blue sky at 22:00, a faint night tag at noon: no time of day, no sun at night."""
    ctx = scenes([
        (1, 22, HANGZHOU, [("cat", 0.9), ("sky", 0.8), ("street", 0.6)]),
        (1, 12, HANGZHOU, [("restaurant", 0.9), ("food", 0.8), ("night", 0.2)]),
    ], start=date(2024, 10, 3), season="autumn", gps=(30.25, 120.15))
    assert [time_bucket(m) for m in ctx.moments] == [None, None]
    words = _time_words(lang)
    for style in ("guide", "mood"):
        for seed in range(12):
            c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
            story = "\n".join(_sentences(c.body, lang)[1:])  # the opening says nothing of time
            for kind in ("day", "night", "sun", "dinner"):
                assert not words[kind].search(story), (kind, seed, c.body)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_faint_sunset_under_a_blue_sky_does_not_outvote_the_clock(lang):
    """At noon a city under a blue sky (0.94) with a faint sunset (0.3): the sunset only
    vetoes the clock (the time is unsure, the draft tells none); the sky's strength does not
    vouch for it (a held-out trip of bench_truthful_drafts was told "Late in the day" for
    photos taken 12:00-15:00). A clear sunset (0.6) at noon tells the evening (a wrong
    clock)."""
    def trip(sunset: float):
        return scenes([(1, 12, HANGZHOU, [("city", 0.9), ("sky", 0.94), ("sunset", sunset)])],
                      start=date(2024, 10, 3), season="autumn", gps=(30.25, 120.15))

    assert [time_bucket(m) for m in trip(0.3).moments] == [None]
    assert [time_bucket(m) for m in trip(0.6).moments] == ["evening"]
    evening = load_prompt(f"caption/{lang}.yaml")["times"]["evening"]
    for style in ("guide", "mood"):
        for seed in range(8):
            c = compose(trip(0.3), lang=lang, style=style, rng=random.Random(seed))
            assert not any(w.lower() in c.body.lower() for w in evening), (seed, c.body)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_time_bound_clauses_follow_the_moment(lang):
    """Dinner is not eaten at noon, a cat does not sun itself after dark, and a clause that
    names its own time gets no second time word ("By night, the night view")."""
    ctx = scenes([
        (1, 12, KYOTO, [("restaurant", 0.9), ("cat", 0.8)]),
        (1, 21, KYOTO, [("night", 0.9), ("cat", 0.8), ("restaurant", 0.7)]),
        (2, 20, KYOTO, [("night", 0.9), ("starry_sky", 0.8)]),
    ], start=date(2024, 11, 16), season="autumn", gps=(35.01, 135.77))
    words = _time_words(lang)
    for style in ("guide", "mood"):
        for seed in range(16):
            c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
            for s in _sentences(c.body, lang):
                if words["dinner"].search(s):
                    assert not words["day"].search(s), s
                if words["sun"].search(s):
                    assert not words["night"].search(s), s
                night = re.findall(r"\b(?:night|dark)\b", s, re.I) if lang == "en" else re.findall("夜|晚上|天黑", s)
                assert len(night) <= 1, s


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_season_that_the_photos_contradict(lang):
    ctx = trip(KYOTO, [[(9, ["autumn", "temple"]), (14, ["street"])], [(10, ["autumn", "river"])]],
               start=date(2024, 4, 5), season="spring")
    spring = re.compile(r"spring", re.I) if lang == "en" else re.compile("春")
    for style in STYLES:
        for seed in SEEDS:
            c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
            assert not spring.search(c.title + c.body + " ".join(c.hashtags)), c.text()


def test_english_theme_headers_with_an_article_read_once():
    ctx = trip(HANGZHOU, [[(9, ["city", "pier"]), (15, ["road", "city"])]], start=date(2024, 10, 5))
    for style in STYLES:
        for seed in SEEDS:
            c = compose(ctx, lang="en", style=style, rng=random.Random(seed))
            assert not re.search(r"\bthe the\b", c.title + c.body, re.I), c.text()



@pytest.mark.parametrize("tags", [["drink", "coffee"], ["clouds", "mountain"], ["food", "art"]])
def test_english_themes_read_as_phrases_wherever_they_go(tags):
    """A title's "where" follows "Berlin," as well as "a day" (no "Berlin, of good drinks");
    a plural header takes no singular verb (no "the clouds was the brightest page")."""
    ctx = trip(HANGZHOU, [[(10, tags), (15, tags[::-1])], [(11, tags)]], start=date(2024, 10, 5))
    plural = [e["header"] for e in load_prompt("caption/en.yaml")["tags"].values() if e["header"].endswith("s")]
    verb = re.compile(r"\b(?:%s) (?:was|is|has)\b" % "|".join(map(re.escape, plural)), re.I)
    for style in STYLES:
        for seed in range(16):
            c = compose(ctx, lang="en", style=style, rng=random.Random(seed))
            assert not re.search(r"(?:^|[,:] )of\b", c.title, re.I), c.title
            assert not verb.search(c.title + "\n" + c.body), c.text()

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_follows_finally_within_a_day(lang):
    from tests.pipelines.caption.contexts import REALISTIC, hangzhou, kyoto

    last = load_prompt(f"caption/{lang}.yaml")["connectives"]["last"]
    for make in [hangzhou, kyoto, *REALISTIC.values()]:
        ctx = make()
        for style in ("guide", "mood"):
            for seed in SEEDS:
                c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
                for para in c.body.split("\n\n"):
                    if not para.startswith("Day"):
                        continue
                    sents = _sentences(para.split("\n", 1)[-1] if "\n" in para else para, lang)
                    for s in sents[:-1]:
                        assert not any(re.sub(r"^Day \d+( — |｜)", "", s).startswith(w) for w in last), para


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_two_days_of_the_same_scenes_get_different_day_headers(lang):
    """Two days of mountains and clouds: the bank has two day phrases for each, so day 2's
    header is not day 1's again ("Day 1｜远眺群山，看云 … Day 2｜远眺群山，看云")."""
    ctx = trip(None, [[(9, ["mountain", "clouds"])], [(9, ["mountain", "clouds"])]], start=date(2024, 8, 20))
    for seed in SEEDS:
        c = compose(ctx, lang=lang, style="guide", rng=random.Random(seed))
        heads = [re.sub(r"^Day \d+\s*[|｜—]?\s*", "", line) for line in c.body.splitlines() if line.startswith("Day ")]
        assert len(heads) == 2 and heads[0] != heads[1], c.body


def test_route_titles_only_for_places_to_go():
    """"X这样玩", "跟着X走", "X路线" fit a lake or a mountain, not a subject: a trip of
    insects and flowers, of drinks and friends, is never "小虫这样玩" or "跟着人像走"; a lake
    trip still gets such titles."""
    route = re.compile(r"这样玩|跟着.{1,4}走|路线")
    for plan, want_route in (([[(10, ["insect", "flower"]), (14, ["insect"])]], False),
                             ([[(19, ["drink", "people"]), (21, ["drink", "people"])]], False),
                             ([[(9, ["lake", "mountain"]), (15, ["lake"])]], True)):
        titles = set()
        for place in (KYOTO, None):
            ctx = trip(place, plan, start=date(2024, 6, 1))
            for seed in range(40):
                titles.add(compose(ctx, lang="zh", style="guide", rng=random.Random(seed)).title)
        routes = {t for t in titles if route.search(t)}
        assert bool(routes) == want_route, (plan, titles)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_titles_emoji_pictures_what_the_photos_show_not_the_season(lang):
    """❄️ on a winter city walk, 🌸 on a spring lake and 🍂 on an autumn temple picture snow,
    blossom and leaves that no photo shows: the title's emoji is a theme's, and a snowy
    trip still gets its ❄️."""
    for season, when, plan, never in (("winter", date(2024, 1, 10), [[(10, ["temple", "street"])]], "❄️"),
                                      ("spring", date(2024, 4, 5), [[(9, ["lake", "mountain"])]], "🌸"),
                                      ("autumn", date(2024, 10, 5), [[(9, ["temple", "city"])]], "🍂")):
        ctx = trip(KYOTO, plan, start=when, season=season)
        titles = {compose(ctx, lang=lang, style=style, rng=random.Random(seed)).title
                  for style in ("guide", "mood") for seed in range(20)}
        assert not any(never in t for t in titles), titles
    snowy = trip(KYOTO, [[(10, ["snow", "mountain"])], [(11, ["snow"])]], start=date(2024, 1, 10), season="winter")
    assert any("❄️" in compose(snowy, lang=lang, style="mood", rng=random.Random(s)).title for s in range(20))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_title_naming_one_theme_wears_its_emoji(lang):
    """A dog-and-cat trip titled for the dog gets 🐶, not 🐱."""
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    ctx = trip(KYOTO, [[(10, ["dog"]), (12, ["dog", "cat"])], [(11, ["dog"])]], start=date(2024, 10, 5))
    seen = 0
    for style in ("guide", "mood"):
        for seed in range(30):
            title = compose(ctx, lang=lang, style=style, rng=random.Random(seed)).title
            low = title.lower()
            names = {t for t in ("dog", "cat") if any(w and w.lower() in low for w in
                                                      (bank[t]["header"], bank[t].get("title_where")))}
            if len(names) == 1:
                seen += 1
                other = ({"dog", "cat"} - names).pop()
                assert bank[other]["emoji"] not in title, title
    assert seen >= 10


def test_a_day_trip_is_not_told_as_days():
    """One day at the lake is "a slow day", never "Slow days in Hangzhou"."""
    ctx = trip(HANGZHOU, [[(10, ["lake", "mountain"]), (15, ["city", "lake"])]], start=date(2024, 10, 5))
    for style in STYLES:
        for seed in range(40):
            c = compose(ctx, lang="en", style=style, rng=random.Random(seed))
            assert not re.search(r"\bdays\b", c.text(), re.I), c.text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_day_header_names_a_theme_once(lang):
    """Mountains at noon and at dusk: "Into the mountains", not "Into the mountains & mountain views"."""
    from tests.pipelines.caption.contexts import HUANGSHAN

    day = load_prompt(f"caption/{lang}.yaml")["tags"]["mountain"]["day"]
    ctx = scenes([(1, 12, HUANGSHAN, [("mountain", 0.9)]), (1, 18, HUANGSHAN, [("mountain", 0.85)]),
                  (2, 10, HUANGSHAN, [("mountain", 0.9)])], start=date(2024, 10, 3), season="autumn",
                 gps=(30.13, 118.17))
    headers = 0
    for style in STYLES:
        for seed in SEEDS:
            c = compose(ctx, lang=lang, style=style, rng=random.Random(seed))
            for line in c.body.splitlines():
                if line.startswith("Day "):
                    headers += 1
                    assert sum(p.lower() in line.lower() for p in day) <= 1, c.text()
    assert headers


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_two_phrases_of_a_day_header_do_not_end_alike(lang):
    """A day of the city and its buildings is not "城市漫步，建筑漫步" / "A city walk & an
    architecture walk" (seen in a held-out draft): the second phrase avoids the first's
    last word."""
    ctx = scenes([
        (1, 10, HANGZHOU, [("city", 0.9), ("architecture", 0.85)]),
        (1, 15, HANGZHOU, [("architecture", 0.9), ("city", 0.8)]),
    ], start=date(2024, 10, 3), season="autumn", gps=(30.25, 120.15))
    bank = load_prompt(f"caption/{lang}.yaml")
    pairs = 0
    for seed in range(30):
        c = compose(ctx, lang=lang, style="guide", rng=random.Random(seed))
        head = next(line for line in c.body.splitlines() if line.startswith("Day"))
        phrases = re.split(r"[｜|—]", head, maxsplit=1)[1].strip().split(bank["day_joiner"].strip() or None)
        phrases = [p.strip() for p in phrases if p.strip()]
        if len(phrases) == 2:
            pairs += 1
            ends = [p.split()[-1].lower() if lang == "en" else p[-2:] for p in phrases]
            assert ends[0] != ends[1], head
    assert pairs >= 10  # the day is told by two phrases often enough to test


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_weak_specific_tag_does_not_silence_the_moment_s_general_one(lang):
    """A morning of monuments (architecture 0.99, 1.0) with a faint palace (0.33, 0.41: not
    said) was told as "Day 1 | 看看天空" only (seen in a new-package draft of Indian
    monuments): the palace, too weak to be said, still counted as the more specific word
    for the moment and dropped its architecture. The day now tells the architecture."""
    ctx = scenes([
        (1, 8, HANGZHOU, [("sky", 0.98), ("architecture", 1.0), ("palace", 0.40)]),
        (1, 9, HANGZHOU, [("sky", 0.99), ("architecture", 0.99), ("palace", 0.41)]),
        (2, 9, HANGZHOU, [("sky", 0.9), ("architecture", 0.98)]),
    ], start=date(2024, 2, 7), season="winter", gps=(30.25, 120.15))
    # each photo carries its moment's tags, so the say rule reads them (the palace is said by no photo)
    ctx = ctx.model_copy(update={"items": [i.model_copy(update={"tags": m.tags})
                                           for i, m in zip(ctx.items, ctx.moments)]})
    bank = load_prompt(f"caption/{lang}.yaml")
    words = [w.lower() for w in bank["tags"]["architecture"]["words"]]
    for seed in range(10):
        body = compose(ctx, lang=lang, style="guide", rng=random.Random(seed)).body
        day1 = body.split("Day 1", 1)[1].split("Day 2", 1)[0].lower()
        assert any(w in day1 for w in words), day1


def test_animal_clauses_do_not_count_the_animals():
    """The tagger says "bird", not how many: a farm trip's four hens were told "遇到一只鸟" /
    "a bird came into view" (new-package drafts). The banks' animal clauses name no number
    in Chinese, and the bird ones none in English either (a flock is as common as one)."""
    zh, en = load_prompt("caption/zh.yaml"), load_prompt("caption/en.yaml")
    for tid in ("bird", "dog", "cat", "wildlife", "insect"):
        for c in zh["tags"][tid]["clauses"]:
            assert not re.search(r"一(只|头|群|条)", c), (tid, c)
    for c in en["tags"]["bird"]["clauses"]:
        assert not re.search(r"\b(a|one) bird\b", c), c


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_lights_at_night_without_a_built_place(lang):
    """A starry desert at night has no lights to walk among ("夜里出门散步，灯光很有氛围" was
    said of one); a city at night still has them."""
    lit = load_prompt(f"caption/{lang}.yaml")["lit_words"]
    assert lit

    def lights(text: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) if lang == "en" else w in text for w in lit)

    desert = scenes([(1, 13, None, [("desert", 0.9), ("sky", 0.9)]),
                     (1, 21, None, [("night", 0.9), ("desert", 0.85), ("sky", 0.9)])],
                    start=date(2024, 5, 4), season="spring", gps=None)
    city = scenes([(1, 13, None, [("architecture", 0.9), ("city", 0.9)]),
                   (1, 21, None, [("night", 0.9), ("city", 0.9), ("architecture", 0.85)])],
                  start=date(2024, 5, 4), season="spring", gps=None)
    city_lights = 0
    for style in ("guide", "mood"):
        for seed in range(24):
            c = compose(desert, lang=lang, style=style, rng=random.Random(seed))
            assert not lights(c.body), (style, seed, c.body)
            city_lights += lights(compose(city, lang=lang, style=style, rng=random.Random(seed)).body)
    assert city_lights > 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_colours_in_the_dark(lang):
    """Colours are not seen at night: "Once night fell, the flower beds layered colour on
    colour" and "晚上，海水的颜色由近到远一层层变深" were written of night photos. A clause
    with a colour word is told in the dark only when it speaks of the night itself."""
    colours = load_prompt(f"caption/{lang}.yaml")["colour_words"]
    assert colours
    words = _time_words(lang)

    def coloured(s: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", s, re.I) if lang == "en" else w in s for w in colours)

    night = scenes([(1, 21, KYOTO, [("night", 0.9), ("sea", 0.9), ("flower", 0.85), ("autumn", 0.85)]),
                    (2, 21, KYOTO, [("night", 0.9), ("forest", 0.9), ("plant", 0.85), ("fruit", 0.85)])],
                   start=date(2024, 11, 16), season="autumn", gps=(35.01, 135.77))
    day = scenes([(1, 10, KYOTO, [("sea", 0.9), ("flower", 0.85), ("autumn", 0.85)]),
                  (2, 10, KYOTO, [("forest", 0.9), ("plant", 0.85), ("fruit", 0.85)])],
                 start=date(2024, 11, 16), season="autumn", gps=(35.01, 135.77))
    by_day = 0
    for style in ("guide", "mood"):
        for seed in range(24):
            c = compose(night, lang=lang, style=style, rng=random.Random(seed))
            for s in _sentences(c.body, lang):
                assert not coloured(s) or words["night"].search(s), (style, seed, s)
            by_day += any(coloured(s) for s in _sentences(
                compose(day, lang=lang, style=style, rng=random.Random(seed)).body, lang))
    assert by_day > 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_first_clause_that_names_its_time_opens_the_day_itself(lang):
    """"一开始，入夜以后，在外面多待了一会儿" / "To start, the night felt slow": a clause
    that names its own time needs no lead before it."""
    bank = load_prompt(f"caption/{lang}.yaml")
    leads = bank["times"]["unknown"] + bank["connectives"]["trip"]
    words = _time_words(lang)
    ctx = scenes([(1, 21, None, [("night", 0.9)]), (1, 22, None, [("night", 0.85), ("desert", 0.9)])],
                 start=date(2024, 5, 4), season="spring", gps=None)
    opened = 0
    for style in ("guide", "mood"):
        for seed in range(24):
            body = compose(ctx, lang=lang, style=style, rng=random.Random(seed)).body
            for s in _sentences(body, lang):
                if words["night"].search(s):
                    assert not any(s.startswith(lead) for lead in leads), (style, seed, s)
                    opened += 1
    assert opened


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_last_bus_in_the_desert(lang):
    """"晚上回程查好末班车时间" was the tip of a starry desert night: a tip of buses and taxis
    (town_words) is given only when the note tells a built place; a city night still gets it."""
    town = load_prompt(f"caption/{lang}.yaml")["town_words"]
    assert town

    def buses(text: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) if lang == "en" else w in text for w in town)

    desert = scenes([(1, 21, None, [("night", 0.9), ("desert", 0.85)]),
                     (1, 22, None, [("night", 0.9), ("starry_sky", 0.85)])],
                    start=date(2024, 5, 4), season="spring", gps=None)
    city = scenes([(1, 21, None, [("night", 0.9), ("city", 0.9)]),
                   (1, 22, None, [("night", 0.9), ("street", 0.85)])],
                  start=date(2024, 5, 4), season="spring", gps=None)
    city_buses = 0
    for style in ("guide", "mood", "minimal"):
        for seed in range(30):
            c = compose(desert, lang=lang, style=style, rng=random.Random(seed))
            assert not buses(c.body), (style, seed, c.body)
            city_buses += buses(compose(city, lang=lang, style=style, rng=random.Random(seed)).body)
    assert city_buses > 0
