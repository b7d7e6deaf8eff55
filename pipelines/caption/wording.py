"""How a phrase bank writes its language: sentences, dates, place labels, repeated words.

Every difference between Chinese and English lives in the bank (prompts/caption/zh.yaml,
en.yaml), mostly in its ``script`` block (how sentences join and end, whether letters are
capitalised, whether time words are whole words); these functions read it and have no
language branches. They take the bank's language code so that their results can be
cached: the texts are the banks' own clauses, leads and phrases, a bounded set.
"""

from __future__ import annotations

import functools
import re
from datetime import date

from creator.resources import load_prompt
from creator.types import Place

from .checks import TITLE_MAX, cjk_ratio, is_cjk, title_length

__all__ = ["bank", "script", "cap", "capitalised", "sentence", "end", "join_sentences", "usable_hint", "time_classes",
           "fits_time", "repeats", "shares_words", "place_label", "title_places", "date_line"]


def bank(lang: str) -> dict:
    """The phrase bank of ``lang`` (prompts/caption/<lang>.yaml)."""
    return load_prompt(f"caption/{lang}.yaml")


def script(lang: str) -> dict:
    """The bank's ``script`` block: how the language is written."""
    return bank(lang)["script"]


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def capitalised(lang: str, s: str) -> str:
    return cap(s) if script(lang)["capitalise"] else s


def sentence(lang: str, lead: str | None, clause: str) -> str:
    """A lead ("In the evening") and a clause as one sentence, or the clause alone."""
    sc = script(lang)
    return f"{lead}{sc['lead_comma']}{clause}{sc['stop']}" if lead else capitalised(lang, clause) + sc["stop"]


_ENDS = "。！？!?.…～~)）"


def end(lang: str, text: str) -> str:
    """``text`` as a sentence: first letter up (where the script capitalises) and the
    script's stop when it ends in none."""
    text = capitalised(lang, text.strip())
    if text and text[-1] not in _ENDS:
        text += script(lang)["stop"]
    return text


def join_sentences(lang: str, sentences) -> str:
    return script(lang)["sentence_gap"].join(s for s in sentences if s)


def usable_hint(text: str, lang: str) -> bool:
    """Whether a hint of the user is written in ``lang`` (its share of Chinese characters)."""
    low, high = script(lang)["hint_cjk"]
    return low <= cjk_ratio(text) <= high


# --- time words ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _time_patterns(lang: str) -> dict[str, re.Pattern]:
    whole = script(lang)["whole_words"]
    out = {}
    for cls, ws in bank(lang).get("time_words", {}).items():
        alt = "|".join(re.escape(w) for w in sorted(ws, key=len, reverse=True))
        out[cls] = re.compile(rf"\b(?:{alt})\b", re.I) if whole else re.compile(alt)
    return out


@functools.lru_cache(maxsize=8192)
def time_classes(text: str, lang: str) -> frozenset[str]:
    """The time-word classes (bank ``time_words``) that ``text`` names."""
    return frozenset(c for c, pat in _time_patterns(lang).items() if pat.search(text))


@functools.lru_cache(maxsize=16384)
def fits_time(text: str, lang: str, bucket: str | None) -> bool:
    """Whether ``text`` says nothing about the time of day that ``bucket`` contradicts
    (with no bucket, whether it says nothing about the time of day at all)."""
    classes = time_classes(text, lang)
    if not classes:
        return True
    if bucket is None:
        return False
    allowed = load_prompt("caption/themes.yaml")["light"]["classes"]
    return all(bucket in allowed[c] for c in classes)


@functools.lru_cache(maxsize=16)
def _word_pattern(lang: str, key: str) -> re.Pattern | None:
    words = bank(lang).get(key) or []
    if not words:
        return None
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alt})\b", re.I) if script(lang)["whole_words"] else re.compile(alt)


@functools.lru_cache(maxsize=16384)
def names_any(text: str, lang: str, key: str) -> bool:
    """Whether ``text`` holds a word of the bank's list ``key``: ``lit_words`` (lamps and lit
    streets: such a clause needs a built place in the photos, a starry desert has no lights
    to walk among), ``colour_words`` (colours: not seen in the dark unless the clause
    speaks of the night itself) or ``town_words`` (buses and taxis: a tip for a town)."""
    pat = _word_pattern(lang, key)
    return bool(pat and pat.search(text))


# --- repeated words -----------------------------------------------------------------------

def _same_word(a: str, b: str) -> bool:
    """Whether two lower-case words are one word told twice (lake/lakeside, lakeside/riverside)."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 3 and long_.startswith(short):
        return True
    return len(short) >= 5 and short[-4:] == long_[-4:]


@functools.lru_cache(maxsize=16384)
def _words(text: str, lang: str) -> tuple[str, ...]:
    """The lower-case Latin words of ``text`` less the bank's ``title_stopwords``."""
    stop = bank(lang).get("title_stopwords", ())
    return tuple(w for w in re.findall(r"[a-zà-ÿ]+", text.lower()) if w not in stop)


