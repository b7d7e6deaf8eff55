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
from dataclasses import dataclass, field
from datetime import date

from creator.resources import load_prompt
from creator.types import Caption, Moment, NoteContext, Place, Tag

from .checks import BODY_MAX, HASHTAGS_MAX, TITLE_MAX, clean_hashtag, cjk_ratio, title_length, trim_title

__all__ = ["TripFacts", "trip_facts", "compose", "load_style", "style_names", "time_bucket", "theme_weight",
           "general_ids"]

_BUCKETS = ("early", "morning", "noon", "afternoon", "evening", "night")
_TOD = {"morning": "morning", "day": "afternoon", "golden_hour": "evening", "night": "night"}
# tags whose light says when a photo was taken, whatever the clock said
_TAG_TIME = {"sunset": "evening", "night": "night", "starry_sky": "night"}


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


def _by_weight(tags: list[Tag]) -> list[Tag]:
    """``tags`` without the general ones that a specific one covers, strongest theme first (stable)."""
    drop = general_ids(t.id for t in tags)
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


def time_bucket(moment: Moment) -> str | None:
    """When a moment happened: early, morning, noon, afternoon, evening or night (None: unknown)."""
    for t in moment.tags[:3]:
        if t.id in _TAG_TIME:
            return _TAG_TIME[t.id]
    if moment.start is None:
        return None
    h = moment.start.hour
    if 4 <= h < 7:
        return "early"
    if 7 <= h < 11:
        return "morning"
    if 11 <= h < 14:
        return "noon"
    if 14 <= h < 17:
        return "afternoon"
    if 17 <= h < 19:
        return "evening"
    return "night"


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
    hints: list[str]  # the user's sentences usable in this language
    unused_hints: list[str]
    values: dict[str, str] = field(default_factory=dict)  # template placeholders


def _place_label(p: Place, lang: str) -> str:
    name = p.name(lang)
    city = p.city_zh if lang == "zh" else p.city_en
    country = p.country(lang)
    if lang == "zh":
        parts = []
        if country and p.country_code and p.country_code.upper() != "CN" and country not in name:
            parts.append(country)
        if city and city != name and city not in name:
            parts.append(city)
        return "·".join(parts + [name])
    parts = [name]
    if city and city != name and city not in name:
        parts.insert(0, city)
        parts = [" · ".join(parts)]
    if country and country not in name:
        parts.append(country)
    return ", ".join(parts)


def _dates(context: NoteContext) -> tuple[date | None, date | None]:
    ds = [m.date for m in context.moments if m.date]
    ds += [i.taken_at.date() for i in context.items if i.taken_at]
    start = context.start or (min(ds) if ds else None)
    end = context.end or (max(ds) if ds else None)
    return start, end or start


def _date_line(start: date | None, end: date | None, bank: dict) -> str | None:
    if start is None:
        return None
    end = end or start
    lang = bank["language"]
    if lang == "en":
        mons = bank["months"]
        a = f"{mons[start.month - 1]} {start.day}"
        if start == end:
            return a
        if start.month == end.month and start.year == end.year:
            return f"{a}–{end.day}"
        return f"{a} – {mons[end.month - 1]} {end.day}"
    fmt = bank["date_format_year"] if start.year != end.year else bank["date_format"]
    a = fmt.format(y=start.year, m=start.month, d=start.day)
    if start == end:
        return a
    b = fmt.format(y=end.year, m=end.month, d=end.day)
    return bank["date_range"].format(a=a, b=b)


def _usable_hint(text: str, lang: str) -> bool:
    ratio = cjk_ratio(text)
    return ratio >= 0.5 if lang == "zh" else ratio == 0.0


