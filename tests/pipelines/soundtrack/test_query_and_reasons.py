"""The user's words outweigh the photos' mood, and a track's reason agrees with its own
analysis, on a library of synthetic songs whose tempo and mode we know (real decoding,
analysis, mood model and e5 embeddings)."""

from __future__ import annotations

import re

import pytest

from creator.config import Settings
from creator.types import NoteContext, Place
from creator.vocabulary import vocabulary
from pipelines.soundtrack import Pipeline, SoundtrackRequest
from tests.factories import make_song, sure_and_unsure_trip

# (file, bpm, root, minor, hats): where listening studies put each mood (see test_mood.py)
SONGS = [("慢歌.wav", 68.0, 60, False, None), ("快歌.wav", 150.0, 64, True, "eighths"),
         ("欢快.wav", 118.0, 64, False, "eighths"), ("怀旧.wav", 80.0, 65, True, None),
         ("温柔.wav", 95.0, 67, False, None), ("飞驰.wav", 146.0, 62, True, "eighths")]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    lib = tmp_path_factory.mktemp("歌曲库")
    for name, bpm, root, minor, hats in SONGS:
        make_song(lib / name, bpm=bpm, root_midi=root, minor=minor, hats=hats, duration=16.0)
    s = Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    s.music.library = lib
    return s


def _ctx(tags, valence, energy) -> NoteContext:
    voc = vocabulary()
    return NoteContext(items=[], top_tags=[voc.tag(t, 0.9, "test") for t in tags],
                       places=[Place(name_zh="杭州", name_en="Hangzhou")], valence=valence, energy=energy)


def test_a_query_outweighs_the_photos_mood(settings):
    pipe = Pipeline(settings)
    lively = _ctx(["market", "night", "food"], valence=0.85, energy=0.9)
    calm = _ctx(["lake", "fog"], valence=0.45, energy=0.15)
    sad = pipe(SoundtrackRequest(context=lively, query="sad rainy night in the city", language="en", top=3, length=8))
    assert all(m.tempo < 130 for m in sad.matches), [(m.title, m.tempo) for m in sad.matches]
    up = pipe(SoundtrackRequest(context=calm, query="something upbeat", language="en", top=2, length=8))
    assert all(m.tempo >= 110 for m in up.matches), [(m.title, m.tempo) for m in up.matches]
    # without the query the calm trip gets slow music: the query is what changed it
    plain = pipe(SoundtrackRequest(context=calm, language="en", top=2, length=8))
    assert all(m.tempo < 110 for m in plain.matches), [(m.title, m.tempo) for m in plain.matches]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reasons_agree_with_the_track_and_read_right(settings, lang):
    import yaml

    from creator.resources import load_prompt

    bank = load_prompt("music/moods.yaml")
    pipe = Pipeline(settings)
    calm = _ctx(["lake", "fog"], valence=0.45, energy=0.15)
    for query in (None, "something upbeat", "安静的湖边清晨"):
        out = pipe(SoundtrackRequest(context=calm, query=query, language=lang, top=len(SONGS), length=8))
        for m in out.matches:
            own = sorted(m.moods, key=m.moods.get, reverse=True)[:2]
            said = [k for k in bank["moods"] if re.search(rf"(?<![a-z]){bank['moods'][k][lang]}", m.reason)]
            assert said and said[0] in own, (m.title, m.moods, m.reason)
            assert "dark" not in m.reason and "bright" not in m.reason and "偏暗" not in m.reason
            if lang == "en":
                assert not re.match(r"A [aeiou]", m.reason) and re.match(r"An? [a-z]", m.reason), m.reason
                for mood, word in bank["reasons"]["contradictions"]:
                    assert not (bank["moods"][mood]["en"] in m.reason and f" {word} track" in m.reason), m.reason
            mode = "minor" if "minor" in m.reason or "小调" in m.reason else "major"
            analysed = pipe.library_matrix()[0].by_id()[m.track_id].analysis.mode
            assert mode == analysed, (m.reason, analysed)
    assert yaml  # the bank parses as YAML above


def test_a_reason_names_only_what_the_photos_surely_show(settings):
    """A trip whose photos surely show a lake (two at 0.9) and, on one photo, maybe a bird
    (0.5): the reason suits the lake, not "birds", like the caption, which does not say
    the bird either."""
    ctx = sure_and_unsure_trip("lake", "bird", 0.5)
    for lang, lake, bird in (("en", "lake", "bird"), ("zh", "湖", "鸟")):
        out = Pipeline(settings)(SoundtrackRequest(context=ctx, language=lang, top=2, length=8))
        assert all(lake in m.reason and bird not in m.reason for m in out.matches), [m.reason for m in out.matches]
