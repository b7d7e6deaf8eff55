"""The tag vocabulary (prompts/tags.yaml) as typed objects.

Every backend speaks this vocabulary: the lite tagger maps ImageNet evidence onto it,
the CLIP tagger scores its prompts, the music matcher reads its mood hints, and the
caption composer reads its labels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .errors import ConfigError
from .resources import load_prompt
from .types import Tag

__all__ = ["TagDef", "Vocabulary", "vocabulary"]


@dataclass(frozen=True)
class TagDef:
    id: str
    zh: str
    en: str
    group: str
    clip: tuple[str, ...]
    clip_zh: tuple[str, ...]
    imagenet: tuple[int, ...]
    imagenet_weight: float
    valence: float
    energy: float

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def make(self, score: float, source: str) -> Tag:
        """A :class:`Tag` of this definition with a score (clipped to 0..1) and its source."""
        return Tag(
            id=self.id,
            label_zh=self.zh,
            label_en=self.en,
            group=self.group,
            score=round(min(1.0, max(0.0, float(score))), 4),
            source=source,
        )


def _expand(spec: list) -> tuple[int, ...]:
    out: list[int] = []
    for s in spec:
        if isinstance(s, int):
            out.append(s)
        else:
            a, b = (int(x) for x in str(s).split("-"))
            out.extend(range(a, b + 1))
    bad = [i for i in out if not 0 <= i < 1000]
    if bad:
        raise ConfigError(f"ImageNet class indices out of range in tags.yaml: {bad}")
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Vocabulary:
    tags: tuple[TagDef, ...]
    _by_id: dict[str, TagDef] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id.update({t.id: t for t in self.tags})

    def __getitem__(self, tag_id: str) -> TagDef:
        try:
            return self._by_id[tag_id]
        except KeyError:
            raise KeyError(f"unknown tag id {tag_id!r}") from None

    def __contains__(self, tag_id: object) -> bool:
        return tag_id in self._by_id

    def __iter__(self):
        return iter(self.tags)

    def __len__(self) -> int:
        return len(self.tags)

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.tags]

    def tag(self, tag_id: str, score: float, source: str) -> Tag:
        return self[tag_id].make(score, source)


def _parse(data: dict) -> Vocabulary:
    defs = []
    seen = set()
    for raw in data["tags"]:
        tid = raw["id"]
        if tid in seen:
            raise ConfigError(f"duplicate tag id {tid!r} in tags.yaml")
        seen.add(tid)
        mood = raw.get("mood") or {}
        defs.append(
            TagDef(
                id=tid,
                zh=raw["zh"],
                en=raw["en"],
                group=raw["group"],
                clip=tuple(raw.get("clip") or ()),
                clip_zh=tuple(raw.get("clip_zh") or ()),
                imagenet=_expand(raw.get("imagenet") or []),
                imagenet_weight=float(raw.get("imagenet_weight", 1.0)),
                valence=float(mood.get("valence", 0.5)),
                energy=float(mood.get("energy", 0.5)),
            )
        )
    return Vocabulary(tuple(defs))


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The vocabulary loaded from prompts/tags.yaml (cached, read-only)."""
    return _parse(load_prompt("tags.yaml"))
