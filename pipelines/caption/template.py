"""The template composer: a note draft from phrase banks, grounded by construction.

The banks (prompts/caption/zh.yaml, en.yaml) hold many alternatives per slot and per tag;
a seeded random generator picks among them, so the same seed gives the same draft and
different seeds give different ones. Every value written into a template (place, dates,
trip length, season, themes, times of day) comes from the NoteContext or from the
user's hints; a template that needs a value the context does not have is skipped.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from creator.resources import load_prompt
from creator.types import Caption, Moment, NoteContext, Tag
from creator.understanding.moments import clock_bucket, time_bucket, time_buckets, trip_dates

from . import wording as wd
from .checks import BODY_MAX, HASHTAGS_MAX, TITLE_MAX, clean_hashtag, families, family_of, title_length, trim_title

__all__ = ["TripFacts", "trip_facts", "compose", "load_style", "style_names", "time_bucket", "theme_weight",
           "general_ids", "covered_general_ids", "keyword_sentence", "sayable_ids", "stated_top_tags",
           "said_context", "family_tag"]

#: Tags whose photos show no sunshine: their moment gets no sentence about the sun.
SUNLESS_TAGS = frozenset({"fog", "rain"})
#: Tags whose photos are taken in the dark: their moment gets no clause about a lit sky.
DARK_TAGS = frozenset({"night", "starry_sky"})


def _ranking() -> dict:
    return load_prompt("caption/themes.yaml")


def theme_weight(tag: Tag) -> float:
    """How strongly ``tag`` stands for the trip: its score × its group's (or its own) weight.

    prompts/caption/themes.yaml holds the weights: scenery, sights, light and activities
    outrank objects such as drinks, pets and people.
    """
    r = _ranking()
    w = r["tags"].get(tag.id)
    if w is None:
        w = r["groups"].get(tag.group, 0.5)
    return tag.score * float(w)


def general_ids(ids) -> set[str]:
    """The ids among ``ids`` that a more specific id among them names better (architecture when palace is there)."""
    present = set(ids)
    return {g for g, specific in _ranking()["broader"].items() if g in present and present & set(specific)}


def covered_general_ids(context: NoteContext, ids) -> set[str]:
    """The general ids among ``ids`` that the trip's specific ones among them cover: those
    of :func:`general_ids` whose photos mostly (half or more) also carry a specific one. A
    party of five people photos with two selfies keeps "people"; a trip whose blue skies
    all hold clouds drops "sky". Without tagged items, :func:`general_ids`."""
    present = set(ids)
    general = general_ids(present)
    tagged = [{t.id for t in i.tags} for i in context.items if i.tags]
    if not tagged:
        return general
    broader = _ranking()["broader"]
    out = set()
    for g in general:
        specific = present & set(broader[g])
        carrying = [ids_ for ids_ in tagged if g in ids_]
        if not carrying or 2 * sum(bool(ids_ & specific) for ids_ in carrying) >= len(carrying):
            out.add(g)
    return out


def _by_weight(tags: list[Tag], drop: set[str] | None = None) -> list[Tag]:
    """``tags`` without the general ones (``drop``; default: those that a specific one among
    ``tags`` covers), strongest theme first (stable)."""
    drop = general_ids(t.id for t in tags) if drop is None else drop
    return sorted((t for t in tags if t.id not in drop), key=lambda t: -theme_weight(t))


def style_names() -> list[str]:
    """The styles in prompts/caption/styles.yaml."""
    return list(load_prompt("caption/styles.yaml")["styles"])


def load_style(name: str) -> tuple[str, dict]:
    """(canonical name, preset) of a style given by name or alias (攻略, 氛围感, 简约...).

    Raises KeyError when there is no such style.
    """
    styles = load_prompt("caption/styles.yaml")["styles"]
    key = name.strip().lower()
    for sname, preset in styles.items():
        if key == sname or key in [a.lower() for a in preset.get("aliases", [])]:
            return sname, preset
    raise KeyError(name)


@dataclass
class TripFacts:
    """What a draft may say, in one language: every value is from the context or the hints."""

    lang: str
    places: list[str]  # trip place names, most photographed first
    place_line: str | None  # "日本·京都", "Kyoto, Japan"
    date_line: str | None  # "10.03–10.04", "Oct 3–4"
    days: int | None
    season: str | None  # season id
    themes: list[Tag]  # ranked, in the bank, theme-worthy
    tags: dict[str, Tag]  # every tag seen in the context, by id
    days_moments: list[tuple[int, list[Moment]]]  # moments grouped by trip day
    dated: bool  # the trip has dates: it can be told by day
    weekend: bool
    tropical: bool  # every photo with a position is between the tropics: no season's tips
    hints: list[str]  # the user's sentences usable in this language
    unused_hints: list[str]
    values: dict[str, str] = field(default_factory=dict)  # template placeholders
    times: dict[int, str | None] = field(default_factory=dict)  # moment index -> time_bucket
    topics: dict[int, list[str]] = field(default_factory=dict)  # moment index -> tag ids to tell, best first


def family_tag(family: str, score: float, source: str) -> Tag:
    """The tag that stands for a family of themes.yaml ``families`` (sea, lake and river:
    "water"), named in the family's own words."""
    f = families()[family]
    return Tag(id=family, label_zh=f["zh"], label_en=f["en"], group=f["group"], score=score, source=source)


