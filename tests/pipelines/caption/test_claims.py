"""This photo set ⇒ these ids may be said, these may not: facts written in the test.

Each trip below is a few photos with the tags a tagger gave them (strong right ones, and
weaker wrong ones of the kind the lite tagger gives real photos: an airplane on a foggy
lake, a starry sky on a forest at noon, insects on a marigold). What the photos really
show is written here, by hand, per trip. Every style, both languages, n = 3: a draft's
claims, read back by the lexicon of claims.py (not by the caption checker), must all be
among what the photos show, and name at least two of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from creator.resources import load_prompt
from creator.types import GPS, MediaItem
from creator.understanding.moments import build_context
from creator.vocabulary import vocabulary
from pipelines.caption import CaptionRequest, Pipeline, style_names
from tests.pipelines.caption.claims import GENERAL, claims, closure, draft_text, lexicon
from tests.pipelines.caption.contexts import HANGZHOU, KYOTO


def _items(photos, *, start=None, gps=None, place=None, folder="旅行"):
    """MediaItems from [(tags as (id, score) or (id, score, source))...], one every 90 minutes."""
    out = []
    for k, tags in enumerate(photos):
        when = start + timedelta(minutes=90 * k) if start else None
        out.append(MediaItem(
            path=f"/照片/{folder}/{k:02d}.jpg", id=f"p{k:02d}", taken_at=when, place=place,
            gps=GPS(lat=gps[0], lon=gps[1]) if gps else None,
            tags=[vocabulary().tag(t[0], t[1], t[2] if len(t) > 2 else "imagenet") for t in tags]))
    return out


RIVER_VALLEY = [[("sky", 0.99), ("clouds", 0.71), ("sea", 0.67), ("mountain", 0.54)],
                [("sky", 0.97), ("plant", 0.79), ("clouds", 0.64)],
                [("sky", 0.96), ("mountain", 0.86), ("sea", 0.46)],
                [("sky", 0.98), ("mountain", 0.77), ("sea", 0.68), ("clouds", 0.67)]]

# name: (items, what the photos show, wrong ids the tagger gave them)
TRIPS = {
    # the Hangzhou trip: a foggy jetty, rowing boats at sunset, a pink lake at dawn
    "西湖": (_items([[("fog", 0.92), ("lake", 0.85), ("pier", 0.78), ("airplane", 0.45)],
                     [("boat", 0.88), ("lake", 0.8), ("sunset", 0.74), ("beach", 0.4)],
                     [("lake", 0.9), ("sky", 0.76), ("desert", 0.42), ("beach", 0.55)],
                     [("fog", 0.81), ("lake", 0.77)]],
                    start=datetime(2024, 10, 3, 9), gps=(30.25, 120.15), place=HANGZHOU),
             {"fog", "lake", "pier", "boat", "sunset", "sky"}, {"airplane", "beach", "desert"}),
    # the Kyoto trip: a maple leaf, an autumn meadow, a forest path, a red marigold
    "京都": (_items([[("autumn", 0.9), ("plant", 0.72)],
                     [("meadow", 0.84), ("mountain", 0.75), ("autumn", 0.71), ("snow", 0.38)],
                     [("forest", 0.88), ("starry_sky", 0.65), ("night", 0.43)],
                     [("flower", 0.86), ("insect", 0.6)]],
                    start=datetime(2024, 11, 16, 9), gps=(35.01, 135.77), place=KYOTO),
             {"autumn", "plant", "meadow", "mountain", "forest", "flower"},
             {"snow", "starry_sky", "night", "insect", "sunset"}),
    # friends indoors: people, a group photo, a room; a wrong train and a weak night
    "聚会": (_items([[("people", 0.97), ("indoor", 0.8), ("train", 0.5)],
                     [("group", 0.85), ("people", 0.9), ("night", 0.35)],
                     [("selfie", 0.74), ("people", 0.95)]],
                    start=datetime(2024, 12, 14, 11)),
             {"people", "group", "indoor", "selfie"}, {"train", "night", "city"}),
    # no time, no GPS; the user added the dog the tagger missed
    "海边": (_items([[("beach", 0.93), ("sea", 0.9), ("wildlife", 0.55)],
                     [("sea", 0.86), ("clouds", 0.76), ("mountain", 0.48)],
                     [("dog", 1.0, "user"), ("beach", 0.8), ("cat", 0.62)]]),
             {"beach", "sea", "clouds", "dog"}, {"wildlife", "mountain", "cat"}),
    # a valley with a lake and a river, which the lite tagger held out by package leaned to
    # the sea on (bench_truthful_drafts.py --by package, 河谷无时间): not sure which water
    "河谷": (_items(RIVER_VALLEY, start=datetime(2024, 6, 2, 9)),
             {"lake", "river", "mountain", "sky", "clouds", "plant"}, {"sea"}),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(TRIPS))
def test_a_draft_claims_only_what_the_photos_show(name, lang):
    items, shown, wrong = TRIPS[name]
    ctx = build_context(items)
    allowed = closure(shown)
    assert not wrong & allowed  # the test's own facts agree with themselves
    lex = lexicon(lang)
    for style in style_names():
        drafts = Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions
        assert len(drafts) == 3
        for c in drafts:
            said = claims(draft_text(c, ctx), lang, lex)
            false = {w: sorted(ids) for w, ids in said.items() if not ids & allowed}
            assert not false, (false, c.text())
            true = set().union(*(ids & shown for ids in said.values())) if said else set()
            assert len(true) >= 2, (true, c.text())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_water_the_tagger_is_unsure_of_is_told_as_water(lang):
    """Sea at 0.6-0.8 only (out of sample as often a lake or a river): the drafts, the LLM's
    facts and the stated top tags say "by the water"; one photo of the sea at 0.8+, or a sea
    the user added, and the sea is named."""
    from pipelines.caption import build_messages
    from pipelines.caption.template import stated_top_tags

    lex = lexicon(lang)
    family = load_prompt("caption/themes.yaml")["families"]["water"][lang]
    water = lex["water"]

    def said(photos):
        ctx = build_context(_items(photos, start=datetime(2024, 6, 2, 9)))
        drafts = [c for style in style_names()
                  for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions]
        return ctx, [set().union(*claims(draft_text(c, ctx), lang, lex).values()) for c in drafts]

    ctx, drafts = said(RIVER_VALLEY)
    assert not any("sea" in d for d in drafts)
    assert sum("water" in d for d in drafts) >= len(drafts) // 2, drafts  # told, not just dropped
    assert water and family in water
    assert [t.id for t in stated_top_tags(ctx)].count("water") == 1 and "sea" not in {t.id for t in stated_top_tags(ctx)}
    prompt = "\n".join(m["content"] for m in build_messages(ctx, lang=lang, style="guide"))
    assert family in prompt and vocabulary()["sea"].label(lang) not in prompt.replace(family, "")
    sure = [list(RIVER_VALLEY[0][:2]) + [("sea", 0.9)]] + RIVER_VALLEY[1:]
    user = [RIVER_VALLEY[0] + [("sea", 0.3, "user")]] + RIVER_VALLEY[1:]
    for photos in (sure, user):
        _, drafts = said(photos)
        assert sum("sea" in d for d in drafts) >= len(drafts) // 2 and not any("water" in d for d in drafts), drafts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_trips_subject_gets_its_hashtag_when_scenery_fills_the_themes(lang):
    """A day of mountains, a lake, fog and clouds, and the dog on one photo: the scenery
    outweighs it as a theme, but the dog (0.75, sayable) still has a hashtag in every draft."""
    photos = [[("mountain", 0.95), ("clouds", 0.9), ("sky", 0.99)], [("lake", 0.92), ("mountain", 0.9)],
              [("fog", 0.9), ("lake", 0.85), ("clouds", 0.8)], [("sunset", 0.9), ("mountain", 0.85)],
              [("dog", 0.75), ("plant", 0.4)]]
    ctx = build_context(_items(photos, start=datetime(2024, 10, 3, 9), gps=(35.01, 135.77), place=KYOTO))
    dog = set(load_prompt(f"caption/{lang}.yaml")["tags"]["dog"]["hashtags"])
    for style in style_names():
        for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions:
            assert dog & set(c.hashtags), (style, c.hashtags)


def test_the_lexicon_reads_claims_back():
    """The oracle itself: it finds a claim in plain words, and none in a place name or a season."""
    lex = lexicon("zh")
    assert set().union(*claims("傍晚在沙漠里看星空", "zh", lex).values()) == {"desert", "starry_sky"}
    assert not claims("秋天的周末，太阳落山前", "zh", lex)
    lex = lexicon("en")
    assert set().union(*claims("We waited for the sunset; #BeachDays", "en", lex).values()) == {"sunset", "beach"}
    assert not claims("An autumn weekend, slowly.", "en", lex)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_llm_is_told_only_what_a_draft_may_say(lang):
    from pipelines.caption import build_messages

    # one photo, so its weak tags are among its moment's first four
    items = _items([[("fog", 0.92), ("lake", 0.85), ("airplane", 0.45), ("beach", 0.4)]],
                   start=datetime(2024, 10, 3, 9), gps=(30.25, 120.15), place=HANGZHOU)
    prompt = "\n".join(m["content"] for m in build_messages(build_context(items), lang=lang, style="guide"))
    for tid in ("airplane", "beach"):
        assert vocabulary()[tid].label(lang) not in prompt, (tid, prompt)
    assert vocabulary()["fog"].label(lang) in prompt and vocabulary()["lake"].label(lang) in prompt


def _claimed(photos, lang: str, start: datetime) -> list[set[str]]:
    """The ids each draft claims (every style, n = 3) of a trip of ``photos`` (as _items)."""
    lex = lexicon(lang)
    ctx = build_context(_items(photos, start=start))
    return [set().union(*claims(draft_text(c, ctx), lang, lex).values())
            for style in style_names()
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_lone_unsure_tag_is_not_said_but_two_photos_agreeing_are(lang):
    """themes.yaml say / say_alone: a tag of one photo at 0.75 (right about 3 times in 4 out
    of sample) is never stated; the same tag on two photos at 0.65, or on one at 0.9, is;
    weak photos (0.45) add nothing."""
    base = [[("sea", 0.95), ("beach", 0.9)], [("sea", 0.9), ("clouds", 0.85)]]

    def said(extra):
        return set().union(*_claimed(base + extra, lang, datetime(2024, 7, 1, 9)))

    assert "mountain" not in said([[("mountain", 0.75), ("sky", 0.9)]])
    assert "mountain" in said([[("mountain", 0.65), ("sky", 0.9)], [("mountain", 0.66)]])
    assert "mountain" in said([[("mountain", 0.9), ("sky", 0.9)]])
    assert "mountain" not in said([[("mountain", 0.75)], [("mountain", 0.45)], [("mountain", 0.45)]])
    # the user's own tag is always said
    assert "mountain" in said([[("mountain", 1.0, "user")]])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_trips_subjects_are_said_at_their_own_lower_levels(lang):
    """themes.yaml subjects: animals, people and food scoring 0.7+ out of sample were all
    right, a scene there only 7 times in 10, so a cat on one photo at 0.72 is said and a
    mountain at 0.72 is not; two photos need 0.6 for both, and a cat at 0.45-0.55 on three
    photos is not said."""
    base = [[("sea", 0.95), ("beach", 0.9)], [("sea", 0.9), ("clouds", 0.85)]]

    def said(extra):
        return set().union(*_claimed(base + extra, lang, datetime(2024, 7, 1, 9)))

    assert "cat" in said([[("cat", 0.72)]])
    assert "cat" in said([[("cat", 0.62)], [("cat", 0.63)]])
    assert "cat" not in said([[("cat", 0.45)], [("cat", 0.5)], [("cat", 0.55)]])
    assert "mountain" not in said([[("mountain", 0.72)]])
    assert "mountain" in said([[("mountain", 0.62)], [("mountain", 0.63)]])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_general_tag_is_left_out_only_where_specific_ones_cover_its_photos(lang):
    """themes.yaml broader: five photos of people, two of them selfies, are still a trip of
    people (some draft names them, beside the selfies); when every photo of people is a
    selfie, the drafts say selfie and never the general word."""
    def said(photos):
        return _claimed(photos, lang, datetime(2024, 12, 14, 10))

    party = said([[("people", 0.9)], [("people", 0.85), ("selfie", 0.7)], [("people", 0.8)],
                  [("people", 0.88), ("selfie", 0.65)], [("people", 0.83), ("indoor", 0.7)]])
    assert any("people" in ids for ids in party) and any("selfie" in ids for ids in party)
    selfies = said([[("people", 0.9), ("selfie", 0.8)], [("people", 0.85), ("selfie", 0.7)]])
    assert all("selfie" in ids and "people" not in ids for ids in selfies), selfies


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_trip_with_nothing_sure_to_say_still_gets_a_title_that_reads(lang):
    """No place and no tag sure enough to say (two birds at 0.4): the title names the
    season from the dates, or with no dates at all the bank's labels.trip; never a bare
    "这次" / "This trip", and never a guess at the birds."""
    bank = load_prompt(f"caption/{lang}.yaml")
    season = bank["seasons"]["spring"]
    weak = [[("bird", 0.42)], [("bird", 0.4), ("plant", 0.43)]]
    for start, want in ((datetime(2024, 5, 25, 7), season), (None, bank["labels"]["trip"])):
        ctx = build_context(_items(weak, start=start))
        for style in style_names():
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions:
                assert want.lower() in c.title.lower(), (want, c.title)
                assert c.title.strip(" 🌸") not in ("这次", "This trip")
                assert vocabulary()["bird"].label(lang) not in c.title


# What a tag's own sentences may name beside it: what every photo of it shows too (skis
# run on snow, a plane flies in the sky, a beach is by the sea, a restaurant serves food,
# a museum shows art). Anything else a clause adds (gulls over a pier, boats at it, people
# on a bridge, a blue sea at a lighthouse) is a claim about photos that may not show it.
IMPLIED = {"beach": {"sea"}, "skiing": {"snow"}, "airplane": {"sky"}, "restaurant": {"food"},
           "museum": {"art"}}
# ids that a clause may name only through its time words, which tie it to moments of that
# time (the banks' time_words: "the campsite was quiet at night" only for a night moment)
TIMED = {"night", "sunset", "starry_sky"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_tags_sentences_and_hashtags_name_only_that_tag(lang):
    from pipelines.caption import wording as wd

    lex = lexicon(lang)
    general = {t: {g for g, specific in GENERAL.items() if t in specific} for t in vocabulary().ids}
    bad = []
    for tid, entry in load_prompt(f"caption/{lang}.yaml")["tags"].items():
        for key in ("clauses", "day", "hashtags"):  # and each says it once
            assert len(set(entry.get(key, []))) == len(entry.get(key, [])), (tid, key, entry.get(key))
        for text in list(entry.get("clauses", [])) + list(entry.get("day", [])) + list(entry.get("hashtags", [])):
            allowed = {tid} | general.get(tid, set()) | IMPLIED.get(tid, set())  # a family (water): itself
            if wd.time_classes(text, lang):
                allowed |= TIMED
            # a word several ids share (#随手拍 for cars and bikes) names whichever is said
            named = {i for ids in claims(text, lang, lex).values() if not ids & allowed for i in ids}
            if named:
                bad.append((tid, sorted(named), text))
    assert not bad, bad
