"""The full profile's CLIP tagger on the real development photos, and its fact score.

    python tests/benchmarks/bench_tagging_clip.py MODEL            # a hub id (cached) or a local folder
    python tests/benchmarks/bench_tagging_clip.py MODEL --device cuda --temperature 1.0

The same photos, labels and figures as bench_tagging.py (recall@5 of the primary groups,
precision@3 against the acceptable ids, untagged photos, per-tag precision and recall),
for :class:`creator.understanding.clip.ClipTagger`: zero-shot, so nothing is fitted but the
fact score (``tagging.clip_fact_score``: a tag below it is a suggestion, not a fact).
Reported: the tagger at the configured fact score (0.5), then the fact score picked by
cross-validation, leave-one-package-out and leave-one-source-out: on each fold's other
photos, the lowest score among :data:`FACT_SCORES` whose facts keep precision@3 at 0.8 or
more (else the one with the best recall@5 + precision@3), measured on the held-out photos.
Last, the photos of holdout_photos.tsv and of holdout_new_package.tsv (nothing is fitted
or picked on them) at the fact score picked on all dev photos. The scores of a model are computed once and cached next to
the photos.

No CLIP weights ship in a pip package, so this runs where a model is at hand (a GPU machine
or a user's own); on two CPU cores a ViT-B/16 takes about a second a photo.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_tagging import (  # noqa: E402
    CACHE, Photo, dev_set, figures, holdout_set, new_package_set, per_tag)

FACT_SCORES = tuple(round(0.2 + 0.05 * k, 2) for k in range(15))  # 0.2 .. 0.9
PRECISION_FLOOR = 0.8


def clip_scores(tagger, photos: list[Photo], *, cache: bool = True) -> tuple[np.ndarray, list[bool]]:
    """(N, tags) scores of the photos as the pipeline reads them (the one loader, 448 px),
    and whether each shows visible content; cached by model, temperature and photo files."""
    from creator import media
    from creator.understanding.lite import visible_content

    key = hashlib.sha1("\n".join([tagger.model_name, repr(tagger.temperature), repr(tagger.prior_factor)]
                                 + [f"{p.path.name}:{p.path.stat().st_size}" for p in photos]).encode()).hexdigest()[:16]
    path = CACHE / f"clip_scores_{key}.npz"
    if cache and path.is_file():
        with np.load(path, allow_pickle=False) as d:
            return d["scores"], [bool(v) for v in d["visible"]]
    rows, visible = [], []
    for k in range(0, len(photos), tagger.batch_size):
        images = [media.open_photo(p.path, max_side=448) for p in photos[k : k + tagger.batch_size]]
        rows.append(tagger.scores(images))
        visible.extend(visible_content(im) for im in images)
        print(f"  scored {min(k + tagger.batch_size, len(photos))} of {len(photos)} photos", file=sys.stderr)
    scores = np.concatenate(rows) if rows else np.zeros((0, len(tagger.vocab)))
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, scores=scores, visible=np.array(visible))
    return scores, visible


def facts_at(tagger, scores: np.ndarray, visible: list[bool], fact_score: float) -> list[list[str]]:
    """Each photo's fact ids, best first, at this fact score (the tagger's own decision)."""
    old, tagger.fact_score = tagger.fact_score, fact_score
    try:
        return [[t.id for t in tagger.decide(row, v)] for row, v in zip(scores, visible)]
    finally:
        tagger.fact_score = old


def pick_fact_score(tagger, photos: list[Photo], scores: np.ndarray, visible: list[bool]) -> float:
    """The lowest fact score whose facts keep precision@3 >= PRECISION_FLOOR on these
    photos, else the one with the best recall@5 + precision@3."""
    rows = [(f, figures(photos, facts_at(tagger, scores, visible, f))) for f in FACT_SCORES]
    ok = [f for f, r in rows if r["precision@3"] >= PRECISION_FLOOR]
    if ok:
        return min(ok)
    return max(rows, key=lambda fr: (fr[1]["recall@5"] + fr[1]["precision@3"], -fr[0]))[0]


def cross_validated(tagger, photos: list[Photo], scores: np.ndarray, visible: list[bool],
                    by: str = "package") -> tuple[list[list[str]], list[float]]:
    """Each group's facts at the fact score picked on the other groups (``by``: package
    or source), and the scores picked."""
    facts: list[list[str]] = [[] for _ in photos]
    picked = []
    for group in sorted({getattr(p, by) for p in photos}):
        train = [k for k, p in enumerate(photos) if getattr(p, by) != group]
        test = [k for k, p in enumerate(photos) if getattr(p, by) == group]
        f = pick_fact_score(tagger, [photos[k] for k in train], scores[train], [visible[k] for k in train])
        picked.append(f)
        for k, ids in zip(test, facts_at(tagger, scores[test], [visible[k] for k in test], f)):
            facts[k] = ids
    return facts, picked


def report(tagger, photos: list[Photo], scores: np.ndarray, visible: list[bool],
           held: list[tuple[str, list[Photo], np.ndarray, list[bool]]] = ()) -> str:
    """The report's text (see the module docstring). ``held``: sets of held-out photos
    (none of them picks anything): each a name, the photos, their scores and visibility,
    measured at the fact score picked on all dev photos."""

    def row(name: str, f: dict) -> str:
        return f"{name:52s} {f['recall@5']:9.3f} {f['precision@3']:11.3f} {f['untagged']:8d}"

    lines = [f"{len(photos)} photos, model {tagger.model_name} (temperature {tagger.temperature})",
             f"{'':52s} {'recall@5':>9s} {'precision@3':>11s} {'untagged':>8s}",
             row(f"CLIP at the configured fact score ({tagger.fact_score:g})",
                 figures(photos, facts_at(tagger, scores, visible, tagger.fact_score)))]
    cv = None
    for by in ("package", "source"):
        facts, picked = cross_validated(tagger, photos, scores, visible, by)
        cv = cv or facts
        lines.append(row(f"fact score picked by leave-one-{by}-out CV", figures(photos, facts)))
        lines.append(f"  (picked {min(picked):g}-{max(picked):g}, median {float(np.median(picked)):g})")
    best = pick_fact_score(tagger, photos, scores, visible)
    lines.append(f"fact score picked on all photos: {best:g} (CREATOR_TAGGING__CLIP_FACT_SCORE={best:g})")
    for name, h_photos, h_scores, h_visible in held:
        lines.append(row(f"{len(h_photos)} {name} at that fact score",
                         figures(h_photos, facts_at(tagger, h_scores, h_visible, best))))
    lines.append("\nper tag, leave-one-package-out: tagged, precision | primary, recall@5")
    table = per_tag(photos, cv)
    for t in sorted(table, key=lambda t: (-table[t][2], t)):
        n, prec, m, rec = table[t]
        lines.append(f"  {t:14s} {n:4d} {prec:5.2f} | {m:3d} {rec:5.2f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="a CLIP or Chinese-CLIP hub id or local folder")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--no-cache", action="store_true", help="score the photos again")
    args = ap.parse_args()
    from creator.understanding.clip import ClipTagger

    tagger = ClipTagger(args.model, args.device, temperature=args.temperature, min_score=0.0)
    photos = dev_set()
    scores, visible = clip_scores(tagger, photos, cache=not args.no_cache)
    held = []
    for name, h_photos in (("held-out photos", holdout_set()), ("photos of a new package", new_package_set())):
        held.append((name, h_photos, *clip_scores(tagger, h_photos, cache=not args.no_cache)))
    print(report(tagger, photos, scores, visible, held))


if __name__ == "__main__":
    main()