@functools.lru_cache(maxsize=16384)
def repeats(text: str, lang: str, place: str | None = None) -> bool:
    """Whether ``text`` says a word twice: a Latin content word (the bank's
    ``title_stopwords`` aside) or a Chinese character (``title_repeat_ok`` aside).
    ``place``, a name that ``text`` contains, is compared with the rest only, so "Walla
    Walla" may stay itself."""
    rest = text.replace(place, " ", 1) if place else text
    ok = bank(lang).get("title_repeat_ok", "")
    han = [c for c in rest if is_cjk(c) and c not in ok]
    if len(set(han)) < len(han) or (place and set(han) & set(place)):
        return True
    rest_w = _words(rest, lang)
    place_w = _words(place, lang) if place else ()
    return any(_same_word(a, b) for i, a in enumerate(rest_w) for b in rest_w[i + 1:]) or any(
        _same_word(a, b) for a in place_w for b in rest_w)


@functools.lru_cache(maxsize=16384)
def shares_words(a: str, b: str, lang: str) -> bool:
    """Whether two phrases share a Latin word or two Chinese characters in a row: a lead
    and its clause that would say the same thing twice ("等到傍晚，等到了日落")."""
    grams = {a[i:i + 2] for i in range(len(a) - 1) if is_cjk(a[i]) and is_cjk(a[i + 1])}
    if any(g in b for g in grams):
        return True
    wb = _words(b, lang)
    return any(_same_word(x, y) for x in _words(a, lang) for y in wb)


# --- places -------------------------------------------------------------------------------

def place_label(p: Place, lang: str) -> str:
    """The 📍 line's place: the bank's ``place_label.format`` with the parts it has
    ("日本·京都", "Kyoto, Japan"); a city or country that the name already says is left out,
    and so is the country unless the format's ``country`` rule allows it."""
    spec = bank(lang)["place_label"]
    name = p.name(lang)
    city = getattr(p, f"city_{lang}")
    country = p.country(lang)
    foreign = bool(p.country_code) and p.country_code.upper() not in spec.get("home_countries", [])
    values = {
        "name": name,
        "city": city if city and city != name and city not in name else None,
        "country": country if country and country not in name
        and (spec["country"] == "always" or foreign) else None,
    }
    # "{city} · {name}, {country}": each field kept brings the separator written before it
    out, sep = "", ""
    for text, field in re.findall(r"([^{]*)\{(\w+)\}", spec["format"]):
        sep = text if out else ""
        if values[field]:
            out += sep + values[field]
    return out


def _place_forms(name: str, lang: str) -> list[str]:
    """``name`` and its shorter forms for a title, longest first: what follows a
    ``place_cut`` dropped, then ``place_suffixes`` (and the people's names before them,
    ``place_suffix_lead``) taken off its end while a name of ``script.place_min``
    characters remains."""
    b, sc = bank(lang), script(lang)
    minimum = int(sc["place_min"])
    gap = sc["suffix_gap"]
    forms = [name]
    short = name
    for sep in b.get("place_cut", []):
        j = short.find(sep)
        if j > 0:
            short = short[:j].strip()
    forms.append(short)

    def strip(text: str, words: list[str]) -> str | None:
        for w in words:
            tail = gap + w
            if text.endswith(tail) and len(text) - len(tail) >= minimum:
                return text[:-len(tail)].rstrip()
        return None

    suffixes = sorted(b.get("place_suffixes", []), key=len, reverse=True)
    leads = sorted(b.get("place_suffix_lead", []), key=len, reverse=True)
    while (cut := strip(short, suffixes)) is not None:
        short = cut
        while (cut := strip(short, leads)) is not None:
            short = cut
    forms.append(short)
    return list(dict.fromkeys(forms))


def title_places(name: str, lang: str) -> list[str]:
    """The forms of the place a title may use: those within the bank's ``title_place_max``,
    longest first, else the shortest."""
    forms = _place_forms(name, lang)
    within = [f for f in forms if title_length(f) <= int(bank(lang).get("title_place_max", TITLE_MAX))]
    return within or [min(forms, key=title_length)]


# --- dates --------------------------------------------------------------------------------

def date_line(start: date | None, end_: date | None, lang: str) -> str | None:
    """The 🗓 line's dates ("10.03–10.04", "Oct 3–4"); None without a date.

    The bank's ``date_format`` (``date_format_year`` when the trip spans two years) writes
    each day, ``date_range`` two of them, ``date_range_month`` two in one month.
    """
    if start is None:
        return None
    b = bank(lang)
    end_ = end_ or start
    fmt = b["date_format_year"] if start.year != end_.year else b["date_format"]
    months = b.get("months")

    def one(d: date) -> str:
        return fmt.format(y=d.year, m=d.month, d=d.day, mon=months[d.month - 1] if months else d.month)

    a = one(start)
    if start == end_:
        return a
    if (start.year, start.month) == (end_.year, end_.month):
        return b["date_range_month"].format(a=a, b=one(end_), d=end_.day)
    return b["date_range"].format(a=a, b=one(end_))
