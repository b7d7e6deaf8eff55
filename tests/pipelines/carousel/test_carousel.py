"""The carousel stage on a real, understood trip: choice, bursts, cover, coverage, story
order, face-safe crops in every ratio (checked with the real face detector), labels,
clips' keyframes, bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from creator.errors import InputError
from creator.types import Box
from pipelines.carousel import SIZES, CarouselRequest, Pipeline, render_entry
from pipelines.cover.pipeline import photo_signature, same_shot
from tests.factories import make_clip, make_photo

BURST = {"故宫", "故宫连拍"}


def names_of(trip, entries) -> list[str]:
    by_id = {i.id: Path(i.path).stem.removeprefix("照片_") for i in trip.items}
    return [by_id[e.item_id] for e in entries]


def test_every_distinct_photo_once_in_time_order(trip, ids):
    out = Pipeline()(CarouselRequest(context=trip))
    names = names_of(trip, out.entries)
    # the burst once (the better frame), everything else once, in the order they were taken
    assert len(BURST & set(names)) == 1 and len(names) == len(set(names)) == 6
    times = [trip.item(e.item_id).taken_at for e in out.entries]
    assert times == sorted(times)
    assert [e.file for e in out.entries] == [f"{k:02d}.jpg" for k in range(1, 7)]
    left_out = (BURST - set(names)).pop()
    assert "burst" in out.skipped[ids[left_out]]


def test_the_burst_is_caught_by_the_burst_rule_not_by_luck(trip, trip_files, ids):
    a, b = photo_signature(str(trip_files["故宫"])), photo_signature(str(trip_files["故宫连拍"]))
    assert not same_shot(a, b)  # the frames differ more than a re-export does...
    assert same_shot(a, b, seconds=1.0, burst_seconds=5.0)  # ...but 1 s apart they are one burst
    # the same two frames two hours apart are two visits, and both are shown
    items = [i.model_copy(update={"taken_at": datetime(2024, 10, 3, 11, 0)}) if i.id == ids["故宫连拍"] else i
             for i in trip.items]
    out = Pipeline()(CarouselRequest(context=trip.model_copy(update={"items": items})))
    assert BURST <= set(names_of(trip, out.entries))


def test_the_cover_comes_first_and_its_shot_never_again(trip, ids):
    out = Pipeline()(CarouselRequest(context=trip, cover_items=[ids["故宫"]], n=4))
    names = names_of(trip, out.entries)
    assert not BURST & set(names)  # neither the cover's photo nor its burst twin
    assert [e.file for e in out.entries] == ["02.jpg", "03.jpg", "04.jpg"]  # 01.jpg is the cover
    assert out.skipped[ids["故宫"]] == "on the cover"


def test_few_slots_cover_every_moment_before_repeating_one(trip):
    out = Pipeline()(CarouselRequest(context=trip, n=3))
    moment_of = {i: m.index for m in trip.moments for i in m.item_ids}
    assert len(trip.moments) == 3
    assert sorted(moment_of[e.item_id] for e in out.entries) == [0, 1, 2]


def _inside(face: Box, box, size) -> bool:
    W, H = size
    x0, y0, x1, y1 = box
    return x0 <= face.x0 * W and face.x1 * W <= x1 and y0 <= face.y0 * H and face.y1 * H <= y1


@pytest.mark.parametrize("ratio", ["3:4", "1:1", "4:3"])
def test_faces_stay_whole_in_every_ratio(trip, ids, ratio):
    from creator.understanding.faces import get_face_detector

    item = trip.item(ids["宇航员"])
    (face,) = item.quality.faces
    out = Pipeline()(CarouselRequest(context=trip, ratio=ratio))
    entry = next(e for e in out.entries if e.item_id == item.id)
    W, H = item.width, item.height
    x0, y0, x1, y1 = entry.box
    assert abs((x1 - x0) / (y1 - y0) - SIZES[ratio][0] / SIZES[ratio][1]) < 0.01
    assert _inside(face, entry.box, (W, H))
    # a centred crop would have cut the face: the crop follows it
    cw = x1 - x0
    assert not _inside(face, ((W - cw) / 2, y0, (W + cw) / 2, y1), (W, H)) or ratio == "4:3"
    image = render_entry(entry, item, SIZES[ratio])
    assert image.size == SIZES[ratio]
    found = get_face_detector().detect(image)
    assert found, "the posted image shows no face"
    f = max(found, key=lambda b: b.score)
    # where the source face lands in the crop, and the detector finds it there, whole
    want = Box(x0=(face.x0 * W - x0) / cw, y0=(face.y0 * H - y0) / (y1 - y0),
               x1=(face.x1 * W - x0) / cw, y1=(face.y1 * H - y0) / (y1 - y0))
    inter = max(0, min(f.x1, want.x1) - max(f.x0, want.x0)) * max(0, min(f.y1, want.y1) - max(f.y0, want.y0))
    union = f.width * f.height + want.width * want.height - inter
    assert inter / union > 0.5
    assert 0.0 < f.x0 and f.x1 < 1.0 and 0.0 < f.y0 and f.y1 < 1.0


def test_labels_say_day_and_place_where_they_change(trip, ids):
    zh = Pipeline()(CarouselRequest(context=trip, labels=True))
    labels = dict(zip(names_of(trip, zh.entries), (e.label for e in zh.entries)))
    first = next(n for n in ("故宫", "故宫连拍") if n in labels)
    assert labels[first] == "第1天 · 杭州" and labels["宇航员"] == "第2天 · 上海"
    assert labels["咖啡"] is None and labels["花"] is None and labels["猫"] is None  # said already
    en = Pipeline()(CarouselRequest(context=trip, labels=True, language="en"))
    assert [e.label for e in en.entries if e.label] == ["Day 1 · Hangzhou", "Day 2 · Shanghai"]
    # the label is drawn: the labelled image differs from the bare one near the label only
    entry = zh.entries[0]
    item = trip.item(entry.item_id)
    bare = np.asarray(render_entry(entry, item, SIZES["3:4"], labels=False), np.float32)
    with_label = np.asarray(render_entry(entry, item, SIZES["3:4"], style="magazine"), np.float32)
    changed = np.abs(bare - with_label).max(axis=2) > 40
    assert 0.001 < changed.mean() < 0.08


def test_a_clip_gives_its_best_keyframe_when_photos_are_few(tmp_path):
    from creator.understanding import understand

    folder = tmp_path / "短视频之旅"
    make_photo(folder / "照片_花.jpg", "flower", taken_at=datetime(2024, 5, 1, 10, 0))
    make_clip(folder / "视频_测试.mp4", duration=2.0, size=(320, 240), scenes=2,
              creation_time=datetime(2024, 5, 1, 11, 0))
    ctx = understand([folder])
    out = Pipeline()(CarouselRequest(context=ctx, n=3, ratio="1:1"))
    kinds = [ctx.item(e.item_id).kind.value for e in out.entries]
    assert sorted(kinds) == ["clip", "photo"]
    clip_entry = next(e for e in out.entries if ctx.item(e.item_id).kind.value == "clip")
    assert clip_entry.time is not None and 0 <= clip_entry.time <= 2.0
    assert clip_entry.box[2] - clip_entry.box[0] == pytest.approx(240, abs=1)  # 1:1 of a 320x240 frame
    img = render_entry(clip_entry, ctx.item(clip_entry.item_id), SIZES["1:1"])
    assert img.size == (1080, 1080) and np.asarray(img).std() > 20  # a real frame, not a blank
    # with photos enough, clips stay out
    more = Pipeline()(CarouselRequest(context=ctx, n=1))
    assert [ctx.item(e.item_id).kind.value for e in more.entries] == ["photo"]


@pytest.mark.parametrize("field,value,words", [("ratio", "9:16", "ratio"), ("n", 19, "n must"), ("n", 0, "n must")])
def test_bad_requests_say_which_field(trip, field, value, words):
    with pytest.raises(InputError, match=words):
        Pipeline()(CarouselRequest(context=trip, **{field: value}))


def test_labels_follow_the_cover_style(trip):
    """One look across the note: the label is set in the cover style's font and ink."""
    from pipelines.carousel.render import label_spec

    entry = Pipeline()(CarouselRequest(context=trip, labels=True)).entries[0]
    item = trip.item(entry.item_id)
    sticker, magazine = label_spec("bold_sticker"), label_spec("magazine")
    assert (sticker.family, sticker.treatment) == ("sans", "sticker")
    assert (magazine.family, magazine.treatment) == ("serif", "auto")
    a = np.asarray(render_entry(entry, item, SIZES["3:4"], style="bold_sticker"), np.float32)
    b = np.asarray(render_entry(entry, item, SIZES["3:4"], style="magazine"), np.float32)
    assert (np.abs(a - b).max(axis=2) > 40).mean() > 0.001  # the label drawn differently
