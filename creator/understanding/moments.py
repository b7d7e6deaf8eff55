"""Group a trip's items into days and moments by time and place, and summarise the trip."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from ..types import MediaItem, Moment, NoteContext, Place, Tag
from ..vocabulary import vocabulary
from .places import distance_km
from .sun import CIVIL_DUSK, HORIZON, item_sun

__all__ = ["group_moments", "summarise_tags", "build_context", "derive_context", "season_of", "time_of_day",
           "clock_bucket", "time_bucket", "time_buckets", "trip_time_of_day", "trip_dates", "trip_days", "trip_stretches",
           "TRIP_GAP_DAYS"]

# A new moment starts after this much time without a photo, or this far away.
MOMENT_GAP = timedelta(hours=2)
MOMENT_DISTANCE_KM = 5.0
# More days than this without a photo between two dates: two separate trips. The note
# then counts only the days of each (no "Day 318"), and says it looks like two trips.
TRIP_GAP_DAYS = 3
_SEPARATE_TRIPS = "these photos look like"


def season_of(when: datetime, lat: float | None = None) -> str:
    """Meteorological season of a date; flipped south of the equator."""
    seasons = ["winter", "winter", "spring", "spring", "spring", "summer",
               "summer", "summer", "autumn", "autumn", "autumn", "winter"]
    s = seasons[when.month - 1]
    if lat is not None and lat < 0:
        s = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}[s]
    return s


def _time_spec() -> dict:
    from ..resources import load_prompt

    return load_prompt("time_of_day.yaml")


def time_buckets() -> tuple[str, ...]:
    """The time-of-day buckets in the order of a day (prompts/time_of_day.yaml)."""
    return tuple(_time_spec()["buckets"])


def time_of_day(when: datetime) -> str:
    """The bucket of the local camera clock: early (4–7), morning (7–11), noon (11–14),
    afternoon (14–17), evening (17–19), night (19–4), as prompts/time_of_day.yaml says."""
    starts = _time_spec()["clock"]
    h = when.hour
    bucket = "night"  # before the first start: the night before
    for name in time_buckets():
        if h >= int(starts[name]):
            bucket = name
    return bucket


def clock_bucket(moment: Moment) -> str | None:
    """The bucket of the moment's clock (:func:`time_of_day` of its start), set right by
    the sun where its elevation is known (``moment.sun``): an afternoon or evening with
    the sun below civil dusk (-6°) is night (17:50 in a Kyoto December); a night clock is
    the evening after noon with the sun above civil dusk (22:30 in a Stockholm June:
    twilight), early before noon with the sun up (03:45 there: sunrise). None without a
    time."""
    if moment.start is None:
        return None
    clock = time_of_day(moment.start)
    if moment.sun is None:
        return clock
    if clock in ("afternoon", "evening") and moment.sun < CIVIL_DUSK:
        return "night"
    if clock == "night":
        if moment.start.hour >= 12 and moment.sun >= CIVIL_DUSK:
            return "evening"
        if moment.start.hour < 12 and moment.sun >= HORIZON:
            return "early"
    return clock


def time_bucket(moment: Moment) -> str | None:
    """When a moment happened, in the one scheme (:func:`time_buckets`); None: unsure.

    The photos come first: a moment tagged night, starry sky, sunset or blue sky
    (prompts/time_of_day.yaml ``light``) is only placed at a time those fit. When the
    camera clock disagrees (a wrong time zone, a clock never set), a strongly tagged
    photo that tells the time on its own wins ("night" at 15:53 is night); a weak tag, or
    one that only rules times out (a blue sky at 22:00), leaves the time unsure. Without
    light tags it is the clock's bucket (None without a time), as the sun sets it right
    (:func:`clock_bucket`).
    """
    light = _time_spec()["light"]
    clock = clock_bucket(moment)
    present = {t.id for t in moment.tags}

    def voided(ev: dict) -> bool:
        """A night sky is no blue sky: ``unless`` a tag present whose times the clock fits."""
        return any(u in present and clock in light["tags"].get(u, {}).get("times", ())
                   for u in ev.get("unless", ()))

    seen = [(t, ev) for t in moment.tags if (ev := light["tags"].get(t.id)) is not None and not voided(ev)]
    # a light tag that rules the clock out while a stronger one that tells a time (`says`)
    # fits it is no evidence: a faint sunset (0.36, the glow on a horizon) beside night at
    # 0.71 made a starry desert at 21:00, the sun 18° down, the evening. A sky tells no
    # time (night skylines score sky 0.9): it vouches for no clock
    seen = [(t, ev) for t, ev in seen
            if clock is None or clock in ev["times"]
            or not any(u.score > t.score and e.get("says") and clock in e["times"] for u, e in seen)]
    if not seen:
        return clock
    fits = set(time_buckets())
    for _, ev in seen:
        fits &= set(ev["times"])
    if not fits:  # the photos disagree among themselves (a blue sky beside a night shot)
        _, ev = max(seen, key=lambda x: x[0].score)
        return clock if clock in set(ev["times"]) else None
    if clock in fits:
        return clock
    # the clock disagrees with the light: the tag that tells a time on its own wins if it
    # is itself strong; another tag's strength vouches for nothing (a blue sky at 0.94
    # rules the night out, it does not make a faint sunset the evening)
    tellers = [(t.score, e["says"]) for t, e in seen if e.get("says") in fits]
    if not tellers:
        return None
    score, says = max(tellers, key=lambda x: x[0])
    return says if score >= float(light["strong"]) else None


def trip_time_of_day(context: NoteContext | list[Moment]) -> str | None:
    """The trip's time of day: the :func:`time_bucket` most of its photos were taken in
    (each moment counts its photos); None when no moment's time is known. The caption's
    time words, the music query and the cover's light all read it from here.

    Given a context without moments (one built by hand), its ``time_of_day`` when that is
    a bucket of the scheme.
    """
    moments = context if isinstance(context, list) else context.moments
    votes: Counter = Counter()
    for m in moments:
        b = time_bucket(m)
        if b is not None:
            votes[b] += max(1, len(m.item_ids))
    order = time_buckets()
    if not votes:
        stored = None if isinstance(context, list) else context.time_of_day
        return stored if not moments and stored in order else None
    return max(votes, key=lambda b: (votes[b], -order.index(b)))


def trip_dates(context: NoteContext) -> tuple[date | None, date | None]:
    """(first, last) day of the trip: the context's own, else its moments' and photos'
    dates; the last is the first for a one-day trip, both None without any date."""
    days = [m.date for m in context.moments if m.date] + [i.taken_at.date() for i in context.items if i.taken_at]
    start = context.start or (min(days) if days else None)
    end = context.end or (max(days) if days else None)
    return start, end or start


def summarise_tags(items: list[MediaItem], *, limit: int = 12) -> list[Tag]:
    """Tags of a set of items: how strongly and how often each appears.

    score = mean over items of the tag's score (0 where absent) blended with its best
    score, so one striking photo counts but a theme across the trip counts more.
    """
    if not items:
        return []
    vocab = vocabulary()
    total: dict[str, float] = defaultdict(float)
    best: dict[str, float] = defaultdict(float)
    sources: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        for t in item.tags:
            total[t.id] += t.score
            best[t.id] = max(best[t.id], t.score)
            sources[t.id][t.source] += 1
    out = []
    for tid, s in total.items():
        score = 0.6 * (s / len(items)) + 0.4 * best[tid]
        source = sources[tid].most_common(1)[0][0]
        if tid in vocab:
            out.append(vocab.tag(tid, score, source))
    out.sort(key=lambda t: -t.score)
    return out[:limit]


def trip_days(dates) -> dict:
    """Day numbers (1-based) of the dates photos were taken: days since the first date,
    except that a gap of more than :data:`TRIP_GAP_DAYS` empty days starts the next
    stretch on the next day number (two trips a year apart are days 1–2 and 3, not 1
    and 318)."""
    out: dict = {}
    day, prev = 0, None
    for d in sorted(set(dates)):
        gap = (d - prev).days if prev else 1
        day += gap if gap <= TRIP_GAP_DAYS + 1 else 1
        out[d] = day
        prev = d
    return out


def trip_stretches(dates) -> list[tuple]:
    """(first, last) date of each stretch of the trip (see :func:`trip_days`)."""
    out: list[list] = []
    for d in sorted(set(dates)):
        if out and (d - out[-1][1]).days <= TRIP_GAP_DAYS + 1:
            out[-1][1] = d
        else:
            out.append([d, d])
    return [tuple(x) for x in out]


def _same_place(a: MediaItem, b: MediaItem) -> bool:
    if a.gps is None or b.gps is None:
        return True
    return float(distance_km(a.gps.lat, a.gps.lon, b.gps.lat, b.gps.lon)) < MOMENT_DISTANCE_KM


def _main_place(items: list[MediaItem]) -> Place | None:
    places = [i.place for i in items if i.place is not None]
    if not places:
        return None
    counts = Counter(p.name_en for p in places)
    top = counts.most_common(1)[0][0]
    return next(p for p in places if p.name_en == top)


def group_moments(items: list[MediaItem]) -> list[Moment]:
    """Items in time order, split where time or place jumps. Items without a time stay
    in their given order and join the moment of the item before them."""
    ok = [i for i in items if i.ok]
    if not ok:
        return []
    timed = sorted((i for i in ok if i.taken_at), key=lambda i: i.taken_at)
    untimed = [i for i in ok if not i.taken_at]
    ordered = timed + untimed
    day_of = trip_days([i.taken_at.date() for i in timed])

    groups: list[list[MediaItem]] = []
    for item in ordered:
        if groups:
            prev = groups[-1][-1]
            same_time = (item.taken_at is None or prev.taken_at is None
                         or item.taken_at - prev.taken_at <= MOMENT_GAP)
            same_day = (item.taken_at is None or prev.taken_at is None
                        or item.taken_at.date() == prev.taken_at.date())
            if same_time and same_day and _same_place(prev, item):
                groups[-1].append(item)
                continue
        groups.append([item])

    moments = []
    for k, g in enumerate(groups):
        times = [i.taken_at for i in g if i.taken_at]
        start, end = (min(times), max(times)) if times else (None, None)
        day = day_of[start.date()] if start else (moments[-1].day if moments else 1)
        suns = sorted(s for s in map(item_sun, g) if s is not None)
        moments.append(Moment(
            index=k, day=day, date=start.date() if start else None, start=start, end=end,
            place=_main_place(g), item_ids=[i.id for i in g], tags=summarise_tags(g, limit=6),
            sun=round(suns[len(suns) // 2], 2) if suns else None,  # the median photo's
        ))
    return moments


def _places(items: list[MediaItem]) -> list[Place]:
    counts = Counter(i.place.name_en for i in items if i.place)
    first = {}
    for i in items:
        if i.place and i.place.name_en not in first:
            first[i.place.name_en] = i.place
    return [first[name] for name, _ in counts.most_common()]


def build_context(items: list[MediaItem], *, hints: list[str] | None = None,
                  warnings: list[str] | None = None) -> NoteContext:
    """The NoteContext of understood items: places, dates, moments, top tags, mood.
    Places are the items' own (``understand_items`` looks them up, once); nothing is
    looked up here."""
    # one order for every entry point (a folder, uploads in the browser's order, the
    # SDK): by capture time, then by file name; items without a time follow, by name
    items = sorted(items, key=lambda i: (i.taken_at is None, i.taken_at or datetime.min,
                                         i.path.replace("\\", "/").rsplit("/", 1)[-1].lower(), i.path))
    ok = [i for i in items if i.ok]
    times = sorted(i.taken_at for i in ok if i.taken_at)
    start = times[0].date() if times else None
    end = times[-1].date() if times else None
    stretches = trip_stretches(t.date() for t in times)
    lat = next((i.gps.lat for i in ok if i.gps), None)
    season = Counter(season_of(t, lat) for t in times).most_common(1)[0][0] if times else None
    top = summarise_tags(ok)
    vocab = vocabulary()
    weight = sum(t.score for t in top) or 1.0
    valence = sum(vocab[t.id].valence * t.score for t in top) / weight if top else 0.5
    energy = sum(vocab[t.id].energy * t.score for t in top) / weight if top else 0.5
    # More photos per hour reads as a livelier trip.
    if len(times) >= 2:
        hours = max((times[-1] - times[0]).total_seconds() / 3600, 0.5)
        energy = 0.8 * energy + 0.2 * min(1.0, len(times) / hours / 20)
    all_warnings = list(warnings or [])
    if len(stretches) > 1:
        spans = ", ".join(f"{a:%Y-%m-%d}" + (f"–{b:%Y-%m-%d}" if b != a else "") for a, b in stretches)
        all_warnings.append(f"{_SEPARATE_TRIPS} {len(stretches)} separate trips ({spans}); "
                            "the note counts only their days — make one note per trip if they are")
    for i in items:
        if i.error:
            all_warnings.append(item_warning(i))
    moments = group_moments(items)
    return NoteContext(
        items=list(items),
        moments=moments,
        places=_places(ok),
        start=start,
        end=end,
        days=max(trip_days(t.date() for t in times).values()) if times else None,
        top_tags=top,
        season=season,
        time_of_day=trip_time_of_day(moments),
        valence=round(valence, 3),
        energy=round(energy, 3),
        hints=list(hints or []),
        warnings=all_warnings,
    )


def item_warning(item: MediaItem) -> str:
    """The warning of an item in error: its path, then the error without the file's name
    when the error starts with it (it said "坏文件.jpg: 坏文件.jpg: not a valid image")."""
    err, name = item.error or "", Path(item.path).name
    if name and err.startswith(name + ": "):
        err = err[len(name) + 2:]
    return f"{item.path}: {err}"


def derive_context(context: NoteContext) -> NoteContext:
    """The context with every derived fact recomputed from its items.

    The items (their tags, times, places and the user's edits to them) are the one
    source of truth; moments, places, dates, top tags, season, time of day and mood are
    derived from them. A stage that reads a saved or edited context calls this first, so
    a tag added or removed, or a photo taken out, changes what the next caption,
    soundtrack query and cover say. The hints and the understanding warnings are kept
    (once each).
    """
    readded = {item_warning(i) for i in context.items if i.error}  # build_context adds these
    kept = [w for w in context.warnings if w not in readded and not w.startswith(_SEPARATE_TRIPS)]
    return build_context(list(context.items), hints=list(context.hints), warnings=kept)
