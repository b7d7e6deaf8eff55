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
        time_of_day="evening",
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


# --- realistic trips: mixed tags as a tagger gives them (objects often score high) ---------

def _place(zh: str, en: str, city: tuple[str, str], country: tuple[str, str, str]) -> Place:
    return Place(name_zh=zh, name_en=en, city_zh=city[0], city_en=city[1], country_zh=country[0],
                 country_en=country[1], country_code=country[2])


CN = ("中国", "China", "CN")
WEST_LAKE = _place("西湖", "West Lake", ("杭州", "Hangzhou"), CN)
BROKEN_BRIDGE = _place("断桥", "Broken Bridge", ("杭州", "Hangzhou"), CN)
SU_CAUSEWAY = _place("苏堤", "Su Causeway", ("杭州", "Hangzhou"), CN)
LEIFENG = _place("雷峰塔", "Leifeng Pagoda", ("杭州", "Hangzhou"), CN)
SANYA = _place("三亚", "Sanya", ("三亚", "Sanya"), CN)
HUANGSHAN = _place("黄山", "Huangshan", ("黄山", "Huangshan"), CN)
TAIPEI = _place("台北", "Taipei", ("台北", "Taipei"), ("中国台湾", "Taiwan", "TW"))

# (day, hour, place or None, [(tag id, score), ...] best first)
Scene = tuple[int, int, Place | None, list[tuple[str, float]]]


def scenes(moments_spec: list[Scene], *, start: date | None, season: str | None,
           gps: tuple[float, float] | None, hints: list[str] | None = None) -> NoteContext:
    """A trip from explicit moments; the trip's top tags are the moments' tags, summed."""
    items, moments = [], []
    totals: dict[str, float] = {}
    for k, (day, hour, place, tagged) in enumerate(moments_spec):
        when = (datetime.combine(start + timedelta(days=day - 1), datetime.min.time()).replace(hour=hour)
                if start else None)
        item = MediaItem(path=f"/照片/{k}.jpg", id=f"scene{k:03d}", taken_at=when,
                         gps=GPS(lat=gps[0], lon=gps[1]) if gps else None, place=place)
        items.append(item)
        moments.append(Moment(index=k, day=day if start else 1, date=when.date() if when else None,
                              start=when, end=when, place=place, item_ids=[item.id],
                              tags=[tag(t, s) for t, s in tagged]))
        for t, s in tagged:
            totals[t] = totals.get(t, 0.0) + s
    top = sorted(totals, key=lambda t: -totals[t])[:10]
    best = max(totals.values())
    places: list[Place] = []  # most photographed first
    for _, _, p, _ in moments_spec:
        if p and p not in places:
            places.append(p)
    places.sort(key=lambda p: -sum(1 for _, _, q, _ in moments_spec if q == p))
    last = max(d for d, _, _, _ in moments_spec)
    return NoteContext(
        items=items, moments=moments, places=places, start=start,
        end=start + timedelta(days=last - 1) if start else None, days=last if start else None,
        top_tags=[tag(t, round(totals[t] / best, 3)) for t in top], season=season, hints=hints or [],
    )


def west_lake() -> NoteContext:
    """Hangzhou in autumn, a named spot per moment; a tea and the companions score high."""
    return scenes([
        (1, 7, BROKEN_BRIDGE, [("people", 0.9), ("lake", 0.8), ("bridge", 0.7), ("fog", 0.4)]),
        (1, 11, WEST_LAKE, [("drink", 0.95), ("tea", 0.8), ("lake", 0.6)]),
        (1, 17, LEIFENG, [("sunset", 0.85), ("sky", 0.8), ("lake", 0.6), ("architecture", 0.5)]),
        (2, 8, SU_CAUSEWAY, [("people", 0.9), ("bicycle", 0.7), ("autumn", 0.7), ("lake", 0.5)]),
        (2, 15, WEST_LAKE, [("drink", 0.9), ("coffee", 0.85), ("cafe", 0.6)]),
    ], start=date(2024, 10, 3), season="autumn", gps=(30.25, 120.15))