def trip_facts(context: NoteContext, lang: str, hints: list[str] | None = None) -> TripFacts:
    """The facts of ``context`` (and the user's ``hints``) as the ``lang`` bank will word them."""
    bank = load_prompt(f"caption/{lang}.yaml")
    btags = bank["tags"]
    places: list[str] = []
    for p in list(context.places) + [m.place for m in context.moments if m.place]:
        n = p.name(lang).strip()
        if n and n not in places:
            places.append(n)
    place_line = None
    if context.places:
        labels = [_place_label(context.places[0], lang)] + places[1:3]
        place_line = bank["place_joiner"].join(dict.fromkeys(labels))
    start, end = _dates(context)
    days = context.days or ((end - start).days + 1 if start and end else None)
    tags: dict[str, Tag] = {}
    for t in sorted(list(context.top_tags) + [t for m in context.moments for t in m.tags],
                    key=lambda t: -t.score):
        tags.setdefault(t.id, t)
    # themes: the trip's top tags, scenery and sights before objects, then tags seen only in
    # moments (the understanding stage did not rank them for the trip); a general tag that
    # a specific one of the trip covers is left out
    drop = general_ids(tags)
    own = {t.id for t in context.top_tags}
    themes = [t for t in _by_weight(list(context.top_tags)) + _by_weight([t for t in tags.values() if t.id not in own])
              if t.id in btags and btags[t.id].get("theme", True) and t.id not in drop]
    tags = {k: t for k, t in tags.items() if k not in drop}
    by_day: dict[int, list[Moment]] = {}
    for m in sorted(context.moments, key=lambda m: (m.day, m.start or m.date or date.min, m.index)):
        by_day.setdefault(m.day, []).append(m)
    all_hints = [h.strip() for h in list(context.hints) + list(hints or []) if h and h.strip()]
    usable = [h for h in all_hints if _usable_hint(h, lang)]
    facts = TripFacts(
        lang=lang,
        places=places,
        place_line=place_line,
        date_line=_date_line(start, end, bank),
        days=days,
        season=context.season if context.season in bank["seasons"] else None,
        themes=themes,
        tags=tags,
        days_moments=sorted(by_day.items()),
        dated=start is not None,
        weekend=bool(start and start.weekday() >= 5),
        hints=usable,
        unused_hints=[h for h in all_hints if h not in usable],
    )
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
    if themes:
        v["theme"] = btags[themes[0].id]["header"]
    if len(themes) > 1:
        v["theme2"] = btags[themes[1].id]["header"]
    return facts


# --- wording helpers ---------------------------------------------------------------------

def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _fill(templates: list[str], values: dict[str, str], rng: random.Random, *,
          fits=lambda s: True) -> str | None:
    """One template whose placeholders all have values (and that ``fits``), filled; None if none."""
    ok = [t for t in templates if _fields(t) <= values.keys()]
    rng.shuffle(ok)
    for t in ok:
        s = t.format(**values)
        if fits(s):
            return s
    return None


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _sentence(lang: str, lead: str | None, clause: str) -> str:
    if lang == "zh":
        return f"{lead}，{clause}。" if lead else f"{clause}。"
    return f"{lead}, {clause}." if lead else _cap(clause) + "."


def _end(lang: str, text: str) -> str:
    """``text`` as a sentence: first letter up (en) and a final stop when it has none."""
    text = text.strip()
    if lang == "en":
        text = _cap(text)
    if text and text[-1] not in "。！？!?.…～~)）":
        text += "。" if lang == "zh" else "."
    return text


class _Picker:
    """Draws clauses and tips without repeating one inside a draft."""

    def __init__(self, bank: dict, rng: random.Random):
        self.bank, self.rng = bank, rng
        self.used: set[str] = set()

    def pick(self, options: list[str]) -> str | None:
        fresh = [o for o in options if o not in self.used]
        if not fresh:
            return None
        o = self.rng.choice(fresh)
        self.used.add(o)
        return o

    def clause(self, tag_id: str) -> str | None:
        return self.pick(list(self.bank["tags"].get(tag_id, {}).get("clauses", [])))


# --- the draft ----------------------------------------------------------------------------

def _title(facts: TripFacts, bank: dict, style: str, rng: random.Random, emoji: bool) -> str:
    emo = ""
    if emoji and style != "minimal":
        cands = [bank["tags"][t.id].get("emoji") for t in facts.themes[:2]]
        if facts.season:
            cands.append(bank["season_emoji"].get(facts.season))
        cands = [c for c in cands if c]
        emo = rng.choice(cands) if cands else ""
    room = TITLE_MAX - title_length(emo) - (1 if emo and bank["language"] == "en" else 0)
    fits = lambda s: title_length(s) <= room  # noqa: E731
    # a trip with a place: titles that lead with it; without one: titles about its themes.
    # A title that names the trip's strongest theme comes first, even at the cost of the emoji
    titles = bank["titles"] if "place" in facts.values else bank["titles_noplace"]
    themed = [t for t in titles[style] if "{theme}" in t]
    title = _fill(themed, facts.values, rng, fits=fits)
    if title is None and "theme" in facts.values:
        title = _fill(themed, facts.values, rng, fits=lambda s: title_length(s) <= TITLE_MAX)
        if title is None:  # another style's short themed title rather than none
            title = _fill([t for ts in titles.values() for t in ts if "{theme}" in t], facts.values, rng,
                          fits=lambda s: title_length(s) <= TITLE_MAX)
        if title is not None and title_length(title) > room:
            emo = ""
    if title is None:
        title = _fill(titles[style], facts.values, rng, fits=fits)
    if title is None:  # nothing fits this style: any style's
        title = _fill([t for ts in titles.values() for t in ts], facts.values, rng, fits=fits)
    if title is None:
        base = facts.values.get("place") or facts.values.get("theme") or bank["labels"]["trip"]
        title = trim_title(base, room)
    if bank["language"] == "en":
        title = _cap(title)
    if emo and bank["language"] == "en":
        emo = " " + emo
    return title + emo


