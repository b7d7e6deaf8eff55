"""From a note to a music query: text, mood distribution and acoustic target.

:func:`query_from_context` writes the note as words (its top tags, places, time of day,
season, the mood its photos suggest and the pace of the edit); :func:`query_vectors`
turns those words plus the user's own text into a :class:`QueryVectors`. The query's
moods are read zero-shot: the text is embedded and compared with the phrase bank of
each mood in ``prompts/music/moods.yaml``; a NoteContext's valence/energy (and its tags'
mood hints) add a prior from the moods' positions in the valence/arousal plane.
"""

from __future__ import annotations

import functools

import numpy as np

from ..resources import load_prompt
from ..text import guess_language
from ..types import NoteContext
from ..understanding.moments import trip_time_of_day
from .embeddings import ACOUSTIC_NAMES, QueryVectors, text_embedder
from .mood import MOODS, mood_positions

__all__ = ["query_from_context", "context_mood", "pace_of", "text_moods", "query_vectors", "text_language"]

#: How sharply the zero-shot text moods are read (e5 similarities bunch within ~0.05).
TEXT_MOOD_TEMPERATURE = 0.01
#: Width of the valence/arousal prior around a context's mood.
CONTEXT_MOOD_WIDTH = 0.2


def text_language(text: str | None) -> str | None:
    """"zh" for a text with Chinese characters, "en" for one with Latin letters only,
    None for no text (or neither): :func:`creator.text.guess_language`."""
    return guess_language(text)


def pace_of(ctx: NoteContext) -> str:
    """slow / medium / fast: more items (clips count double) in one video, quicker cuts."""
    n = sum(2 if (i.kind is not None and i.kind.value == "clip") else 1 for i in ctx.ok_items)
    return "slow" if n <= 6 else "medium" if n <= 15 else "fast"


def context_mood(ctx: NoteContext) -> tuple[float, float]:
    """(valence, energy) of a trip: the context's own values blended half and half with
    the score-weighted mood hints of its top tags (prompts/tags.yaml)."""
    from ..vocabulary import vocabulary

    voc = vocabulary()
    vals, ens, ws = [], [], []
    for t in ctx.top_tags[:8]:
        if t.id in voc:
            d = voc[t.id]
            vals.append(d.valence)
            ens.append(d.energy)
            ws.append(max(t.score, 1e-3))
    if not ws:
        return ctx.valence, ctx.energy
    w = np.array(ws)
    tv = float(np.dot(w, vals) / w.sum())
    te = float(np.dot(w, ens) / w.sum())
    return 0.5 * ctx.valence + 0.5 * tv, 0.5 * ctx.energy + 0.5 * te


def _nearest_moods(valence: float, energy: float, k: int = 2) -> list[str]:
    pos = mood_positions()
    d = {m: (valence - v) ** 2 + (energy - a) ** 2 for m, (v, a) in pos.items()}
    return sorted(d, key=d.get)[:k]


def query_from_context(ctx: NoteContext, lang: str = "en") -> str:
    """The note as a short text for the music query, in ``lang`` ("zh" or "en").

    Example: "sea, beach, sunset; Sanya; golden hour, summer; happy, tender mood; a
    steady edit".
    """
    bank = load_prompt("music/moods.yaml")
    lang = "zh" if lang == "zh" else "en"
    sep = "，" if lang == "zh" else ", "
    parts: list[str] = []
    tags = [t.label(lang) for t in ctx.top_tags[:6]]
    if tags:
        parts.append(sep.join(tags))
    places = list(dict.fromkeys(p.name(lang) for p in ctx.places[:2]))
    if places:
        parts.append(sep.join(places))
    when = []
    tod = trip_time_of_day(ctx)  # the one time of day, as the caption and the cover say it
    if tod and tod in bank["time_of_day"]:
        when.append(bank["time_of_day"][tod][lang])
    if ctx.season and ctx.season in bank["season"]:
        when.append(bank["season"][ctx.season][lang])
    if when:
        parts.append(sep.join(when))
    v, e = context_mood(ctx)
    moods = [bank["moods"][m][lang] for m in _nearest_moods(v, e)]
    parts.append((sep.join(moods) + ("的氛围" if lang == "zh" else " mood")))
    if ctx.ok_items:
        parts.append(bank["pace"][pace_of(ctx)][lang])
    parts += [h for h in ctx.hints if h.strip()]
    return ("；" if lang == "zh" else "; ").join(parts)