def said_context(context: NoteContext) -> NoteContext:
    """``context`` as a draft may tell it: a tag of a family (themes.yaml ``families``)
    that no photo of the trip carries at the family's ``sure`` level (nor the user added)
    stands as the family's tag instead ("by the water", not "by the sea", when the tagger
    leaned to the sea at 0.6-0.8, where it was as often a lake or a river), on items,
    moments and the trip's top tags alike; a family whose ``sure`` is null (meadow or forest:
    "the countryside") names a member only when the user added it. Where a member is named,
    the family tag of the same photo or moment is left out. A context without an unsure
    member comes back as it is."""
    member_of = family_of()
    every = [t for i in context.items for t in i.tags] + list(context.top_tags) + \
        [t for m in context.moments for t in m.tags]
    present = {t.id for t in every if t.id in member_of}
    if not present:
        return context
    # sure or not by the photos' own scores (a context built from moments only: theirs)
    evidence = [t for i in context.items for t in i.tags] or every

    def sure(t: Tag) -> bool:  # a family's `sure` null: only the user names a member
        level = families()[member_of[t.id]].get("sure")
        return t.source == "user" or (level is not None and t.score >= float(level))

    named = {t.id for t in evidence if t.id in member_of and sure(t)}
    unsure = present - named
    if not unsure:
        return context

    def told(tags: list[Tag]) -> list[Tag]:
        # a named member covers its family on the same photo or moment
        own = {member_of[t.id] for t in tags if t.id in member_of and t.id not in unsure}
        out: list[Tag | str] = []
        best: dict[str, Tag] = {}
        for t in tags:
            if t.id not in unsure:
                out.append(t)
                continue
            f = member_of[t.id]
            if f in own:
                continue
            if f not in best:
                out.append(f)  # the family stands where its first member stood
            if f not in best or t.score > best[f].score:
                best[f] = t
        return [family_tag(x, best[x].score, best[x].source) if isinstance(x, str) else x for x in out]

    return context.model_copy(update={
        "items": [i.model_copy(update={"tags": told(list(i.tags))}) if i.tags else i for i in context.items],
        "moments": [m.model_copy(update={"tags": told(list(m.tags))}) for m in context.moments],
        "top_tags": told(list(context.top_tags)),
    })


def sayable_ids(context: NoteContext) -> set[str] | None:
    """The tag ids a draft may state: those that two photos carry at the calibrated score
    themes.yaml ``say`` or more, or one photo at ``say_alone`` or more (for the trip's
    subjects, the levels under ``subjects``), and those the user added. None when no item
    carries tags (a context built by hand, from moments only): its moments' tags are all
    taken as given."""
    item_tags = [t for i in context.items for t in i.tags]
    if not item_tags:
        return None
    ranking = _ranking()
    levels = {False: (float(ranking["say"]), float(ranking["say_alone"])),
              True: (float(ranking["subjects"]["say"]), float(ranking["subjects"]["say_alone"]))}
    subject_groups = set(ranking["subjects"]["groups"])
    support = Counter()
    for t in item_tags:
        say, alone = levels[t.group in subject_groups]
        if t.source == "user" or t.score >= alone:
            support[t.id] += 2
        elif t.score >= say:
            support[t.id] += 1
    return {tid for tid, n in support.items() if n >= 2}


def stated_top_tags(context: NoteContext) -> list[Tag]:
    """The trip's top tags that a draft may state (:func:`sayable_ids`), best first: what a
    soundtrack's reason names and a generated cover paints, so that neither tells of a
    tag the caption leaves unsaid. A context without tagged items keeps all of them."""
    context = said_context(context)
    sayable = sayable_ids(context)
    return [t for t in context.top_tags if sayable is None or t.id in sayable]


#: The latitude of the tropics: a trip between them has no cold winter nor cool autumn
#: evenings for a season's tip to speak of ("gloves and a hat" in Sanya in January).
TROPIC_LAT = 23.44


def _tropical(context: NoteContext) -> bool:
    lats = [i.gps.lat for i in context.items if i.gps is not None]
    return bool(lats) and all(abs(x) < TROPIC_LAT for x in lats)