def _head_lines(facts: TripFacts, bank: dict, emoji: bool) -> str | None:
    lab = bank["labels"]
    parts = []
    gap = "　" if facts.lang == "zh" else "   "
    if facts.place_line:
        parts.append(f"{lab['where']} {facts.place_line}" if emoji else f"{lab['where_plain']}{facts.place_line}")
    if facts.date_line:
        when = facts.date_line
        if facts.days and facts.days >= 2:
            nights = bank["duration"]["many"].format(**facts.values)
            when = f"{when}{gap if facts.lang == 'zh' else ' · '}{nights}"
        elif facts.days == 1:
            when = f"{when}{gap if facts.lang == 'zh' else ' · '}{bank['duration']['one']}"
        parts.append(f"{lab['when']} {when}" if emoji else f"{lab['when_plain']}{when}")
    if not parts:
        return None
    return gap.join(parts) if facts.lang == "zh" or emoji else "\n".join(parts)


def _time_lead(bank: dict, bucket: str, rng: random.Random) -> str:
    """A lead for a sentence that moves the day on to a new time ("到了傍晚", "By evening")."""
    noun = bank.get("time_nouns", {}).get(bucket) or bank["times"][bucket][0]
    options = [t.format(time=noun) for t in bank["connectives"]["next_time"]] + list(bank["times"][bucket])
    return rng.choice(options)


def _moment_sentences(facts: TripFacts, bank: dict, picker: _Picker, moments: list[Moment],
                      n_moments: int, per_moment: int, used_tags: set[str]) -> tuple[list[str], list[str]]:
    """Sentences for one day (and the ids of the tags they talk about, strongest first)."""
    lang = facts.lang
    btags = bank["tags"]

    def worth(m: Moment) -> list[str]:
        # what a moment is about: its most specific tags, scenery and sights first
        # (facts.tags has no general tag that a specific one of the trip covers)
        return [t.id for t in _by_weight(list(m.tags)) if t.id in btags and t.id in facts.tags]

    # the moments with the most to say about something new come first, then back in time order
    ranked = sorted(moments, key=lambda m: -sum(1 for t in worth(m) if t not in used_tags))
    chosen = sorted(ranked[:n_moments], key=lambda m: moments.index(m))
    sentences: list[str] = []
    said_ids: list[str] = []
    prev_bucket: str | None = None
    for k, m in enumerate(chosen):
        tag_ids = worth(m)
        fresh = [t for t in tag_ids if t not in used_tags] or tag_ids
        said = 0
        for tid in fresh:
            if said >= per_moment:
                break
            clause = picker.clause(tid)
            if clause is None:
                continue
            bucket = time_bucket(m) if facts.dated else None
            if not sentences:
                first = bank["times"][bucket] if bucket else (
                    bank["times"]["unknown"] if facts.dated else bank["connectives"]["trip"])
                lead = picker.pick(first)
            elif said == 0 and bucket and bucket != prev_bucket:
                lead = _time_lead(bank, bucket, picker.rng)
            elif k == len(chosen) - 1 and said == 0 and len(chosen) > 1 and facts.dated:
                lead = picker.pick(bank["connectives"]["last"])
            else:
                lead = picker.pick(bank["connectives"]["next"])
            sentences.append(_sentence(lang, lead, clause))
            said_ids.append(tid)
            used_tags.add(tid)
            prev_bucket = bucket or prev_bucket
            said += 1
    return sentences, sorted(dict.fromkeys(said_ids), key=lambda t: -max(
        (theme_weight(x) for m in chosen for x in m.tags if x.id == t), default=0))


def _day_header(facts: TripFacts, bank: dict, rng: random.Random, moments: list[Moment],
                said: list[str]) -> str:
    """What follows "Day N｜": the day's own places when the trip has several, else a phrase
    for its strongest theme or two ("湖边慢慢走，看日落"); "" when there is nothing to name."""
    lang = facts.lang
    places = list(dict.fromkeys(m.place.name(lang) for m in moments if m.place))
    phrases: list[str] = []
    for tid in said:
        options = bank["tags"].get(tid, {}).get("day") or []
        if options and len(phrases) < 2:
            phrases.append(rng.choice(options))
    if len(facts.places) > 1 and places:
        if len(places) > 1:
            return bank["arrow"].join(places[:3])
        return f"{places[0]}{bank['place_joiner']}{phrases[0]}" if phrases else places[0]
    if len(phrases) == 2 and lang == "en":
        phrases[1] = phrases[1][:1].lower() + phrases[1][1:]
    head = bank["day_joiner"].join(phrases)
    return _cap(head) if lang == "en" else head


