"""One time of day for the caption, the music query and the cover's text-to-image prompt.

creator.understanding.moments is the one definition: the photos' light when it says so
(a strong night tag at 15:53 is night: a camera clock in the wrong time zone), the EXIF
clock otherwise. Each stage's output is read here, not the function they share: the
caption's time words, the music query's and the diffusion prompt's phrases for the same
context must all be that bucket's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from creator.music.query import query_from_context
from creator.resources import load_prompt
from creator.types import GPS, MediaItem
from creator.understanding.moments import build_context, time_of_day, trip_dates, trip_time_of_day
from creator.vocabulary import vocabulary
from pipelines.caption import CaptionRequest, Pipeline, style_names
from pipelines.cover.diffusion import build_prompt
from tests.pipelines.caption.contexts import HANGZHOU


def _ctx(hour: int, minute: int, tags: list[tuple[str, float]]):
    start = datetime(2024, 10, 3, hour, minute)
    items = [MediaItem(path=f"/照片/西湖/{k}.jpg", id=f"p{k}", taken_at=start + timedelta(minutes=10 * k),
                       gps=GPS(lat=30.25, lon=120.15), place=HANGZHOU,
                       tags=[vocabulary().tag(t, s, "imagenet") for t, s in tags]) for k in range(3)]
    return build_context(items)


def _words(lang: str, cls: str) -> re.Pattern:
    ws = load_prompt(f"caption/{lang}.yaml")["time_words"][cls]
    alt = "|".join(re.escape(w) for w in sorted(ws, key=len, reverse=True))
    return re.compile(rf"\b(?:{alt})\b", re.I) if lang == "en" else re.compile(alt)


@pytest.mark.parametrize("case", ["night photos, clock at 15:53", "lake at 07:30, clock only"])
def test_caption_music_and_cover_tell_the_same_time_of_day(case):
    if case.startswith("night"):
        ctx, expected = _ctx(15, 53, [("night", 0.9), ("city", 0.85), ("architecture", 0.8)]), "night"
        wrong = ("morning", "daylight")
    else:
        ctx, expected = _ctx(7, 30, [("lake", 0.9), ("boat", 0.8)]), "morning"
        wrong = ("night", "sunset", "late")
    assert trip_time_of_day(ctx) == expected == ctx.time_of_day
    music = load_prompt("music/moods.yaml")["time_of_day"]
    for lang in ("zh", "en"):
        assert music[expected][lang] in query_from_context(ctx, lang)
    prompt, _ = build_prompt(ctx, "magazine")
    light = load_prompt("cover/diffusion.yaml")["light"]
    assert light[expected] in prompt and not any(v in prompt for k, v in light.items() if k != expected)
    # the caption: its leads are the bucket's own, and no word of another time of day
    for lang in ("zh", "en"):
        leads = load_prompt(f"caption/{lang}.yaml")["times"]
        others = [lead for k, ls in leads.items() if k not in (expected, "unknown") for lead in ls]
        told = 0
        for style in style_names():
            for c in Pipeline()(CaptionRequest(context=ctx, language=lang, style=style, n=3)).captions:
                story = "\n".join(line for line in c.body.splitlines() if not line.startswith("· "))
                assert not any(_words(lang, w).search(story) for w in wrong), c.body
                assert not any(lead in story for lead in others), c.body
                told += any(lead in story for lead in leads[expected]) or bool(
                    _words(lang, "night" if expected == "night" else "morning").search(story))
        assert told, f"no {lang} draft says it was {expected}"


def test_the_clock_scheme_and_trip_dates():
    assert [time_of_day(datetime(2024, 1, 1, h)) for h in (3, 4, 8, 12, 15, 18, 22)] == \
        ["night", "early", "morning", "noon", "afternoon", "evening", "night"]
    ctx = _ctx(22, 0, [("lake", 0.9)])
    # three photos from 22:00 to 22:20 on one day; a context without moments keeps its own
    assert trip_dates(ctx) == (datetime(2024, 10, 3).date(), datetime(2024, 10, 3).date())
    assert trip_time_of_day(ctx.model_copy(update={"moments": [], "time_of_day": "noon"})) == "noon"
