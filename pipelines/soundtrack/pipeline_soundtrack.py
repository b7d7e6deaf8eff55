"""Soundtrack: pick tracks from a music library for a note, by embedding similarity.

``Pipeline(settings)(SoundtrackRequest(context=ctx, query="...", length=15))`` returns
the top tracks, each with a score and its breakdown, a one-sentence reason, and the
excerpt fitted to the video length with the beats the video cuts on. What is embedded
is described in :mod:`creator.music.embeddings`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from creator.config import Settings
from creator.errors import InputError, MediaError
from creator.music.analysis import choose_excerpt
from creator.music.decode import AUDIO_SUFFIXES
from creator.music.embeddings import (LiteEmbedder, TrackMatrix, build_track_matrix, score_tracks,
                                      tempo_word, top_indices)
from creator.music.library import LibraryIndex, TrackRecord, index_library, index_path
from creator.music.mood import MOODS
from creator.music.query import query_from_context, query_vectors, text_language
from creator.resources import load_prompt
from creator.types import Excerpt, NoteContext, TrackMatch
from creator.understanding.moments import trip_time_of_day
from pipelines.caption.template import stated_top_tags

__all__ = ["Pipeline", "SoundtrackRequest", "SoundtrackOutput"]

#: How many of the best-scoring tracks are sorted and filtered for the top-k (exclusions,
#: near-duplicates); the rest of the library is never sorted unless these run out.
CANDIDATES = 200


class SoundtrackRequest(BaseModel):
    """What to match: a note (context), the user's words (query), or both."""

    model_config = ConfigDict(extra="forbid")

    context: NoteContext | None = None
    query: str | None = None  # free text, zh or en ("relaxed seaside evening", "热闹的夜市")
    # of the reasons; None: the query's language, else settings.caption.language
    language: Literal["zh", "en"] | None = None
    length: float | None = Field(None, gt=0)  # video length, seconds (None: from the note)
    top: int | None = Field(None, ge=1)  # None: settings.music.top
    exclude: list[str] = Field(default_factory=list)  # track ids, paths or titles
    pin: list[str] = Field(default_factory=list)  # always listed first, in this order
    library: Path | None = None  # None: settings.music.library (None: the demo tracks)


class SoundtrackOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matches: list[TrackMatch]
    query_text: str  # what was embedded for the query
    query_moods: dict[str, float]
    backend: str
    library: str
    length: float  # the excerpt length used
    warnings: list[str] = Field(default_factory=list)


def _make_embedder(settings: Settings):
    if settings.music.backend == "clap":
        from creator.music.embeddings import ClapEmbedder

        return ClapEmbedder(settings.music.clap_model, device=settings.music.device,
                            precision=settings.music.precision)
    return LiteEmbedder()


def _matches(rec: TrackRecord, keys: list[str]) -> bool:
    wanted = {k.strip().lower() for k in keys if k.strip()}
    return bool(wanted & {rec.id.lower(), rec.path.lower(), Path(rec.path).name.lower(),
                          rec.title.lower()})