@functools.lru_cache(maxsize=1)
def _phrase_bank() -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of every mood's query phrases (both languages) and their mood index."""
    bank = load_prompt("music/moods.yaml")["moods"]
    texts, owner = [], []
    for i, m in enumerate(MOODS):
        for p in list(bank[m]["query_en"]) + list(bank[m]["query_zh"]) + [bank[m]["describe_en"],
                                                                           bank[m]["describe_zh"]]:
            texts.append(p)
            owner.append(i)
    vecs = np.asarray(text_embedder().passage(texts), np.float32)
    return vecs, np.array(owner)


def text_moods(text_vec: np.ndarray) -> np.ndarray:
    """Zero-shot mood distribution (len(MOODS),) of a ``query:`` embedding: for each mood
    the mean of its three closest phrases, then a softmax."""
    vecs, owner = _phrase_bank()
    sims = vecs @ text_vec
    per = np.array([np.sort(sims[owner == i])[-3:].mean() for i in range(len(MOODS))])
    z = (per - per.max()) / TEXT_MOOD_TEMPERATURE
    p = np.exp(z)
    return (p / p.sum()).astype(np.float32)


def _prior(valence: float, energy: float) -> np.ndarray:
    pos = mood_positions()
    d2 = np.array([(valence - pos[m][0]) ** 2 + (energy - pos[m][1]) ** 2 for m in MOODS])
    p = np.exp(-d2 / (2 * CONTEXT_MOOD_WIDTH ** 2))
    return (p / p.sum()).astype(np.float32)


#: With the user's own words, their moods count this much against the photos' (the note's
#: words and its valence/energy): "something upbeat" on a calm trip asks for upbeat music.
USER_MOOD_WEIGHT = 0.8


def query_vectors(text: str, *, embedder=None, ctx: NoteContext | None = None,
                  text_vec: np.ndarray | None = None, user_text: str | None = None
                  ) -> tuple[QueryVectors, np.ndarray]:
    """Vectors of a query text (and optional context).

    ``user_text``: the user's own words within ``text`` (a free-text query); when given,
    the moods are read from them first (:data:`USER_MOOD_WEIGHT`), the note's words and
    the photos' mood only after. Returns (QueryVectors for
    :func:`~creator.music.embeddings.score_tracks`, the e5 embedding of the text).
    ``embedder`` embeds the text part (the lite embedder when None; CLAP's text tower for
    the full backend); the moods always use e5.
    """
    e5 = text_vec if text_vec is not None else np.asarray(text_embedder().query(text), np.float32)
    moods = text_moods(e5)
    if ctx is not None:
        v, e = context_mood(ctx)
        moods = 0.5 * moods + 0.5 * _prior(v, e)
    if user_text and user_text.strip() and user_text.strip() != text.strip():
        own = text_moods(np.asarray(text_embedder().query(user_text.strip()), np.float32))
        moods = USER_MOOD_WEIGHT * own + (1 - USER_MOOD_WEIGHT) * moods
    elif user_text and user_text.strip() and ctx is not None:
        moods = USER_MOOD_WEIGHT * text_moods(e5) + (1 - USER_MOOD_WEIGHT) * moods
    pos = mood_positions()
    valence = float(sum(moods[i] * pos[m][0] for i, m in enumerate(MOODS)))
    arousal = float(sum(moods[i] * pos[m][1] for i, m in enumerate(MOODS)))
    if ctx is not None and ctx.ok_items and not (user_text and user_text.strip()):
        arousal = 0.8 * arousal + 0.2 * {"slow": 0.2, "medium": 0.5, "fast": 0.85}[pace_of(ctx)]
    # targets: tempo and drums follow arousal, brightness follows valence
    target = np.array([valence, arousal, arousal, arousal, valence], np.float32)
    mask = np.array([1.0, 1.0, 0.5, 0.25, 0.25], np.float32)
    assert target.size == len(ACOUSTIC_NAMES)
    text_part = e5 if embedder is None or getattr(embedder, "name", "lite") == "lite" \
        else embedder.embed_query(text)
    return QueryVectors(text=text_part, acoustic=target, acoustic_mask=mask, moods=moods), e5