def trip_facts(context: NoteContext, lang: str, hints: list[str] | None = None) -> TripFacts:
    """The facts of ``context`` (and the user's ``hints``) as the ``lang`` bank will word them
    (told as :func:`said_context` tells it)."""
    context = said_context(context)
    bank = load_prompt(f"caption/{lang}.yaml")
    btags = bank["tags"]
    places: list[str] = []
    for p in list(context.places) + [m.place for m in context.moments if m.place]:
        n = p.name(lang).strip()
        if n and n not in places:
            places.append(n)
    place_line = None
    if context.places:
        labels = [wd.place_label(context.places[0], lang)] + places[1:3]
        place_line = bank["place_joiner"].join(dict.fromkeys(labels))
    start, end = trip_dates(context)
    days = context.days or ((end - start).days + 1 if start and end else None)
    sayable = sayable_ids(context)
    tags: dict[str, Tag] = {}
    for t in sorted(list(context.top_tags) + [t for m in context.moments for t in m.tags],
                    key=lambda t: -t.score):
        if sayable is None or t.id in sayable:
            tags.setdefault(t.id, t)
    # themes: the trip's top tags, scenery and sights before objects, then tags seen only in
    # moments (the understanding stage did not rank them for the trip); a general tag that
    # specific ones of the trip cover (on most of its photos) is left out
    drop = covered_general_ids(context, tags)
    top = [t for t in context.top_tags if t.id in tags]
    own = {t.id for t in top}
    ranked = [t for t in _by_weight(top, drop) + _by_weight([t for t in tags.values() if t.id not in own], drop)
              if t.id in btags]
    themes = [t for t in ranked if btags[t.id].get("theme", True)]
    if len(themes) < 2:  # a trip of people and rooms: their names are what it has to say
        themes += [t for t in ranked if t not in themes][:2 - len(themes)]
    tags = {k: t for k, t in tags.items() if k not in drop}
    by_day: dict[int, list[Moment]] = {}
    for m in sorted(context.moments, key=lambda m: (m.day, m.start or m.date or date.min, m.index)):
        by_day.setdefault(m.day, []).append(m)
    season = context.season if context.season in bank["seasons"] else None
    shown = {s for t, s in _ranking().get("season_tags", {}).items() if t in tags}
    if season and shown and season not in shown:
        season = None  # autumn leaves on a spring trip: say no season rather than both
    all_hints = [h.strip() for h in list(context.hints) + list(hints or []) if h and h.strip()]
    usable = [h for h in all_hints if wd.usable_hint(h, lang)]
    facts = TripFacts(
        lang=lang,
        places=places,
        place_line=place_line,
        date_line=wd.date_line(start, end, lang),
        days=days,
        season=season,
        themes=themes,
        tags=tags,
        days_moments=sorted(by_day.items()),
        dated=start is not None,
        weekend=bool(start and start.weekday() >= 5),
        tropical=_tropical(context),
        hints=usable,
        unused_hints=[h for h in all_hints if h not in usable],
    )
    facts.times = {m.index: time_bucket(m) for m in context.moments}
    v = facts.values
    nums = bank["numbers"]
    if places:
        v["place"] = places[0]
    if len(places) > 1:
        v["place2"] = places[1]
    if facts.season:
        v["season"] = bank["seasons"][facts.season]
    if days and days >= 2:
        v["days"] = str(days)
        v["days_cn"] = v["days_word"] = nums[days] if days < len(nums) else str(days)
        v["nights_cn"] = nums[days - 1] if days - 1 < len(nums) else str(days - 1)
        v["nights"] = str(days - 1)
    spans = bank.get("spans")
    if spans and days:
        key = "one" if days == 1 else "many"
        v["span"] = spans[key].format(**v)
        v["span_slow"] = spans["slow_" + key].format(**v)
    if themes:
        v["theme"] = btags[themes[0].id]["header"]
    if len(themes) > 1:
        v["theme2"] = btags[themes[1].id]["header"]
    return facts


# --- wording helpers ---------------------------------------------------------------------

def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


_THE_THE = re.compile(r"\b(the) the\b", re.I)


def _fill(templates: list[str], values: dict[str, str], rng: random.Random, *,
          fits=lambda s: True) -> str | None:
    """One template whose placeholders all have values (and that ``fits``), filled; None if none."""
    ok = [t for t in templates if _fields(t) <= values.keys()]
    rng.shuffle(ok)
    for t in ok:
        s = _THE_THE.sub(r"\1", t.format(**values))  # "the {theme}" with "the city"
        if fits(s):
            return s
    return None


