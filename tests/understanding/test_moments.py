from __future__ import annotations

from datetime import date, datetime

from creator.types import GPS, MediaItem, MediaKind
from creator.understanding.places import locate
from creator.understanding.moments import build_context, group_moments, season_of, time_of_day
from creator.vocabulary import vocabulary


def item(i, when, gps=None, tags=(), error=None):
    """An understood item: its place looked up as ``understand_items`` does."""
    v = vocabulary()
    where = GPS(lat=gps[0], lon=gps[1]) if gps else None
    return MediaItem(
        path=f"/p/{i}.jpg", id=f"{i:016x}", kind=MediaKind.photo, taken_at=when,
        gps=where, place=locate(where) if where and not error else None,
        tags=[v.tag(t, s, "imagenet") for t, s in tags], error=error,
    )


def test_moments_split_on_time_gap_day_and_distance():
    lake = (30.25, 120.15)
    far = (30.30, 120.40)  # ~25 km away
    items = [
        item(1, datetime(2026, 10, 3, 7, 0), lake, [("lake", 0.9)]),
        item(2, datetime(2026, 10, 3, 7, 40), lake, [("lake", 0.8), ("sunset", 0.3)]),
        item(3, datetime(2026, 10, 3, 12, 0), lake),  # > 2 h later
        item(4, datetime(2026, 10, 3, 12, 30), far),  # far away
        item(5, datetime(2026, 10, 4, 9, 0), far),  # next day
        item(6, None),  # no time: joins the last moment
        item(7, datetime(2026, 10, 3, 8, 0), error="corrupt"),  # failed items are left out
    ]
    moments = group_moments(items)
    assert [m.item_ids for m in moments] == [
        [items[0].id, items[1].id], [items[2].id], [items[3].id], [items[4].id, items[5].id]
    ]
    assert [m.day for m in moments] == [1, 1, 1, 2]
    assert moments[0].tags[0].id == "lake"


def test_context_summarises_dates_places_tags_and_mood():
    items = [
        item(1, datetime(2026, 10, 3, 17, 30), (30.25, 120.15), [("lake", 0.9), ("sunset", 0.8)]),
        item(2, datetime(2026, 10, 4, 18, 0), (30.25, 120.15), [("sunset", 0.7)]),
        item(3, None, error="not a photo"),
    ]
    ctx = build_context(items, hints=["第一次来杭州"])
    assert (ctx.start, ctx.end, ctx.days) == (date(2026, 10, 3), date(2026, 10, 4), 2)
    assert ctx.places[0].name_zh == "杭州"
    assert {t.id for t in ctx.top_tags[:2]} == {"lake", "sunset"}
    assert ctx.season == "autumn" and ctx.time_of_day == "evening"
    assert ctx.energy < 0.4 < ctx.valence  # lakes and sunsets: calm, pleasant
    assert any("not a photo" in w for w in ctx.warnings)
    assert ctx.hints == ["第一次来杭州"]


def test_season_and_time_of_day():
    assert season_of(datetime(2026, 1, 10)) == "winter"
    assert season_of(datetime(2026, 1, 10), lat=-33.8) == "summer"
    assert time_of_day(datetime(2026, 1, 1, 6)) == "early"
    assert time_of_day(datetime(2026, 1, 1, 23)) == "night"


def test_one_order_for_every_entry_point_time_then_name():
    # the browser hands uploads over in its own order (kyoto_1, kyoto_0, kyoto_3, kyoto_2)
    names = ["kyoto_1.jpg", "kyoto_0.jpg", "kyoto_3.jpg", "kyoto_2.jpg", "无时间_b.jpg", "无时间_a.jpg"]
    hours = {"kyoto_0.jpg": 9, "kyoto_1.jpg": 10, "kyoto_2.jpg": 10, "kyoto_3.jpg": 12}
    items = [MediaItem(path=f"/照片/{n}", id=n, kind=MediaKind.photo,
                       taken_at=datetime(2025, 11, 20, hours[n]) if n in hours else None) for n in names]
    ctx = build_context(items)
    assert [i.id for i in ctx.items] == ["kyoto_0.jpg", "kyoto_1.jpg", "kyoto_2.jpg", "kyoto_3.jpg",
                                         "无时间_a.jpg", "无时间_b.jpg"]
    assert [i.id for i in ctx.ok_items] == [i.id for i in ctx.items]


def test_two_trips_a_year_apart_count_only_their_days():
    dates = [datetime(2024, 10, 3, 9), datetime(2024, 10, 4, 15), datetime(2025, 11, 20, 10)]
    items = [MediaItem(path=f"/照片/{k}.jpg", id=f"i{k}", kind=MediaKind.photo, taken_at=d)
             for k, d in enumerate(dates)]
    ctx = build_context(items)
    assert ctx.days == 3 and [m.day for m in ctx.moments] == [1, 2, 3]
    assert any("2 separate trips" in w and "2025-11-20" in w for w in ctx.warnings)
    # a gap of a day or two is one trip: its days are counted as they fall
    close = build_context([MediaItem(path="/a.jpg", id="a", kind=MediaKind.photo, taken_at=datetime(2024, 5, 1, 9)),
                           MediaItem(path="/b.jpg", id="b", kind=MediaKind.photo, taken_at=datetime(2024, 5, 3, 9))])
    assert close.days == 3 and [m.day for m in close.moments] == [1, 3] and not close.warnings


def test_a_note_across_years_says_the_years_and_no_318_days():
    from pipelines.caption import CaptionRequest, Pipeline
    from creator.understanding.moments import derive_context

    dates = [datetime(2024, 10, 3, 9), datetime(2024, 10, 4, 15), datetime(2025, 11, 20, 10)]
    voc = vocabulary()
    items = [MediaItem(path=f"/照片/{k}.jpg", id=f"i{k}", kind=MediaKind.photo, taken_at=d,
                       tags=[voc.tag("lake", 0.9, "test"), voc.tag("temple", 0.8, "test")])
             for k, d in enumerate(dates)]
    ctx = derive_context(build_context(items))
    assert sum("separate trips" in w for w in ctx.warnings) == 1  # derived again, said once
    for lang in ("zh", "en"):
        for c in Pipeline()(CaptionRequest(context=ctx, language=lang, n=3)).captions:
            assert "318" not in c.body and "317" not in c.body, c.body
            assert "2024" in c.body and "2025" in c.body, c.body