def _sections(facts: TripFacts, bank: dict, preset: dict, picker: _Picker, detail: int) -> list[str]:
    """The by-day part of the body; ``detail`` 0 is the richest, higher values say less.

    A trip without dates is not told by day (it has no "Day 1"): its moments make one paragraph.
    """
    lang = facts.lang
    lab = bank["labels"]
    # detail 1 drops second sentences, then each step drops a moment a day
    per_moment = max(1, preset["sentences_per_moment"] - (1 if detail >= 1 else 0))
    n_moments = max(1, preset["moments_per_day"] - max(0, detail - 1))
    used: set[str] = set()
    out = []
    days = facts.days_moments
    if not facts.dated:
        moments = [m for _, ms in days for m in ms]
        sents, _ = _moment_sentences(facts, bank, picker, moments, n_moments, per_moment, used)
        if sents:
            return ["".join(sents) if lang == "zh" else " ".join(sents)]
        days = []
    if detail >= 3 and len(days) > 3:
        days = days[:2] + days[-1:]
    for day, moments in days:
        sents, said = _moment_sentences(facts, bank, picker, moments, n_moments, per_moment, used)
        if not sents:
            continue
        head = lab["day"].format(n=day)
        what = _day_header(facts, bank, picker.rng, moments, said)
        text = "".join(sents) if lang == "zh" else " ".join(sents)
        if preset.get("inline_days"):
            dash = "｜" if lang == "zh" else " — "
            out.append(f"{head}{dash}{text}")
        else:
            out.append(f"{head}{bank['separator']}{what}\n{text}" if what else f"{head}\n{text}")
    if not out:  # no moments: one paragraph about the trip's themes
        sents = []
        for t in facts.themes[:max(1, 3 - detail)]:
            clause = picker.clause(t.id)
            if clause:
                lead = picker.pick(bank["connectives"]["trip"]) if not sents else picker.pick(bank["connectives"]["next"])
                sents.append(_sentence(lang, lead, clause))
        if sents:
            out.append("".join(sents) if lang == "zh" else " ".join(sents))
    return out


def _tips(facts: TripFacts, bank: dict, picker: _Picker, n: int) -> list[str]:
    tips = []
    ranked = _by_weight(list(facts.tags.values()))  # a beach's sunscreen before a drink's
    for t in ranked:
        if len(tips) >= n:
            break
        tip = picker.pick(list(bank["tags"].get(t.id, {}).get("tips", [])))
        if tip:
            tips.append(tip)
    for pool in ([bank["generic_tips"].get(facts.season, [])] if facts.season else []) + [bank["generic_tips"]["any"]]:
        while len(tips) < n:
            tip = picker.pick(list(pool))
            if tip is None:
                break
            tips.append(tip)
    return tips[:n]


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
        notes.append(f"hints not in {'Chinese' if lang == 'zh' else 'English'} were not quoted: "
                     + "; ".join(facts.unused_hints))
    title = _title(facts, bank, style, rng, emoji)
    head = _head_lines(facts, bank, emoji)
    opening = _fill(bank["openings"][style], facts.values, rng)
    if opening and lang == "en":
        opening = _end(lang, opening)
    hint_text = "".join(_end(lang, h) for h in facts.hints) if lang == "zh" else " ".join(
        _end(lang, h) for h in facts.hints)

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
        parts = [p for p in (head, " ".join(x for x in (opening, hint_text) if x) if lang == "en"
                             else "".join(x for x in (opening, hint_text) if x)) if p]
        if preset.get("sections"):
            parts += _sections(facts, bank, preset, picker, detail)
        tips = _tips(facts, bank, picker, max(1, n_tips - (1 if detail >= 4 else 0)))
        if tips:
            lab = bank["labels"]
            header = lab["tips"] if emoji else lab["tips_plain"]
            parts.append(header + "\n" + "\n".join(lab["tip_bullet"] + t for t in tips))
        missing = [k for k in keywords if k.lower() not in (title + "\n".join(parts)).lower()]
        if missing:
            parts.append(keyword_line.format(keywords=bank["keyword_joiner"].join(missing)))
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
