"""The music library: scanning, decoding, analysis, mood, index and embeddings.

Modules: :mod:`.decode` (audio to mono float32), :mod:`.analysis` (librosa descriptors,
beats, key, excerpts), :mod:`.mood` (descriptors to mood scores), :mod:`.library` (scan,
metadata, persistent index), :mod:`.embeddings` (what is embedded; lite and CLAP
backends; scoring), :mod:`.query` (a note as a music query), :mod:`.cli` (the
``creator music`` and ``creator library`` commands). Names are re-exported lazily so
that importing this package does not import librosa.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "analyse": "creator.music.analysis",
    "TrackAnalysis": "creator.music.analysis",
    "choose_excerpt": "creator.music.analysis",
    "MOODS": "creator.music.mood",
    "MoodModel": "creator.music.mood",
    "TrackRecord": "creator.music.library",
    "LibraryIndex": "creator.music.library",
    "IndexReport": "creator.music.library",
    "index_library": "creator.music.library",
    "load_index": "creator.music.library",
    "LiteEmbedder": "creator.music.embeddings",
    "ClapEmbedder": "creator.music.embeddings",
    "track_descriptor": "creator.music.embeddings",
    "query_from_context": "creator.music.query",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'creator.music' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
