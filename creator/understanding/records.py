"""One understood item as a flat record: what ``creator tag --json`` prints for each item
and what ``understand_many`` writes as one Parquet row (the same fields, one function)."""

from __future__ import annotations

from ..types import MediaItem

__all__ = ["item_record", "RECORD_FIELDS"]

#: The record's fields, in order.
RECORD_FIELDS = ("path", "id", "kind", "taken_at", "place", "tags", "quality", "error")


def item_record(item: MediaItem) -> dict:
    """``item`` as plain JSON-able values: path, id (content hash), kind, taken_at (ISO
    text), place (zh/en name, country), tags (id, labels, score, source), quality, error."""
    return {
        "path": item.path,
        "id": item.id,
        "kind": item.kind.value if item.kind else None,
        "taken_at": item.taken_at.isoformat() if item.taken_at else None,
        "place": (
            {"name_zh": item.place.name_zh, "name_en": item.place.name_en,
             "country": item.place.country_en}
            if item.place else None
        ),
        "tags": [
            {"id": t.id, "label_zh": t.label_zh, "label_en": t.label_en,
             "score": t.score, "source": t.source}
            for t in item.tags
        ],
        "quality": item.quality.model_dump(mode="json") if item.quality else None,
        "error": item.error,
    }
