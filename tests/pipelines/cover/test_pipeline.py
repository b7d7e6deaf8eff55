"""The photo cover stage end to end on real sample photos."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from creator.config import CoverSettings
from creator.errors import InputError
from creator.types import NoteContext
from pipelines.cover import CoverRequest, Pipeline, styles
from pipelines.cover.choose import rank_photos

from .conftest import photo_item, tag


def test_four_styles_visibly_different(trip, tmp_path):
    out = Pipeline()(CoverRequest(context=trip, title="杭州西湖两日｜秋天慢慢走🍂", out_dir=tmp_path / "封面"))
    assert [c.cover.style for c in out.candidates] == ["bold_sticker", "magazine", "minimal", "collage"]
    assert len(styles()) >= 4
    arrays = {c.cover.style: np.asarray(c.image.resize((135, 180)), np.float32) for c in out.candidates}
    for a, b in itertools.combinations(arrays, 2):
        assert np.abs(arrays[a] - arrays[b]).mean() > 20, (a, b)
    for c in out.candidates:
        assert c.image.size == (1080, 1440)
        assert c.cover.title == "杭州西湖两日｜秋天慢慢走🍂" and c.cover.ratio == "3:4"
        assert c.layout["dropped"] == "🍂" and c.layout["contrast"] >= 4.5
        assert "封面" in c.cover.path and Image.open(c.cover.path).size == (1080, 1440)
    collage = out.candidates[-1]
    assert 2 <= len(collage.cover.source.split(",")) <= 4
    # the best photo (quality + tags) opens the list
    assert out.candidates[0].cover.source == "id-china"
    assert not list((tmp_path / "封面").glob(".*"))  # no temp files left behind


@pytest.mark.parametrize("ratio,size", [("1:1", (1080, 1080)), ("9:16", (1080, 1920))])
def test_ratios(trip, ratio, size):
    out = Pipeline()(CoverRequest(context=trip, title="Two slow days", ratio=ratio, n=2))
    assert [c.image.size for c in out.candidates] == [size, size]


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_saved_file_carries_no_exif_or_gps(trip, tmp_path, fmt):
    src = Image.open(trip.items[0].path)
    assert src.getexif().get_ifd(0x8825)  # the source photo has GPS
    out = Pipeline(CoverSettings(format=fmt))(CoverRequest(context=trip, title="西湖", style="magazine", n=1,
                                                           out_dir=tmp_path))
    path = out.candidates[0].cover.path
    data = open(path, "rb").read()
    if fmt == "png":  # only image chunks: no eXIf, tEXt, iTXt, zTXt
        chunks, i = [], 8
        while i < len(data):
            n = int.from_bytes(data[i:i + 4], "big")
            chunks.append(data[i + 4:i + 8])
            i += 12 + n
        assert set(chunks) <= {b"IHDR", b"IDAT", b"IEND"}, chunks
    else:  # no APP1 (EXIF/XMP) segment before the image data
        assert b"\xff\xe1" not in data[: data.index(b"\xff\xda")]
    img = Image.open(path)
    assert img.format == ("PNG" if fmt == "png" else "JPEG")
    assert len(img.getexif()) == 0 and "exif" not in img.info


def test_faces_stay_whole_in_every_style_and_ratio(trip):
    # the astronaut as the only photo with faces: every cover of it keeps the face
    for ratio in ("3:4", "1:1", "9:16"):
        for style in ("bold_sticker", "magazine", "minimal"):
            ctx = NoteContext(items=[trip.items[1]], places=trip.places)
            out = Pipeline()(CoverRequest(context=ctx, title="宇航员的一天", style=style, ratio=ratio, n=1))
            c = out.candidates[0]
            assert c.cover.source == "id-astronaut" and not c.notes


def test_one_style_n_candidates_walks_the_photos(trip):
    out = Pipeline()(CoverRequest(context=trip, title="西湖", style="bold_sticker", n=3))
    assert [c.cover.style for c in out.candidates] == ["bold_sticker"] * 3
    assert len({c.cover.source for c in out.candidates}) == 3


def test_collage_needs_two_photos(trip):
    ctx = NoteContext(items=[trip.items[0]], places=trip.places)
    out = Pipeline()(CoverRequest(context=ctx, title="西湖", n=4))
    assert [c.cover.style for c in out.candidates] == ["bold_sticker", "magazine", "minimal"]
    assert any("collage" in w for w in out.warnings)


def test_default_title_is_the_captions_and_the_photo_shows_it(trip):
    from pipelines.caption import CaptionRequest
    from pipelines.caption import Pipeline as CaptionPipeline

    out = Pipeline()(CoverRequest(context=trip, style="magazine", n=1))
    c = out.candidates[0]
    caption = CaptionPipeline()(CaptionRequest(context=trip, language="zh", n=1)).captions[0]
    assert c.cover.title == caption.title and "宫殿" in c.cover.title
    assert c.cover.source == "id-china"  # the palace photo, which the title names
    assert c.layout["kicker"] == "杭州 · 2024.10.03–10.04"
    out = Pipeline()(CoverRequest(context=trip, style="minimal", n=1, language="en", kicker=""))
    en = CaptionPipeline()(CaptionRequest(context=trip, language="en", n=1)).captions[0]
    assert out.candidates[0].cover.title == en.title and out.candidates[0].layout["kicker"] is None


def test_the_cover_photo_shows_what_the_title_names(trip):
    # flowers: a weaker photo than the palace, but the one the title speaks of
    out = Pipeline()(CoverRequest(context=trip, title="杭州｜看花", style="magazine", n=1))
    assert out.candidates[0].cover.source == "id-flower"
    out = Pipeline()(CoverRequest(context=trip, title="Hangzhou in flowers", style="magazine", n=1))
    assert out.candidates[0].cover.source == "id-flower"
    out = Pipeline()(CoverRequest(context=trip, title="杭州两日", style="magazine", n=1))
    assert out.candidates[0].cover.source == "id-china"  # no theme named: the best photo


def test_a_title_of_the_countryside_or_the_water_shows_such_a_photo(trip):
    # the caption tells a meadow or forest as 郊野 / the countryside, a sea, lake or river it
    # is not sure of as 水边 / by the water (themes.yaml families): the cover shows one
    items = list(trip.items)
    items[3] = items[3].model_copy(update={"tags": [tag("meadow", "草地", "meadow", 0.7)]})  # coffee
    items[4] = items[4].model_copy(update={"tags": [tag("lake", "湖", "lake", 0.6)]})  # chelsea
    ctx = trip.model_copy(update={"items": items})
    for title, source in (("杭州｜郊野这样玩", "id-coffee"), ("Hangzhou: a day in the countryside", "id-coffee"),
                          ("杭州｜水边慢时光", "id-chelsea"), ("Hangzhou, by the water", "id-chelsea")):
        out = Pipeline()(CoverRequest(context=ctx, title=title, style="magazine", n=1))
        assert out.candidates[0].cover.source == source, title


def test_a_title_that_names_a_tag_by_its_title_phrase_shows_such_a_photo(trip):
    """English titles name a tag by its title phrase: "A day after dark" is the night's
    (en.yaml night.title_where), and its cover was a daytime city photo."""
    items = list(trip.items)
    items[4] = items[4].model_copy(update={"tags": [tag("night", "夜景", "night", 0.9)]})  # chelsea
    ctx = trip.model_copy(update={"items": items})
    out = Pipeline()(CoverRequest(context=ctx, title="Hangzhou: a day after dark", style="magazine", n=1))
    assert out.candidates[0].cover.source == "id-chelsea"


def test_bad_input(trip):
    with pytest.raises(InputError, match="style"):
        Pipeline()(CoverRequest(context=trip, title="x", style="nope"))
    with pytest.raises(InputError, match="title"):
        Pipeline()(CoverRequest(context=trip, title="   "))
    with pytest.raises(InputError, match="title"):
        Pipeline()(CoverRequest(context=trip, title="🍂🌅"))
    with pytest.raises(InputError, match="photo"):
        Pipeline()(CoverRequest(context=NoteContext(items=[]), title="x"))
    with pytest.raises(InputError, match="diffusion"):
        Pipeline()(CoverRequest(context=trip, title="x", style="collage", backend="diffusion"))


def test_choice_prefers_quality_tags_and_portrait_fit(trip, tmp_path):
    ranked = rank_photos(trip, 0.75)
    assert ranked[0].item.id == "id-china"
    assert set(ranked[0].parts) == {"quality", "tags", "faces", "fit"}
    # same quality and tags: the portrait photo suits a 3:4 cover better than the panorama
    from tests.factories import make_photo

    tall = photo_item(make_photo(tmp_path / "tall.jpg", "coffee", size=(900, 1200)), "tall")
    wide = photo_item(make_photo(tmp_path / "wide.jpg", "coffee", size=(2400, 800)), "wide")
    order = [c.item.id for c in rank_photos(NoteContext(items=[wide, tall]), 0.75)]
    assert order == ["id-tall", "id-wide"]


def test_collage_and_candidates_skip_near_duplicate_shots(tmp_path):
    """Burst shots (the same picture, other EXIF) must not fill a collage twice."""
    from datetime import datetime

    from creator.understanding import understand
    from pipelines.cover import CoverRequest, Pipeline
    from tests.factories import make_photo

    for k, name in enumerate(["china", "china", "china", "flower", "coffee"]):
        make_photo(tmp_path / f"连拍_{k}.jpg", name, taken_at=datetime(2026, 10, 3, 9, k))
    ctx = understand([tmp_path])
    by_id = {i.id: i.path for i in ctx.items}
    out = Pipeline()(CoverRequest(context=ctx, title="杭州", style="collage", n=1))
    sources = [by_id[i] for i in out.candidates[0].cover.source.split(",")]
    stems = [p.rsplit("_", 1)[-1] for p in sources]
    palace = [s for s in stems if s in ("0.jpg", "1.jpg", "2.jpg")]
    assert len(palace) == 1 and sorted(set(stems) - set(palace)) == ["3.jpg", "4.jpg"]
