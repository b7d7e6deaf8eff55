"""The one contract every tagging backend speaks, and the cache that hands them out.

``get_tagger(settings.tagging)`` returns the process-wide instance for that
(backend, model, device) — built once, lazily, under a lock, because app backends call
it from many threads. Models load on first use, inside the backend.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from PIL import Image

from ..config import TaggingSettings
from ..errors import ConfigError
from ..types import Box, Tag

__all__ = ["TaggingBackend", "get_tagger", "clear_taggers"]


@runtime_checkable
class TaggingBackend(Protocol):
    """Tags images with the vocabulary of prompts/tags.yaml.

    ``tag`` gets RGB images (longest side about ``settings.image_size``), optionally the
    face boxes found in each, each capture time (local) and the sun's elevation at each
    photo's place and instant (degrees; None where unknown), and returns one list of
    :class:`~creator.types.Tag` per image: sorted by score (best first), only tags
    ``>= min_score``, at most ``max_tags``, each with its source.
    """

    name: str

    def tag(
        self,
        images: Sequence[Image.Image],
        *,
        faces: Sequence[list[Box]] | None = None,
        taken_at: Sequence[datetime | None] | None = None,
        sun: Sequence[float | None] | None = None,
    ) -> list[list[Tag]]: ...


_TAGGERS: dict[tuple, TaggingBackend] = {}
_LOCK = threading.Lock()


def _build(settings: TaggingSettings) -> TaggingBackend:
    if settings.backend == "lite":
        from .lite import LiteTagger

        return LiteTagger(min_score=settings.min_score, max_tags=settings.max_tags,
                          batch_size=settings.batch_size, detect_faces=settings.faces)
    if settings.backend == "clip":
        from .clip import ClipTagger

        return ClipTagger(settings.clip_model, settings.device, precision=settings.precision,
                          min_score=settings.min_score, max_tags=settings.max_tags,
                          batch_size=settings.batch_size, fact_score=settings.clip_fact_score)
    raise ConfigError(f"tagging.backend: unknown backend {settings.backend!r} (choose 'lite' or 'clip')")


def get_tagger(settings: TaggingSettings) -> TaggingBackend:
    """The cached tagger for these settings (one per backend, model, device and limits)."""
    if settings.backend == "clip":
        from ..models import resolve_device

        # "auto" and the device it resolves to share one tagger (the model is checked and
        # loaded on first use: ClipTagger._load)
        model, device, precision = settings.clip_model, resolve_device(settings.device), settings.precision
    else:
        model, device, precision = "efficientnet-lite0", "cpu", "float32"
    key = (settings.backend, model, device, precision, settings.min_score, settings.max_tags,
           settings.batch_size, settings.faces)
    with _LOCK:
        tagger = _TAGGERS.get(key)
        if tagger is None:
            tagger = _TAGGERS[key] = _build(settings)
        return tagger


def clear_taggers() -> None:
    """Forget the cached taggers (their models are freed once nothing else holds them)."""
    with _LOCK:
        _TAGGERS.clear()
