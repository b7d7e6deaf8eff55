"""Travel-note creation assistant: understand a trip's media, draft the note.

The public SDK is re-exported here lazily, so ``import creator`` stays fast and does not
import torch, transformers, diffusers, moviepy or streamlit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # types
    "MediaItem": "creator.types",
    "MediaKind": "creator.types",
    "Tag": "creator.types",
    "Place": "creator.types",
    "Quality": "creator.types",
    "Moment": "creator.types",
    "NoteContext": "creator.types",
    "Caption": "creator.types",
    "TrackMatch": "creator.types",
    "Cover": "creator.types",
    "Draft": "creator.types",
    # settings and errors
    "Settings": "creator.config",
    "CreatorError": "creator.errors",
    "InputError": "creator.errors",
    "MediaError": "creator.errors",
    "BackendUnavailable": "creator.errors",
    "ConfigError": "creator.errors",
    "DraftError": "creator.errors",
    "Cancelled": "creator.errors",
    # the SDK
    "Assistant": "creator.assistant",
    # stages
    "load_media": "creator.media",
    "understand": "creator.understanding",
    "vocabulary": "creator.vocabulary",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


# Loaded on first use, so `import creator` stays light. import-linter (.importlinter)
# cannot see these dynamic imports; the TYPE_CHECKING block below names them statically,
# so a core module importing this facade shows up as an upward chain to the Assistant.
def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'creator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .assistant import Assistant
    from .config import Settings
    from .errors import (BackendUnavailable, Cancelled, ConfigError, CreatorError, DraftError,
                         InputError, MediaError)
    from .types import Caption, Cover, Draft, MediaItem, MediaKind, Moment, NoteContext, Place, Quality, Tag, TrackMatch
