"""Which photo makes the cover: quality, faces, and how well it shows the trip's top tags.

In: a :class:`creator.types.NoteContext` and the cover ratio. Out: the usable photos,
best first, each with its score and the parts of that score (for the UI's "why").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from creator.types import MediaItem, MediaKind, NoteContext, Tag

__all__ = ["PhotoChoice", "score_photo", "rank_photos", "title_themes"]

# How much each part counts; they sum to 1.
WEIGHTS = {"quality": 0.45, "tags": 0.30, "faces": 0.10, "fit": 0.15}


@dataclass
class PhotoChoice:
    item: MediaItem
    score: float
    parts: dict[str, float] = field(default_factory=dict)


def _tag_match(item: MediaItem, top_tags: list[Tag]) -> float:
    """Share of the trip's top-tag weight that this photo shows (0..1)."""
    if not top_tags:
        return 0.5
    mine = {t.id: t.score for t in item.tags}
    total = sum(t.score for t in top_tags) or 1.0
    return min(1.0, sum(t.score * mine.get(t.id, 0.0) for t in top_tags) / total * 1.5)


def _faces(item: MediaItem) -> float:
    """People make covers, but one face big enough to read beats a crowd of specks."""
    q = item.quality
    if q is None or not q.faces:
        return 0.3
    largest = max(f.width * f.height for f in q.faces)
    size = min(1.0, largest / 0.02)  # a face covering 2 % of the frame reads well on a phone
    crowd = 1.0 if len(q.faces) <= 3 else 0.6
    return 0.3 + 0.7 * size * crowd


def _fit(item: MediaItem, ratio: float, width: int) -> float:
    """Share of the photo a crop to ``ratio`` keeps (portraits suit 3:4 better than
    panoramas), less when that crop is too small for the cover and would be blown up."""
    if not item.width or not item.height:
        return 0.6
    r = item.width / item.height
    crop_w = min(item.width, item.height * ratio)
    return min(r, ratio) / max(r, ratio) * (0.5 + 0.5 * min(1.0, crop_w / width))


def score_photo(item: MediaItem, top_tags: list[Tag], ratio: float, width: int = 1080) -> PhotoChoice:
    """Score one photo for a cover of ``ratio`` (width/height) and ``width`` pixels: 0..1,
    with its parts."""
    q = item.quality
    quality = q.score if q is not None else 0.5
    if q is not None and q.sharpness < 0.2:  # a blurred cover is never the best one
        quality *= 0.5
    parts = {"quality": quality, "tags": _tag_match(item, top_tags), "faces": _faces(item),
             "fit": _fit(item, ratio, width)}
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    return PhotoChoice(item=item, score=round(score, 4), parts={k: round(v, 4) for k, v in parts.items()})


def title_themes(title: str | None, context: NoteContext) -> list[str]:
    """The tag ids of the trip that ``title`` names (by their header, title phrase or words
    in either language's phrase bank, or their labels): what the cover photo should show."""
    if not title:
        return []
    from creator.resources import load_prompt

    low = title.lower()
    tags = {t.id for t in context.top_tags} | {t.id for m in context.moments for t in m.tags} | {
        t.id for i in context.ok_items for t in i.tags}
    found = []
    for lang in ("zh", "en"):
        bank = load_prompt(f"caption/{lang}.yaml")["tags"]
        for tid in sorted(tags):
            entry = bank.get(tid) or {}
            # title_where: how a title names the tag ("A day after dark" is the night's)
            words = [entry.get("header", ""), entry.get("title_where", "")] + list(entry.get("words", []))
            if any(w and w.lower() in low for w in words) and tid not in found:
                found.append(tid)
    for t in [*context.top_tags, *(t for i in context.ok_items for t in i.tags)]:
        if t.id not in found and (t.label_zh in title or t.label_en.lower() in low):
            found.append(t.id)
    # a title that names a family (themes.yaml families: "郊野", "by the water", as the
    # caption tells a meadow or forest, a sea, lake or river it is not sure of) names its
    # members that the trip has
    from pipelines.caption.checks import families, family_words

    for fam, f in families().items():
        if any(w.lower() in low for w in family_words(fam, ("zh", "en"))):
            found += [m for m in f["members"] if m in tags and m not in found]
    return found


def rank_photos(context: NoteContext, ratio: float, width: int = 1080, *,
                themes: list[str] | None = None) -> list[PhotoChoice]:
    """The context's readable photos, best cover first (ties keep the user's order).

    ``themes``: tag ids the title names; a photo that shows one of them comes before
    every photo that shows none, so the cover shows what its title says.
    """
    photos = [i for i in context.ok_items if i.kind in (None, MediaKind.photo)]
    top = context.top_tags[:5]
    ranked = [score_photo(i, top, ratio, width) for i in photos]
    wanted = set(themes or [])

    def shows(c: PhotoChoice) -> bool:
        return bool(wanted & {t.id for t in c.item.tags})

    return sorted(ranked, key=lambda c: (not shows(c), -c.score))