class _Picker:
    """Draws clauses and tips without repeating one inside a draft."""

    def __init__(self, bank: dict, rng: random.Random):
        self.bank, self.rng, self.lang = bank, rng, bank["language"]
        self.used: set[str] = set()

    def pick(self, options: list[str], avoid: str | None = None, fits=lambda o: True) -> str | None:
        """A fresh option that ``fits`` and shares no word with ``avoid`` (None: none left)."""
        fresh = [o for o in options if o not in self.used and fits(o)
                 and not (avoid and wd.shares_words(o, avoid, self.lang))]
        if not fresh:
            return None
        o = self.rng.choice(fresh)
        self.used.add(o)
        return o

    def clause(self, tag_id: str, bucket: str | None, *, sunless: bool = False,
               dark: bool = False, unlit: bool = False) -> str | None:
        """A clause for ``tag_id`` that says nothing against the moment's time ``bucket``;
        ``sunless`` (the moment's photos show fog or rain): none that speaks of sunshine;
        ``dark`` (the moment is at night): for a daylit tag (themes.yaml light.daylit), and
        for a clause that speaks of colours (the bank's colour_words), only one that names the
        night itself; ``unlit`` (no built place in the moment, themes.yaml light.lit_by):
        none that speaks of lights (lit_words)."""
        night_only = dark and tag_id in _ranking()["light"]["daylit"]

        def fits(c: str) -> bool:
            classes = wd.time_classes(c, self.lang)
            return (wd.fits_time(c, self.lang, bucket)
                    and not (sunless and "daylight" in classes)
                    and not ((night_only or (dark and wd.names_any(c, self.lang, "colour_words")))
                             and "night" not in classes)
                    and not (unlit and wd.names_any(c, self.lang, "lit_words")))

        return self.pick(list(self.bank["tags"].get(tag_id, {}).get("clauses", [])), fits=fits)


def _title_values(facts: TripFacts, bank: dict, place: str | None, skip: int = 0) -> dict[str, str]:
    """Template values with ``place`` (None: no place) and the two strongest themes that
    repeat no word of the place or of each other ("西湖" leaves 湖边 out, "lakeside"
    leaves "riverside" out); ``skip`` passes over that many of them first."""
    v = {k: x for k, x in facts.values.items() if k not in ("place", "theme", "theme2")}
    if place:
        v["place"] = place
    headers: list[str] = []
    wheres: list[str | None] = []  # the same themes as phrases ("by the lake"), where the bank has them
    scenic: list[bool] = []  # whether the theme is a place to go (themes.yaml scenery)
    scenery = _ranking()["scenery"]
    for t in facts.themes:
        h = bank["tags"][t.id]["header"]
        lang = bank["language"]
        if (place and wd.repeats(f"{place} {h}", lang, place)) or any(wd.repeats(f"{x} {h}", lang) for x in headers):
            continue
        headers.append(h)
        wheres.append(bank["tags"][t.id].get("title_where"))
        scenic.append(t.group in scenery["groups"] and t.id not in scenery["except"])
        if len(headers) == 2 + skip:
            break
    for key, scene, h, ok in zip(("theme", "theme2"), ("scene", "scene2"), headers[skip:], scenic[skip:]):
        v[key] = h
        if ok:  # "{scene}这样玩", "跟着{scene}走": a route to a lake, not "小虫这样玩"
            v[scene] = h
    for key, w in zip(("where", "where2"), wheres[skip:]):
        if w:
            v[key] = w
    return v


# --- the draft ----------------------------------------------------------------------------

def _title(facts: TripFacts, bank: dict, style: str, rng: random.Random, emoji: bool) -> str:
    """A title within TITLE_MAX that repeats no word: the place (shortened when long) and a
    hook naming the strongest theme it does not already say, else a shorter hook; a place
    too long for any hook stands alone or gives way to a hook (the body's first line names it)."""
    lang = bank["language"]
    emo = ""
    if emoji and style != "minimal":
        # the emoji of what the title's themes show; not the season's (🌸, ☀️, 🍂, ❄️ picture
        # blossom, sunshine, leaves and snow, and the season comes from the calendar)
        cands = [c for c in (bank["tags"][t.id].get("emoji") for t in facts.themes[:2]) if c]
        emo = rng.choice(cands) if cands else ""
    gap = wd.script(lang)["emoji_gap"]
    room = TITLE_MAX - title_length(emo) - (len(gap) if emo else 0)

    def fits(limit: int, place: str | None):
        return lambda s: title_length(s) <= limit and not wd.repeats(s, lang, place)

    def themed(templates: list[str]) -> list[str]:
        return [t for t in templates if "{theme}" in t or "{scene}" in t or "{where}" in t]

    def every(bank_titles: dict) -> list[str]:
        return [t for ts in bank_titles.values() for t in ts]

    place = facts.values.get("place")
    forms = wd.title_places(place, lang) if place else [None]
    titles = bank["titles"] if place else bank["titles_noplace"]
    values: dict[tuple[str | None, int], dict[str, str]] = {}
    title = None
    for rung in load_prompt("caption/styles.yaml")["title_ladder"]:  # the first rung that gives a title
        skip = int(rung["skip"])
        templates = titles[style] if rung["templates"] == "style" else every(titles)
        templates = themed(templates) if rung["themed"] else templates
        limit = room if rung["limit"] == "room" else TITLE_MAX
        for form in forms:
            if (form, skip) not in values:
                values[form, skip] = _title_values(facts, bank, form, skip)
            title = _fill(templates, values[form, skip], rng, fits=fits(limit, form))
            if title is not None:
                break
        if title is not None:
            break
    if title is None and place:
        # the place leaves no room for a hook: its name alone, or a hook without it
        short = forms[-1]
        hook = _fill(themed(bank["titles_noplace"][style]) or every(bank["titles_noplace"]),
                     _title_values(facts, bank, None), rng, fits=fits(room, None))
        title = hook if hook is not None and rng.random() < 0.5 else short
    if title is None:
        title = facts.values.get("theme") or bank["labels"]["trip"]
    if emo:
        # the emoji of the theme the title names ("狗狗🐶", not "狗狗🐱" for a dog-and-cat trip)
        low = title.lower()
        named = [c for t in facts.themes[:2] for e in [bank["tags"][t.id]] if (c := e.get("emoji"))
                 and any(w and w.lower() in low for w in (e["header"], e.get("title_where")))]
        if named and emo not in named:
            emo = rng.choice(named)
    if emo and title_length(title) + len(gap) + title_length(emo) > TITLE_MAX:
        emo = ""
    title = wd.capitalised(lang, trim_title(title, TITLE_MAX))
    return title + (gap + emo if emo else "")


