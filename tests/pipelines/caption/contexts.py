"""Hand-built NoteContexts for the caption tests (what the understanding stage would give)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from creator.types import GPS, MediaItem, Moment, NoteContext, Place
from creator.vocabulary import vocabulary

HANGZHOU = Place(name_zh="杭州", name_en="Hangzhou", city_zh="杭州", city_en="Hangzhou", region_zh="浙江",
                 region_en="Zhejiang", country_zh="中国", country_en="China", country_code="CN")
KYOTO = Place(name_zh="京都", name_en="Kyoto", city_zh="京都", city_en="Kyoto", region_zh="京都府",
              region_en="Kyoto", country_zh="日本", country_en="Japan", country_code="JP")
OSAKA = Place(name_zh="大阪", name_en="Osaka", city_zh="大阪", city_en="Osaka", region_zh="大阪府",
              region_en="Osaka", country_zh="日本", country_en="Japan", country_code="JP")


def tag(tag_id: str, score: float = 0.8):
    return vocabulary().tag(tag_id, score, "test")


def trip(
    place: Place | None,
    plan: list[list[tuple[int, list[str]]]],
    *,
    start: date | None = date(2024, 10, 3),
    gps: tuple[float, float] | None = (30.25, 120.15),
    season: str | None = "autumn",
    places_by_day: list[Place] | None = None,
    hints: list[str] | None = None,
) -> NoteContext:
    """A trip: ``plan[d]`` is day d+1's moments as (hour, tag ids, best first)."""
    items, moments = [], []
    counts: dict[str, float] = {}
    for d, day in enumerate(plan):
        for hour, ids in day:
            k = len(moments)
            when = datetime.combine(start + timedelta(days=d), datetime.min.time()).replace(hour=hour) \
                if start else None
            p = places_by_day[d] if places_by_day else place
            item = MediaItem(path=f"/照片/旅行/{k}.jpg", id=f"item{k:03d}", taken_at=when,
                             gps=GPS(lat=gps[0], lon=gps[1]) if gps else None, place=p)
            items.append(item)
            tags = [tag(t, 0.9 - 0.1 * j) for j, t in enumerate(ids)]
            moments.append(Moment(index=k, day=d + 1, date=when.date() if when else None, start=when, end=when,
                                  place=p, item_ids=[item.id], tags=tags))
            for j, t in enumerate(ids):
                counts[t] = counts.get(t, 0) + (1.0 - 0.2 * j)
    top = sorted(counts, key=lambda t: -counts[t])[:8]
    places = []
    for p in ([place] if place else []) + (places_by_day or []):
        if p not in places:
            places.append(p)
    return NoteContext(
        items=items,
        moments=moments if start else [],
        places=places,
        start=start,
        end=start + timedelta(days=len(plan) - 1) if start else None,
        days=len(plan) if start else None,
        top_tags=[tag(t, min(1.0, counts[t] / max(counts.values()))) for t in top],
        season=season,
        time_of_day="golden_hour",
        hints=hints or [],
    )


def hangzhou() -> NoteContext:
    return trip(HANGZHOU, [
        [(7, ["lake", "fog"]), (11, ["temple", "tea"]), (17, ["sunset", "lake"])],
        [(9, ["bicycle", "autumn"]), (19, ["market", "food"])],
    ])


def kyoto() -> NoteContext:
    return trip(KYOTO, [
        [(8, ["temple", "autumn"]), (13, ["street", "food"])],
        [(6, ["forest", "temple"]), (15, ["cafe", "dessert"]), (20, ["night", "street"])],
        [(10, ["river", "bridge"]), (17, ["sunset", "river"])],
    ], start=date(2024, 11, 16), gps=(35.01, 135.77))
