"""Text helpers shared by every stage: CJK predicates, the language guess, grapheme
counting and one line breaker for titles and captions.

- :func:`is_cjk` (a Han character), :func:`is_cjk_script` (Han, kana, hangul: text
  without spaces between its words), :func:`cjk_ratio` and :func:`guess_language`.
- :func:`graphemes`, :func:`title_length` (the platform's count) and :func:`trim_title`.
- :func:`break_lines` / :func:`layout_lines`: word-aware line breaking. Chinese is cut
  into words with ``jieba`` (a dictionary segmenter, loaded once on first use, about a
  second), so 西湖 or 一整天 never straddle two lines while a break between words exists;
  a break goes at a separator (``｜`` ``|`` ``·``) or after a comma before it goes
  between words; kinsoku: a line never starts with closing punctuation or a separator
  and never ends with an opening bracket. Lines are balanced (a title never ends on an
  orphan). The cover typography and the video captions both use it.
"""

from __future__ import annotations

import functools
import logging
import math
import unicodedata
from dataclasses import dataclass
from typing import Callable

import regex

__all__ = [
    "is_cjk",
    "is_cjk_script",
    "cjk_ratio",
    "guess_language",
    "graphemes",
    "title_length",
    "trim_title",
    "words",
    "NO_LINE_START",
    "NO_LINE_END",
    "SEPARATORS",
    "HARD_SEPARATORS",
    "BREAK_AFTER",
    "LineBreak",
    "layout_lines",
    "break_lines",
    "names_only",
]


# --- predicates --------------------------------------------------------------------

def is_cjk(ch: str) -> bool:
    """A Han character (CJK unified ideographs, extension A, B and later, compatibility)."""
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x2FA1F)