def _head_lines(facts: TripFacts, bank: dict, emoji: bool) -> str | None:
    lab = bank["labels"]
    sc = wd.script(facts.lang)
    parts = []
    gap = sc["head_gap"]
    if facts.place_line:
        parts.append(f"{lab['where']} {facts.place_line}" if emoji else f"{lab['where_plain']}{facts.place_line}")
    if facts.date_line:
        when = facts.date_line
        if facts.days and facts.days >= 2:
            nights = bank["duration"]["many"].format(**facts.values)
            when = f"{when}{sc['when_gap']}{nights}"
        elif facts.days == 1:
            when = f"{when}{sc['when_gap']}{bank['duration']['one']}"
        parts.append(f"{lab['when']} {when}" if emoji else f"{lab['when_plain']}{when}")
    if not parts:
        return None
    return (gap if emoji else sc["head_plain_joiner"]).join(parts)


def _time_lead(bank: dict, bucket: str, rng: random.Random, clause: str) -> str | None:
    """A lead for a sentence that moves the day on to a new time ("到了傍晚", "By evening"),
    sharing no word with its ``clause``; None when every lead would."""
    noun = bank.get("time_nouns", {}).get(bucket) or bank["times"][bucket][0]
    options = [t.format(time=noun) for t in bank["connectives"]["next_time"]] + list(bank["times"][bucket])
    options = [o for o in options if not wd.shares_words(o, clause, bank["language"])]
    return rng.choice(options) if options else None


