"""Experiment: leave-one-package-out figures of the lite tagger with other head inputs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tagging as bt  # noqa: E402
import exp_features as ef  # noqa: E402
from creator.understanding import lite  # noqa: E402

bt.THRESHOLDS = (0.3, 0.4, 0.5, 0.6)  # as before the operating point was fixed; THRS=... overrides


def logpos(x):
    return np.log(np.maximum(x, 0.0) + 0.05)


def slog(x):
    return np.sign(x) * np.log1p(np.abs(x))


def build(arrs, spec):
    """spec: list of (key or list of keys to average, transform)."""
    cols = []
    for keys, tf in spec:
        keys = [keys] if isinstance(keys, str) else keys
        cols.append(np.mean([tf(arrs[k]) for k in keys], axis=0))
    return np.concatenate(cols, axis=1)


def evaluate(name, photos, looked, tagger, x):
    # the head's inputs are given already transformed
    orig = lite.FeatureHead.inputs
    lite.FeatureHead.inputs = staticmethod(lambda f: np.asarray(f, np.float64))
    try:
        t0 = time.time()
        cv = bt.cross_validated(tagger, photos, looked, x)
        f = bt.figures(photos, cv)
    finally:
        lite.FeatureHead.inputs = orig
    print(f"{name:50s} {f['recall@5']:.3f} {f['precision@3']:.3f} {f['untagged']:3d}  ({time.time() - t0:.0f}s)",
          flush=True)
    return cv, f


def main(which):
    photos, arrs = ef.extract()
    tagger = lite.LiteTagger(calibration=None, head=None, input_size=224)
    looked, probs, feats = bt.look(tagger, photos)
    H = "head_mean"
    configs = {
        "base": [("c224/" + H, logpos)],
        "flipavg": [(["c224/" + H, "f224/" + H], logpos)],
        "c320": [("c320/" + H, logpos)],
        "full224": [("full224/" + H, logpos)],
        "avg4": [([f"{v}/{H}" for v in ef.VARIANTS], logpos)],
        "c224+full": [(["c224/" + H, "f224/" + H, "full224/" + H], logpos)],
        "mean+max": [("c224/" + H, logpos), ("c224/head_max", logpos)],
        "mean+topbot": [("c224/" + H, logpos), ("c224/head_top", logpos), ("c224/head_bot", logpos)],
        "mean+b14": [("c224/" + H, logpos), ("c224/b14_mean", slog), ("c224/b14_max", slog)],
        "mean+blocks": [("c224/" + H, logpos)] + [(f"c224/b{i}_{p}", slog) for i in ef.STAGE_ENDS for p in ("mean", "max")],
        "concat_views": [(f"{v}/{H}", logpos) for v in ef.VARIANTS],
    }
    for name in which or configs:
        evaluate(name, photos, looked, tagger, build(arrs, configs[name]))


if __name__ == "__main__":
    main(sys.argv[1:])


def cv_ranked(tagger, photos, looked, x, use_head=True):
    """Per photo: (calibrated scores dict over every tag with evidence, Calibration used)."""
    orig = lite.FeatureHead.inputs
    lite.FeatureHead.inputs = staticmethod(lambda f: np.asarray(f, np.float64))
    out = [None] * len(photos)
    try:
        for pkg in sorted({p.package for p in photos}):
            train = [k for k, p in enumerate(photos) if p.package != pkg]
            test = [k for k, p in enumerate(photos) if p.package == pkg]
            head, cal = bt.fit_all(tagger, [photos[k] for k in train], [looked[k] for k in train], x[train],
                                   use_head=use_head)
            hs = head.scores(x[test]) if head is not None else [None] * len(test)
            for k, s in zip(test, bt.scored_with_head(tagger, [looked[k] for k in test], hs)):
                ids = list(s)
                p = cal.apply(ids, np.array([s[t][0] for t in ids]))
                out[k] = (dict(zip(ids, p)), cal)
    finally:
        lite.FeatureHead.inputs = orig
    return out


def diagnose(photos, ranked):
    """Where each primary group's best id sits: in the top-5 facts, a fact below 5, a
    suggestion (below threshold), or without evidence / never in the vocabulary."""
    from collections import Counter
    from creator.vocabulary import vocabulary

    vocab = set(vocabulary().ids)
    where = Counter()
    miss_by = {}
    for p, (sc, cal) in zip(photos, ranked):
        order = sorted(sc, key=lambda t: -sc[t])
        facts = [t for t in order if sc[t] >= cal.threshold] or order[:1]
        for g in p.groups:
            key = "|".join(sorted(g))
            if g & set(facts[:5]):
                w = "hit"
            elif g & set(facts):
                w = "fact rank>5"
            elif g & set(order[:5]):
                w = "below threshold, rank<=5"
            elif g & set(order):
                w = "below threshold, rank>5"
            elif not g & vocab:
                w = "not in vocabulary"
            else:
                w = "no evidence"
            where[w] += 1
            miss_by.setdefault(key, []).append(w)
    print(dict(where))
    for key, ws in sorted(miss_by.items(), key=lambda kv: -sum(w != "hit" for w in kv[1])):
        m = [w for w in ws if w != "hit"]
        if m:
            print(f"  {key:28s} {len(ws):3d} missed {len(m):3d}: " + ", ".join(f"{w} x{m.count(w)}" for w in sorted(set(m))))