def beach() -> NoteContext:
    """Sanya in summer: sea and sand, with a lot of drinks and selfies."""
    return scenes([
        (1, 10, SANYA, [("drink", 0.95), ("beach", 0.85), ("sea", 0.8), ("sky", 0.7)]),
        (1, 15, SANYA, [("people", 0.95), ("swimming", 0.7), ("sea", 0.7)]),
        (1, 19, SANYA, [("sunset", 0.9), ("sky", 0.85), ("beach", 0.6)]),
        (2, 9, SANYA, [("selfie", 0.9), ("people", 0.8), ("beach", 0.7), ("clouds", 0.4)]),
        (2, 12, SANYA, [("drink", 0.9), ("fruit", 0.8), ("food", 0.5)]),
        (3, 16, SANYA, [("boat", 0.7), ("sea", 0.7), ("pier", 0.5)]),
    ], start=date(2024, 7, 12), season="summer", gps=(18.25, 109.5))


def hiking() -> NoteContext:
    """Huangshan in spring: mountains, trails and clouds; people in most frames."""
    return scenes([
        (1, 6, HUANGSHAN, [("people", 0.9), ("hiking", 0.8), ("forest", 0.6)]),
        (1, 11, HUANGSHAN, [("mountain", 0.9), ("clouds", 0.8), ("sky", 0.7)]),
        (1, 15, HUANGSHAN, [("people", 0.85), ("waterfall", 0.6), ("plant", 0.5)]),
        (2, 5, HUANGSHAN, [("mountain", 0.85), ("fog", 0.7), ("clouds", 0.4)]),
        (2, 10, HUANGSHAN, [("group", 0.9), ("people", 0.8), ("hiking", 0.7), ("mountain", 0.6)]),
    ], start=date(2024, 4, 20), season="spring", gps=(30.13, 118.17))


def night_market() -> NoteContext:
    """Taipei over a weekend, mostly food and night markets."""
    return scenes([
        (1, 12, TAIPEI, [("food", 0.9), ("restaurant", 0.7), ("people", 0.6)]),
        (1, 16, TAIPEI, [("dessert", 0.85), ("drink", 0.8), ("cafe", 0.5)]),
        (1, 20, TAIPEI, [("market", 0.9), ("night", 0.85), ("food", 0.8), ("street", 0.6)]),
        (2, 11, TAIPEI, [("temple", 0.7), ("architecture", 0.6), ("people", 0.6)]),
        (2, 21, TAIPEI, [("food", 0.9), ("market", 0.85), ("night", 0.8), ("fruit", 0.5)]),
    ], start=date(2024, 11, 2), season="autumn", gps=(25.05, 121.55))


def weak_objects() -> NoteContext:
    """Photos without EXIF time or GPS, tagged only with objects (a cup, a cat, a face)."""
    return scenes([
        (1, 0, None, [("drink", 0.6), ("coffee", 0.55), ("cat", 0.5), ("people", 0.45)]),
        (1, 0, None, [("cat", 0.5), ("indoor", 0.4)]),
        (1, 0, None, [("dessert", 0.5), ("food", 0.45), ("drink", 0.3)]),
    ], start=None, season=None, gps=None)


def beach_no_place() -> NoteContext:
    """The beach trip with dates but no GPS: no place anywhere."""
    ctx = beach()
    moments = [m.model_copy(update={"place": None}) for m in ctx.moments]
    items = [i.model_copy(update={"place": None, "gps": None}) for i in ctx.items]
    return ctx.model_copy(update={"places": [], "moments": moments, "items": items})


REALISTIC = {"west_lake": west_lake, "beach": beach, "hiking": hiking, "night_market": night_market,
             "weak_objects": weak_objects, "beach_no_place": beach_no_place}