def _moment_sentences(facts: TripFacts, bank: dict, picker: _Picker, moments: list[Moment],
                      n_moments: int, per_moment: int,
                      used_tags: set[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Sentences for one day, and the tags they talk about (id, time bucket), strongest first.

    The time of each moment is :func:`time_bucket`'s (photos before the clock); a clause
    that names a time of day is used only where that time fits, and gets no time lead of
    its own; moments are told in the order the photos place them in the day.
    """
    lang = facts.lang
    btags = bank["tags"]

    def worth(m: Moment) -> list[str]:
        # what a moment is about: its most specific tags that the draft may say, scenery and
        # sights first (facts.tags has no general tag that a specific one of the trip
        # covers); a specific tag too weak to be said covers nothing (a palace at 0.33 does
        # not silence the moment's architecture at 0.8); the same for every retelling of the
        # body, so kept in the facts
        if m.index not in facts.topics:
            facts.topics[m.index] = [t.id for t in _by_weight([t for t in m.tags if t.id in facts.tags])
                                     if t.id in btags]
        return facts.topics[m.index]

    # the moments with the most to say about something new come first, then back in time order
    ranked = sorted(moments, key=lambda m: -sum(1 for t in worth(m) if t not in used_tags))
    chosen = ranked[:n_moments]
    buckets = facts.times
    position = {m.index: k for k, m in enumerate(moments)}

    def when(m: Moment) -> tuple[int, int]:
        # a moment the photos put at night comes after the afternoon, whatever its clock said;
        # one whose time is unsure keeps its clock's place
        b = buckets[m.index] or clock_bucket(m)
        return (time_buckets().index(b) if b else -1, position[m.index])

    chosen.sort(key=when)
    classes = _ranking()["light"]["classes"]
    sentences: list[str] = []
    said: list[tuple[str, str | None]] = []
    prev_bucket: str | None = None
    for k, m in enumerate(chosen):
        bucket = buckets[m.index]
        sunless = bool({t.id for t in m.tags} & SUNLESS_TAGS)
        # dark: the photos or the clock say night (a sky tag that vetoes a night clock leaves
        # the time unsure, and a lit sky just as unsure)
        dark = (bucket == "night" or bool({t.id for t in m.tags} & DARK_TAGS)
                or (bucket is None and clock_bucket(m) == "night"))
        # lamps and lit streets only where the draft may say a built place is in the photos
        unlit = not _built({t.id for t in m.tags if t.id in facts.tags})
        tag_ids = worth(m)
        fresh = [t for t in tag_ids if t not in used_tags] or tag_ids
        n_said = 0
        for tid in fresh:
            if n_said >= per_moment:
                break
            clause = picker.clause(tid, bucket, sunless=sunless, dark=dark, unlit=unlit)
            if clause is None:
                continue
            # a clause that names the time ("夜里出门散步") needs no "晚上，"; sunlight names none
            own_time = any(len(classes[c]) <= 2 for c in wd.time_classes(clause, lang))
            if not sentences and own_time:
                lead = None  # "入夜以后，…" opens the day itself ("一开始，入夜以后" said it twice)
            elif not sentences:
                first = bank["times"][bucket] if bucket else (
                    bank["times"]["unknown"] if facts.dated else bank["connectives"]["trip"])
                lead = picker.pick(first, clause)
            elif n_said == 0 and bucket and bucket != prev_bucket and not own_time:
                lead = _time_lead(bank, bucket, picker.rng, clause) or picker.pick(bank["connectives"]["next"], clause)
            elif k == len(chosen) - 1 and n_said == 0 and len(chosen) > 1 and facts.dated:
                lead = picker.pick(bank["connectives"]["last"], clause)
            else:
                lead = picker.pick(bank["connectives"]["next"], clause)
            sentences.append(wd.sentence(lang, lead, clause))
            said.append((tid, bucket))
            used_tags.add(tid)
            prev_bucket = bucket or prev_bucket
            n_said += 1
            if lead is not None and lead in bank["connectives"]["last"]:
                break  # nothing follows "Finally" / "最后" in a day
    strength = {t: max((theme_weight(x) for m in chosen for x in m.tags if x.id == t), default=0) for t, _ in said}
    return sentences, sorted(dict.fromkeys(said), key=lambda tb: -strength[tb[0]])


def _tail(phrase: str, lang: str) -> str:
    """A phrase's last word, or its last two characters where words are not spaced (漫步)."""
    if wd.script(lang)["whole_words"]:
        words = phrase.split()
        return words[-1].lower() if words else ""
    return phrase[-2:]


def _day_header(facts: TripFacts, bank: dict, rng: random.Random, moments: list[Moment],
                said: list[tuple[str, str | None]], earlier: set[str]) -> str:
    """What follows "Day N｜": the day's own places when the trip has several, else a phrase
    for its strongest theme or two ("湖边慢慢走，看日落"); "" when there is nothing to name.
    ``earlier`` holds the phrases earlier days used: a fresh one is preferred (two days of
    mountains are not both "远眺群山"), and the ones chosen are added to it."""
    lang = facts.lang
    places = list(dict.fromkeys(m.place.name(lang) for m in moments if m.place))
    phrases: list[str] = []
    sunless = any({t.id for t in m.tags} & SUNLESS_TAGS for m in moments)
    named: set[str] = set()
    for tid, bucket in said:
        if tid in named:  # the mountains told at noon and at dusk: one phrase ("Into the mountains")
            continue
        # a phrase that names a time of day ("morning mist") only where the tag was seen
        # then, and none about sunshine on a day of fog or rain
        options = [o for o in bank["tags"].get(tid, {}).get("day") or [] if wd.fits_time(o, lang, bucket)
                   and not (sunless and "daylight" in wd.time_classes(o, lang))]
        if options and len(phrases) < 2:
            fresh = [o for o in options if o not in earlier] or options
            if phrases:  # two phrases of a day do not end alike ("a city walk & an architecture walk")
                fresh = [o for o in fresh if _tail(o, lang) != _tail(phrases[0], lang)] or fresh
            phrases.append(rng.choice(fresh))
            earlier.add(phrases[-1])
            named.add(tid)
    if len(facts.places) > 1 and places:
        if len(places) > 1:
            return bank["arrow"].join(places[:3])
        return f"{places[0]}{bank['place_joiner']}{phrases[0]}" if phrases else places[0]
    if len(phrases) == 2 and wd.script(lang)["day_phrases_lower"]:
        phrases[1] = phrases[1][:1].lower() + phrases[1][1:]
    return wd.capitalised(lang, bank["day_joiner"].join(phrases))


def _sections(facts: TripFacts, bank: dict, preset: dict, picker: _Picker, detail: int,
              used: set[str]) -> list[str]:
    """The by-day part of the body; ``detail`` 0 is the richest, higher values say less.
    ``used`` receives the ids of the tags the sentences tell.

    A trip without dates is not told by day (it has no "Day 1"): its moments make one paragraph.
    """
    lang = facts.lang
    lab = bank["labels"]
    # detail 1 drops second sentences, then each step drops a moment a day
    per_moment = max(1, preset["sentences_per_moment"] - (1 if detail >= 1 else 0))
    n_moments = max(1, preset["moments_per_day"] - max(0, detail - 1))
    out = []
    days = facts.days_moments
    if not facts.dated:
        moments = [m for _, ms in days for m in ms]
        sents, _ = _moment_sentences(facts, bank, picker, moments, n_moments, per_moment, used)
        if sents:
            return [wd.join_sentences(lang, sents)]
        days = []
    if detail >= 3 and len(days) > 3:
        days = days[:2] + days[-1:]
    day_phrases: set[str] = set()
    for day, moments in days:
        sents, said = _moment_sentences(facts, bank, picker, moments, n_moments, per_moment, used)
        if not sents:
            continue
        head = lab["day"].format(n=day)
        what = _day_header(facts, bank, picker.rng, moments, said, day_phrases)
        text = wd.join_sentences(lang, sents)
        if preset.get("inline_days"):
            out.append(f"{head}{wd.script(lang)['inline_dash']}{text}")
        else:
            out.append(f"{head}{bank['separator']}{what}\n{text}" if what else f"{head}\n{text}")
    if not out:  # no moments: one paragraph about the trip's themes
        sents = []
        for t in facts.themes[:max(1, 3 - detail)]:
            clause = picker.clause(t.id, None)  # no moment: no time of day to go by
            if clause:
                lead = picker.pick(bank["connectives"]["trip"]) if not sents else picker.pick(bank["connectives"]["next"])
                sents.append(wd.sentence(lang, lead, clause))
                used.add(t.id)
        if sents:
            out.append(wd.join_sentences(lang, sents))
    return out


def _built(tag_ids: set[str]) -> bool:
    """Whether ``tag_ids`` hold a built place (themes.yaml light.lit_by): what lit streets
    and a last bus need."""
    return bool(tag_ids & set(_ranking()["light"]["lit_by"]))


def _tips(facts: TripFacts, bank: dict, picker: _Picker, n: int, said: set[str]) -> list[str]:
    """Up to ``n`` tips: for the scenes the note tells (``said``), then general ones (the
    season's, any trip's); never a tip for a scene the note does not mention, and none of
    buses and taxis (town_words) unless the note tells a built place (light.lit_by)."""
    tips = []
    town = _built(said)

    def for_here(tip: str) -> bool:
        return town or not wd.names_any(tip, facts.lang, "town_words")

    ranked = _by_weight([t for t in facts.tags.values() if t.id in said])  # a beach's sunscreen before a drink's
    for t in ranked:
        if len(tips) >= n:
            break
        tip = picker.pick(list(bank["tags"].get(t.id, {}).get("tips", [])), fits=for_here)
        if tip:
            tips.append(tip)
    general = bank["generic_tips"]
    # between the tropics the season's tips (a cool evening, gloves) do not hold: the tropics' do
    season = general["tropics"] if facts.tropical else general.get(facts.season, []) if facts.season else []
    for pool in (season, general["any"]):
        while len(tips) < n:
            tip = picker.pick(list(pool), fits=for_here)
            if tip is None:
                break
            tips.append(tip)
    return tips[:n]


def keyword_sentence(bank: dict, keywords: list[str], template: str | None = None) -> str:
    """The user's ``keywords`` told in one sentence of the bank ("We made sure to fit in
    Longjing tea and a boat ride, too."); ``template``: one of ``keywords_line`` (default the first)."""
    j, last = bank["keyword_joiner"], bank.get("keyword_last_joiner", bank["keyword_joiner"])
    said = keywords[0] if len(keywords) == 1 else j.join(keywords[:-1]) + last + keywords[-1]
    return wd.end(bank["language"], (template or bank["keywords_line"][0]).format(keywords=said))


def _named_themes(facts: TripFacts, bank: dict, text: str) -> set[str]:
    """The ids of the trip's themes whose header ``text`` (a title, an opening) names."""
    low = text.lower()
    return {t.id for t in facts.themes if bank["tags"][t.id]["header"].lower() in low}


def _hashtags(facts: TripFacts, bank: dict, rng: random.Random, keywords: list[str]) -> list[str]:
    out: list[str] = []

    def add(tag: str) -> None:
        tag = clean_hashtag(tag)
        if tag and tag.lower() not in {o.lower() for o in out} and len(out) < HASHTAGS_MAX:
            out.append(tag)

    for k in keywords:  # the user's words first: they must survive the cap
        add(k)
    place_tpls = bank["place_hashtags"]
    for i, name in enumerate(facts.places[:2]):
        key = re.sub(r"[\s'’\-.]", "", name)
        add(key)
        if i == 0:
            add(rng.choice([t for t in place_tpls if t != "{place}"]).format(place=key))
    n_themes = 4 if len(facts.themes) >= 4 else len(facts.themes)
    for t in facts.themes[:n_themes]:
        add(rng.choice(bank["tags"][t.id]["hashtags"]))
    # the trip's subject (the dog on one photo of a day in the woods) weighs less than its
    # scenery, but it is what its owner looks for: when the scenery fills the four, the
    # strongest subject among the themes still gets its hashtag
    subject_groups = set(_ranking()["subjects"]["groups"])
    for t in [t for t in facts.themes[n_themes:] if t.group in subject_groups][:1]:
        add(rng.choice(bank["tags"][t.id]["hashtags"]))
    if facts.season:
        add(rng.choice(bank["season_hashtags"][facts.season]))
    generic = [g for g in bank["generic_hashtags"]
               if facts.weekend or g not in bank.get("weekend_only_hashtags", [])]
    rng.shuffle(generic)
    for g in generic:
        if len(out) >= 3 and (len(out) >= 7 or rng.random() < 0.5):
            break
        add(g)
    return out


def compose(
    context: NoteContext,
    *,
    lang: str,
    style: str,
    rng: random.Random,
    emoji: bool = True,
    hints: list[str] | None = None,
    keywords: list[str] | None = None,
    tone: str | None = None,
) -> Caption:
    """One draft of the note for ``context`` from the phrase bank of ``lang``.

    ``style`` is a canonical style name (see :func:`load_style`); ``rng`` decides every
    choice, so a generator seeded the same way gives the same draft. Returns a Caption
    with backend "template"; its ``notes`` say what of the request could not be used.
    """
    bank = load_prompt(f"caption/{lang}.yaml")
    style, preset = load_style(style)
    keywords = [k.strip() for k in (keywords or []) if k and k.strip()]
    notes: list[str] = []

    # 1. facts, title, the 📍/🗓 lines and the opening
    facts = trip_facts(context, lang, hints)
    if facts.unused_hints:
        notes.append(f"hints not in {bank['language_name']} were not quoted: "
                     + "; ".join(facts.unused_hints))
    title = _title(facts, bank, style, rng, emoji)
    head = _head_lines(facts, bank, emoji)
    # the opening names themes that the place does not already say ("西湖的湖边")
    opening = _fill(bank["openings"][style], _title_values(facts, bank, facts.values.get("place")), rng)
    if opening:
        opening = wd.end(lang, opening)
    hint_text = wd.join_sentences(lang, [wd.end(lang, h) for h in facts.hints])

    # 2. closing line in the requested tone
    tone_key = None
    if tone:
        tone_key = tone.strip().lower()
        tone_key = bank.get("tone_aliases", {}).get(tone.strip(), tone_key)
        if tone_key not in bank["closings"]:
            notes.append(f"tone {tone!r} is not in the template bank ({', '.join(bank['closings'])}); "
                         "the default closing was used")
            tone_key = None
    closing = rng.choice(bank["closings"][tone_key or "default"]) if preset.get("closing") else None
    n_tips = max(1, min(3, int(preset["tips"])))
    keyword_line = rng.choice(bank["keywords_line"])
    tips_rng_state = rng.getstate()

    # 3. the body, saying less until it fits the platform limit
    for detail in range(0, 6):
        picker = _Picker(bank, random.Random())
        picker.rng.setstate(tips_rng_state)
        parts = [p for p in (head, wd.join_sentences(lang, [opening, hint_text])) if p]
        told: set[str] = set()
        if preset.get("sections"):
            parts += _sections(facts, bank, preset, picker, detail, told)
        said = told | _named_themes(facts, bank, title + "\n" + (opening or ""))
        missing = [k for k in keywords if k.lower() not in (title + "\n".join(parts)).lower()]
        if missing:  # the user's words as a sentence of the story, not a "keywords:" label
            parts.append(keyword_sentence(bank, missing, keyword_line))
        tips = _tips(facts, bank, picker, max(1, n_tips - (1 if detail >= 4 else 0)), said)
        if tips:
            lab = bank["labels"]
            header = lab["tips"] if emoji else lab["tips_plain"]
            parts.append(header + "\n" + "\n".join(lab["tip_bullet"] + t for t in tips))
        if closing and detail < 5:
            parts.append(closing)
        body = "\n\n".join(parts)
        if len(body) <= BODY_MAX:
            break
    else:  # pragma: no cover - only hints longer than the limit get here
        body = body[:BODY_MAX].rstrip()
        notes.append("the body was cut to the platform limit")

    # 4. hashtags: place, themes, season, then general ones
    hashtags = _hashtags(facts, bank, rng, keywords)
    return Caption(title=title, body=body, hashtags=hashtags, language=lang, style=style,
                   backend="template", notes=notes)