def is_cjk_script(ch: str) -> bool:
    """A letter of a script written without spaces between words or syllable blocks
    that may break anywhere: Han, kana (with the prolonged sound mark), hangul."""
    cp = ord(ch)
    return (is_cjk(ch) or 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xAC00 <= cp <= 0xD7AF
            or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F or 0xFF66 <= cp <= 0xFF9F)


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the letters of ``text`` (CJK + alphabetic); 0 when none."""
    cjk = sum(1 for c in text if is_cjk(c))
    latin = sum(1 for c in text if c.isalpha() and not is_cjk(c) and ord(c) < 0x3000)
    return cjk / (cjk + latin) if cjk + latin else 0.0


def guess_language(text: str | None) -> str | None:
    """"zh" for a text with CJK letters (Han, kana, hangul), "en" for one with Latin
    letters only, None for no text (or neither: digits, emoji, punctuation)."""
    if not text or not text.strip():
        return None
    if any(is_cjk_script(ch) for ch in text):
        return "zh"
    return "en" if any(ch.isalpha() and ord(ch) < 0x0250 for ch in text) else None


# --- graphemes and the platform's title length ---------------------------------------

_GRAPHEME = regex.compile(r"\X")

#: A grapheme that starts below this code point (Basic Latin, Latin-1, Latin Extended:
#: letters, digits, spaces, ASCII punctuation) is half as wide as a CJK character, and
#: the platform counts it as half a character.
_HALF_WIDTH_BELOW = 0x0250


def graphemes(text: str) -> list[str]:
    """The visible characters of ``text`` (extended grapheme clusters, ``regex``'s ``\\X``):
    an emoji ZWJ sequence, a flag or a letter with its accents is one."""
    return _GRAPHEME.findall(text)


def _half_width(grapheme: str) -> bool:
    # a Latin letter with its accents; not a keycap emoji ("1️⃣" starts with a digit)
    return ord(grapheme[0]) < _HALF_WIDTH_BELOW and all(unicodedata.combining(c) for c in grapheme[1:])


def title_length(text: str) -> int:
    """Length of a title as the platform counts it: visible characters (graphemes), a
    Latin letter, digit, space or ASCII punctuation mark counting half, rounded up.

    A CJK character counts 1 and so does an emoji however many code points it is made of
    (ZWJ sequences such as 👨‍👩‍👧, skin tones, variation selectors, keycaps, flags);
    combining marks belong to their letter. So a 20-character limit holds 20 Chinese
    characters or about 40 Latin ones, as on the platform.

    >>> title_length("杭州西湖两日｜秋天慢慢走🍂")
    13
    >>> title_length("Two slow days by West Lake")
    13
    """
    halves = sum(1 if _half_width(g) else 2 for g in graphemes(text))
    return (halves + 1) // 2


def trim_title(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose :func:`title_length` is at most ``limit``
    (cut at a word or separator boundary when one is close), stripped."""
    text = text.strip()
    if title_length(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits
        mid = (lo + hi + 1) // 2
        if title_length(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    # prefer ending at a boundary when it keeps most of the title
    for sep in (" ", "｜", "|", "，", ",", "·", "・", "：", ":"):
        j = cut.rfind(sep)
        if j >= max(4, len(cut) * 2 // 3):
            cut = cut[:j]
            break
    return cut.strip(" ｜|，,·：:-—")


# --- paths in messages -----------------------------------------------------------------

_PATH = regex.compile(r"""(?<![\w.:/\\])(?:[A-Za-z]:)?(?:[\\/][^\s\\/:;,'"()\[\]<>|]+)+[\\/]([^\s\\/:;,'"()\[\]<>|]+)""")


def names_only(message: str) -> str:
    """``message`` with every absolute file path cut to its last part ("/srv/drafts/x/
    媒体/西湖_1.jpg: cannot read" → "西湖_1.jpg: cannot read"): what a user of the editor
    is shown, which need not and should not tell the server's folders."""
    return _PATH.sub(lambda m: m.group(1), message)


# --- words ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _segmenter():
    """jieba's tokenizer with its bundled dictionary (its cache goes to the temp dir)."""
    import jieba  # a pure-Python package with its dictionary; imported only for CJK text

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary on stderr
    tk = jieba.Tokenizer()
    tk.initialize()  # thread-safe (jieba locks it); lru_cache keeps the one tokenizer
    return tk


@functools.lru_cache(maxsize=4096)
def _cut(run: str) -> tuple[str, ...]:
    return tuple(w for w in _segmenter().cut(run, HMM=True) if w)


def words(text: str) -> list[str]:
    """``text`` cut into words: Chinese by the segmenter, everything else at spaces."""
    out: list[str] = []
    for run in regex.split(r"(\p{Han}+)", text):
        if not run:
            continue
        if any(is_cjk(c) for c in run):
            out += _cut(run)
        else:
            out += run.split()
    return out


# --- kinsoku and separators ----------------------------------------------------------

#: Characters that may not start a line (closing punctuation, marks that follow a word).
NO_LINE_START = frozenset("，。！？、；：）」』》〉】〕”’…‥・—～%,.!?;:)]}") | {"\u3001", "\u3002"}
#: Characters that may not end a line (opening brackets and quotes).
NO_LINE_END = frozenset("（「『《〈【〔“‘([{")
#: Separators between the parts of a title ("杭州西湖｜秋天慢慢走", "Hangzhou · Tea"): a
#: line break is the better separator, so one is dropped where a break falls after it
#: and never starts a line.
SEPARATORS = ("｜", "|", "·", "・")
#: The separators a cover title is always broken at (when it has room for the lines).
HARD_SEPARATORS = ("｜", "|")
#: Punctuation after which a break is better than between two words.
BREAK_AFTER = frozenset("，,、；;：:。！？!?")

# what a break costs, by where it falls (the lines' balance is weighed against it)
_AT_SEPARATOR = 0.0
_AFTER_PUNCTUATION = 0.2
_BETWEEN_WORDS = 1.0
_INSIDE_WORD = 20.0  # only when a word is wider than the line
_FORBIDDEN = math.inf
_BALANCE = 4.0

_LATIN = regex.compile(r"[\p{Latin}\p{N}'’\-]+(?:[.,][\p{N}]+)*")


@dataclass
class _Atom:
    text: str
    space: bool  # a space comes before it
    cost: float  # of a break before it
    droppable: bool = False  # a separator: left out when a line ends on it


def _atoms(text: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    i, space = 0, False
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            space, i = True, i + 1
            continue
        if is_cjk_script(ch):
            j = i
            while j < n and is_cjk_script(text[j]):
                j += 1
            run = text[i:j]
            pieces = _cut(run) if any(is_cjk(c) for c in run) else tuple(graphemes(run))
            for k, w in enumerate(pieces):
                for g, part in enumerate(graphemes(w)):
                    cost = _BETWEEN_WORDS if g == 0 else _INSIDE_WORD
                    atoms.append(_Atom(part, space and k == 0 and g == 0, cost))
            i, space = j, False
            continue
        m = _LATIN.match(text, i)
        piece = m.group(0) if m else _GRAPHEME.match(text, i).group(0)
        atoms.append(_Atom(piece, space, _BETWEEN_WORDS, droppable=piece in SEPARATORS))
        i += len(piece)
        space = False
    # kinsoku, separators and punctuation set what a break before each atom costs
    for k, a in enumerate(atoms):
        prev = atoms[k - 1] if k else None
        if k == 0:
            a.cost = _FORBIDDEN
        elif a.droppable or (a.text[0] in NO_LINE_START and not (a.space and a.text[0] in "—~～")):
            a.cost = _FORBIDDEN
        elif prev.text[-1] in NO_LINE_END:
            a.cost = _FORBIDDEN
        elif prev.droppable:
            a.cost = _AT_SEPARATOR
        elif prev.text[-1] in BREAK_AFTER and a.cost < _INSIDE_WORD:
            a.cost = _AFTER_PUNCTUATION
    return atoms


def _line(atoms: list[_Atom], i: int, j: int) -> str:
    while j > i + 1 and atoms[j - 1].droppable:
        j -= 1
    parts = [atoms[i].text]
    for a in atoms[i + 1:j]:
        parts.append((" " if a.space else "") + a.text)
    return "".join(parts)


@dataclass
class LineBreak:
    """Lines of a broken text; ``splits_words``: some break fell inside a word (a word
    was wider than the line); ``overflows``: some line is still wider than asked."""

    lines: list[str]
    splits_words: bool = False
    overflows: bool = False


def _break_paragraph(text: str, measure: Callable[[str], float], width: float) -> LineBreak:
    atoms = _atoms(text)
    if not atoms:
        return LineBreak([])
    n = len(atoms)
    widths: dict[tuple[int, int], float] = {}

    def w(i: int, j: int) -> float:
        if (i, j) not in widths:
            widths[(i, j)] = measure(_line(atoms, i, j))
        return widths[(i, j)]

    # the lines a break may end: from each start, every allowed end while the line fits
    # (a single unbreakable run wider than the line may stand alone, overflowing)
    ends: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n + 1):
            if j < n and atoms[j].cost == _FORBIDDEN:
                continue
            if w(i, j) <= width + 0.5:
                ends[i].append(j)
            else:
                if not ends[i]:
                    ends[i].append(j)  # the shortest breakable piece, too wide
                break

    def cost_of(j: int) -> float:
        return 0.0 if j == n else atoms[j].cost

    def inside(j: int) -> float:
        return 1.0 if j < n and atoms[j].cost >= _INSIDE_WORD else 0.0

    def over(i: int, j: int) -> float:
        return 1.0 if w(i, j) > width + 0.5 else 0.0

    # pass 1: the fewest overflowing lines, then the fewest words split, then the fewest lines
    best: list[tuple[float, float, float]] = [(math.inf,) * 3] * (n + 1)
    best[n] = (0.0, 0.0, 0.0)
    for i in range(n - 1, -1, -1):
        for j in ends[i]:
            c = (best[j][0] + over(i, j), best[j][1] + inside(j), best[j][2] + 1)
            if c < best[i]:
                best[i] = c
    n_lines = int(best[0][2])
    # pass 2: with that many lines, the cheapest breaks and the most even lines
    target = w(0, n) / max(1, n_lines)
    memo: dict[tuple[int, int], tuple[float, float, float, list[int]]] = {}
    NONE = (math.inf, math.inf, math.inf, [])

    def solve(i: int, left: int) -> tuple[float, float, float, list[int]]:
        if i == n or left == 0:
            return (0.0, 0.0, 0.0, []) if i == n and left == 0 else NONE
        key = (i, left)
        if key not in memo:
            out = NONE
            for j in ends[i]:
                rest = solve(j, left - 1)
                if rest[0] == math.inf:
                    continue
                badness = cost_of(j) + _BALANCE * ((w(i, j) - target) / max(width, 1.0)) ** 2
                cand = (over(i, j) + rest[0], inside(j) + rest[1], badness + rest[2], [j] + rest[3])
                if cand[:3] < out[:3]:
                    out = cand
            memo[key] = out
        return memo[key]

    cuts = solve(0, n_lines)[3]
    lines, starts = [], [0] + cuts[:-1]
    split = wide = False
    for i, j in zip(starts, cuts):
        lines.append(_line(atoms, i, j))
        split |= bool(inside(j))
        wide |= bool(over(i, j))
    return LineBreak(lines, splits_words=split, overflows=wide)


def layout_lines(text: str, measure: Callable[[str], float], width: float, *,
                 hard_breaks: bool = False) -> LineBreak:
    """Break ``text`` into lines no wider than ``width`` (as ``measure`` says), fewest
    lines first, then breaks at separators and after punctuation before breaks between
    words, then even lines. Newlines in ``text`` always break; with ``hard_breaks`` the
    title separators (``｜``, ``|``) do too (and are dropped)."""
    paras = [p for p in text.splitlines()] or [""]
    if hard_breaks:
        parts: list[str] = []
        for p in paras:
            seg = [p]
            for sep in HARD_SEPARATORS:
                seg = [s for part in seg for s in part.split(sep)]
            parts += [s.strip() for s in seg if s.strip()]
        paras = parts
    out = LineBreak([])
    for p in paras:
        b = _break_paragraph(p.strip(), measure, width)
        out.lines += b.lines
        out.splits_words |= b.splits_words
        out.overflows |= b.overflows
    return out


def break_lines(text: str, measure: Callable[[str], float], width: float, *, hard_breaks: bool = False) -> list[str]:
    """The lines of :func:`layout_lines`."""
    return layout_lines(text, measure, width, hard_breaks=hard_breaks).lines