class Pipeline:
    """The soundtrack stage.

    Parameters
    ----------
    settings : the assistant's settings (``settings.music`` is read).
    embedder : the text/audio embedding backend (None: chosen by ``settings.music.backend``).
    index : an already loaded library index (None: the library is indexed on first call;
        re-indexing an unchanged library only stats its files).
    """

    def __init__(self, settings: Settings | None = None, *, embedder=None,
                 index: LibraryIndex | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._index = index
        self._matrix: TrackMatrix | None = None
        self._matrix_key: tuple | None = None

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = _make_embedder(self.settings)
        return self._embedder

    def _index_dir(self) -> Path:
        m = self.settings.music
        return Path(m.index_dir or (Path(self.settings.cache_dir) / "music"))

    def library_matrix(self, library: Path | None = None) -> tuple[LibraryIndex, TrackMatrix, list[str]]:
        """The (re)indexed library and its embedding matrix, cached across calls."""
        warnings: list[str] = []
        index = self._index
        index_dir = self._index_dir()
        if index is None:
            report = index_library(library or self.settings.music.library, index_dir)
            index = report.index
            for path, err in report.failed:
                warnings.append(f"skipped {Path(path).name}: {err}")
            for path in report.silent:
                warnings.append(f"skipped {Path(path).name}: silent")
            warnings += report.warnings
        if not any(t.usable for t in index.tracks):  # none, or none that decodes
            why = f" ({warnings[0]}{' ...' if len(warnings) > 1 else ''})" if warnings else ""
            raise MediaError(f"music library {index.library}: no usable tracks{why}; "
                             f"give a folder of audio files ({', '.join(x[1:] for x in AUDIO_SUFFIXES)})")
        key = (index.library, index.updated_at, len(index.tracks), self.embedder.cache_key)
        if self._matrix is None or self._matrix_key != key:
            cache = index_path(index.library, index_dir).with_suffix(f".{self.embedder.cache_key}.npz")
            self._matrix = build_track_matrix(index.tracks, self.embedder, cache)
            self._matrix_key = key
        return index, self._matrix, warnings

    def __call__(self, request: SoundtrackRequest) -> SoundtrackOutput:
        m = self.settings.music
        lang = request.language or text_language(request.query) or self.settings.caption.language

        # 1. check inputs
        if request.context is None and not (request.query and request.query.strip()):
            raise InputError("request: give a context (the note) or a query (free text), or both")
        top = request.top or m.top
        length = request.length or self.settings.video.length
        if length is None:
            n = len(request.context.ok_items) if request.context is not None else 0
            length = float(np.clip(2.5 * n, 10.0, 60.0)) if n else 30.0

        # 2. the library and its vectors
        index, tracks, warnings = self.library_matrix(request.library)
        if len(tracks) == 0:
            raise InputError(f"library: no playable tracks in {index.library}", code="no_playable_tracks")

        # 3. the query: words from the note and the user, then vectors
        words = []
        if request.context is not None:
            words.append(query_from_context(request.context, "zh" if lang == "zh" else "en"))
        if request.query and request.query.strip():
            words.append(request.query.strip())
        query_text = "; ".join(words)
        qv, _ = query_vectors(query_text, embedder=self.embedder, ctx=request.context,
                              user_text=request.query)

        # 4. score every track
        scores, parts = score_tracks(tracks, qv, weight_text=m.weight_text,
                                     weight_acoustic=m.weight_acoustic, weight_mood=m.weight_mood)

        # 5. pick: pins first, no excluded tracks, no near-duplicates
        chosen: list[int] = []
        for key in request.pin:
            hit = [i for i, r in enumerate(tracks.records) if _matches(r, [key])]
            if not hit:
                warnings.append(f"pinned track {key!r} is not in the library")
            chosen += [i for i in hit[:1] if i not in chosen]
        chosen = self._pick(tracks, scores, chosen, max(top, len(request.pin)), request.exclude)

        # 6. describe each match: excerpt on the beat grid, reason
        matches = [self._match(tracks, i, scores, parts, qv.moods, request, length, lang) for i in chosen]
        return SoundtrackOutput(
            matches=matches, query_text=query_text,
            query_moods={k: round(float(v), 4) for k, v in zip(MOODS, qv.moods)},
            backend=self.embedder.name, library=index.library, length=round(float(length), 3),
            warnings=warnings)

    def _pick(self, tracks: TrackMatrix, scores: np.ndarray, chosen: list[int], want: int,
              exclude: list[str]) -> list[int]:
        """Add the best tracks to ``chosen`` until it holds ``want``, skipping excluded
        tracks and near-duplicates. Only the top few hundred are sorted and filtered
        (argpartition); the whole library is sorted only when those run out."""
        chosen = list(chosen)
        k = min(len(scores), max(CANDIDATES, 20 * want))
        seen = 0
        while len(chosen) < want and seen < len(scores):
            order = top_indices(scores, k)[seen:]
            for i in map(int, order):
                if len(chosen) >= want:
                    break
                if i in chosen or _matches(tracks.records[i], exclude):
                    continue
                if any(self._near_duplicate(tracks, i, j) for j in chosen):
                    continue
                chosen.append(i)
            seen, k = k, len(scores)  # ran out: widen to every track once
        return chosen

    @staticmethod
    def _near_duplicate(tracks: TrackMatrix, i: int, j: int) -> bool:
        """Same content, same title and artist, or the same sound and description."""
        a, b = tracks.records[i], tracks.records[j]
        if a.id == b.id:
            return True
        if a.artist and a.artist == b.artist and a.title.strip().lower() == b.title.strip().lower():
            return True
        same_text = float(tracks.text[i] @ tracks.text[j]) > 0.995
        same_sound = float(np.abs(tracks.acoustic[i] - tracks.acoustic[j]).max()) < 0.02
        same_len = abs(a.analysis.duration - b.analysis.duration) < 1.0
        return same_text and same_sound and same_len

    def _match(self, tracks: TrackMatrix, i: int, scores, parts, qmoods, request, length, lang) -> TrackMatch:
        rec = tracks.records[i]
        a = rec.analysis
        start, end, beats, downbeats = choose_excerpt(a, length)
        moods = {k: round(float(v), 4) for k, v in zip(MOODS, tracks.moods[i])}
        breakdown = {k: round(float(v[i]), 4) for k, v in parts.items()}
        return TrackMatch(
            track_id=rec.id, title=rec.title, artist=rec.artist, license=rec.license, path=rec.path,
            score=round(float(scores[i]), 4), breakdown=breakdown, moods=moods,
            tempo=a.tempo, reason=self._reason(rec, moods, qmoods, request, lang),
            excerpt=Excerpt(start=start, end=end), beats=beats, downbeats=downbeats)

    @staticmethod
    def _reason(rec: TrackRecord, moods: dict[str, float], qmoods, request: SoundtrackRequest,
                lang: str) -> str:
        """One sentence in ``lang``: the track's shared mood, its tempo and mode, and what it suits."""
        bank = load_prompt("music/moods.yaml")
        # the mood to mention is the track's own: the one it and the query agree on most
        # among the track's two strongest (never one the track's analysis does not carry,
        # so "a calm, fast track" cannot be written for an energetic one)
        own = [k for k in sorted(moods, key=moods.get, reverse=True)[:2]
               if moods[k] >= 0.5 * max(moods.values())]
        agree = {k: moods[k] * float(q) for k, q in zip(MOODS, qmoods) if k in own}
        mood_id = max(agree, key=agree.get)
        mood = bank["moods"][mood_id][lang]
        why_bits: list[str] = []
        ctx = request.context
        if ctx is not None:
            # what the caption may state: a weak tag is no fact for a reason either
            why_bits += [t.label(lang) for t in stated_top_tags(ctx)[:2]]
            tod = trip_time_of_day(ctx)  # the one time of day (creator.understanding.moments)
            if tod and tod in bank["time_of_day"]:
                why_bits.append(bank["time_of_day"][tod][lang])
        if request.query and request.query.strip():
            q = request.query.strip()
            why_bits.append(f"“{q[:40]}”" if lang == "en" else f"「{q[:30]}」")
        bits = why_bits[:3]
        if not bits:
            why = bank["reasons"]["why_default"][lang]
        elif len(bits) == 1:
            why = bits[0]
        else:
            why = bank["reasons"]["joiner"][lang].join(bits[:-1]) + bank["reasons"]["last_joiner"][lang] + bits[-1]
        a = rec.analysis
        if a.tempo:
            word = tempo_word(a.tempo, lang)
            if [mood_id, tempo_word(a.tempo, "en")] in bank["reasons"].get("contradictions", []):
                # a calm track at 150 BPM (felt at half time): the BPM says the tempo
                text = bank["reasons"][f"{lang}_bpm_only"].format(
                    mood=mood, bpm=f"{a.tempo:.0f}", mode=bank["mode"][a.mode][lang] if a.mode else "", why=why)
                return text.replace(", )", ")").replace("，）", "）")
            text = bank["reasons"][lang].format(
                mood=mood, tempo_word=word, bpm=f"{a.tempo:.0f}",
                mode=bank["mode"][a.mode][lang] if a.mode else "", why=why)
        else:
            text = bank["reasons"][f"{lang}_no_tempo"].format(mood=mood, why=why)
        if lang == "en":  # "An energetic…", "an upbeat…"
            text = re.sub(r"^A (?=[aeiouAEIOU])", "An ", text)
        return text.replace(", )", ")").replace("，）", "）")
