"""Acceptance on held-out trips: real photos with GPS and dates written into their EXIF,
understood by creator.understanding, then drafted in zh and en (and through the CLI)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import pytest

from pipelines.caption import CaptionRequest, Pipeline, caption_problems, mentioned_themes, title_length
from pipelines.caption.checks import cjk_ratio, grounding_problems
from tests.factories import make_photo

TRIPS = {
    # name: (GPS, photos as (sample image, EXIF time)), the expected place in en and zh
    "hangzhou": ((30.25, 120.15), [("china", datetime(2024, 10, 3, 8, 10)), ("flower", datetime(2024, 10, 3, 11, 30)),
                                   ("coffee", datetime(2024, 10, 4, 9, 5)), ("china", datetime(2024, 10, 4, 17, 40))]),
    "kyoto": ((35.01, 135.77), [("china", datetime(2024, 11, 16, 9, 0)), ("chelsea", datetime(2024, 11, 16, 14, 0)),
                                ("coffee", datetime(2024, 11, 17, 10, 0)), ("flower", datetime(2024, 11, 18, 15, 0)),
                                ("astronaut", datetime(2024, 11, 18, 16, 0))]),
}


@pytest.fixture(scope="module")
def contexts(tmp_path_factory):
    from creator.understanding import understand

    out = {}
    for name, (gps, shots) in TRIPS.items():
        folder = tmp_path_factory.mktemp(f"旅行_{name}")
        paths = [make_photo(folder / f"照片_{k}.jpg", image, taken_at=when, gps=gps)
                 for k, (image, when) in enumerate(shots)]
        out[name] = (understand(paths), paths)
    return out


@pytest.mark.parametrize("trip", list(TRIPS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_held_out_trip(contexts, trip, lang):
    ctx, _ = contexts[trip]
    assert ctx.places, "understanding found no place from the EXIF GPS"
    place = ctx.places[0].name(lang)
    caps = Pipeline()(CaptionRequest(context=ctx, language=lang, n=3, seed=5)).captions
    assert len({c.text() for c in caps}) == 3  # n drafts differ
    for c in caps:
        assert caption_problems(c, ctx) == [], c.text()
        assert grounding_problems(c, ctx) == []
        assert place in c.title + c.body, (place, c.text())
        assert any(place.replace(" ", "") in h for h in c.hashtags), c.hashtags
        assert len(mentioned_themes(c, ctx)) >= 2, (mentioned_themes(c, ctx), [t.id for t in ctx.top_tags])
        assert title_length(c.title) <= 20 and len(c.body) <= 1000 and 3 <= len(c.hashtags) <= 10
        assert (cjk_ratio(c.title + c.body) > 0.8) if lang == "zh" else (cjk_ratio(c.title + c.body) == 0)
        # the dates of the EXIF are the dates of the note
        start = ctx.start
        assert (f"{start.month:02d}.{start.day:02d}" if lang == "zh" else f" {start.day}") in c.body


def test_cli_json(contexts, capsys):
    from pipelines.caption.cli import add_caption_parser, run_caption

    _, paths = contexts["kyoto"]
    parser = argparse.ArgumentParser()
    add_caption_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["caption", *map(str, paths), "--lang", "en", "--style", "mood", "--n", "2",
                              "--seed", "3", "--hint", "first time in Kyoto with my parents", "--json"])
    assert run_caption(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and len(rows) == 2
    for row in rows:
        assert set(row) >= {"title", "body", "hashtags", "language", "style", "backend"}
        assert row["language"] == "en" and row["style"] == "mood" and row["backend"] == "template"
        assert "Kyoto" in row["title"] + row["body"]
        assert "First time in Kyoto with my parents." in row["body"]
    args = parser.parse_args(["caption", str(paths[0]), "--lang", "zh"])
    assert run_caption(args) == 0
    text = capsys.readouterr().out
    assert "京都" in text and "#" in text
