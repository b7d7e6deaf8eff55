"""Experiment: one logistic model per tag over [feature PCA, the tag's rule evidence, scene
statistics, EXIF hour], in place of head + noisy-OR + Platt. Leave-one-package-out."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from exp_eval import bt, ef, lite, logpos, slog, build  # noqa: E402

warnings.filterwarnings("ignore")
SCENE = ("autumn", "brightness", "clouds", "fog", "forest", "meadow", "night", "plant", "sky", "snow",
         "starry_sky", "sunset", "water")


def scene_matrix(looked):
    rows = []
    for lk in looked:
        r = [lk.light.get(k, 0.0) for k in SCENE]
        if lk.taken is not None:
            h = lk.taken.hour + lk.taken.minute / 60
            r += [1.0, np.cos(2 * np.pi * h / 24), np.sin(2 * np.pi * h / 24)]
        else:
            r += [0.0, 0.0, 0.0]
        rows.append(r)
    return np.array(rows)


def rules_matrix(tagger, looked, ids):
    m = np.zeros((len(looked), len(ids)))
    for k, s in enumerate(bt.scored_with_head(tagger, looked, [None] * len(looked))):
        for j, t in enumerate(ids):
            m[k, j] = s[t][0] if t in s else 0.0
    return m


def _logit(p):
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


def fit_predict(xtr, rtr, str_, ytr, xte, rte, ste, ids, *, dims, C, use_rules, use_scene, cw, min_pos=4,
                rule_scale=1.0):
    from sklearn.linear_model import LogisticRegression

    mean, sd = xtr.mean(0), xtr.std(0) + 1e-3
    a, b = (xtr - mean) / sd, (xte - mean) / sd
    basis = np.linalg.svd(a, full_matrices=False)[2][:dims].T
    pa, pb = a @ basis, b @ basis
    ps = pa.std(0) + 1e-6
    pa, pb = pa / ps, pb / ps
    sm, ss = str_.mean(0), str_.std(0) + 1e-3
    sa, sb = (str_ - sm) / ss, (ste - sm) / ss
    out = np.zeros((len(xte), len(ids)))
    # shared Platt on the rules for tags without their own model
    lx = _logit(rtr).ravel()
    ly = ytr.ravel()
    keep = rtr.ravel() > 0
    shared = LogisticRegression(C=1.0).fit(lx[keep, None], ly[keep])
    for j, t in enumerate(ids):
        y = ytr[:, j]
        if y.sum() < min_pos or (1 - y).sum() < min_pos:
            out[:, j] = np.where(rte[:, j] > 0, shared.predict_proba(_logit(rte[:, j])[:, None])[:, 1], 0.0)
            continue
        fa, fb = [pa], [pb]
        if use_rules:
            fa.append(rule_scale * _logit(rtr[:, j])[:, None] / 3)
            fb.append(rule_scale * _logit(rte[:, j])[:, None] / 3)
        if use_scene:
            fa.append(sa)
            fb.append(sb)
        clf = LogisticRegression(C=C, class_weight=cw, max_iter=2000).fit(np.hstack(fa), y)
        out[:, j] = clf.predict_proba(np.hstack(fb))[:, 1]
    return out


def cv(photos, x, r, s, y, ids, **kw):
    pred = np.zeros_like(r)
    for pkg in sorted({p.package for p in photos}):
        tr = np.array([p.package != pkg for p in photos])
        pred[~tr] = fit_predict(x[tr], r[tr], s[tr], y[tr], x[~tr], r[~tr], s[~tr], ids, **kw)
    return pred


def facts_from(pred, ids, thr, visible, order=None):
    out = []
    for k in range(len(pred)):
        sc = pred[k] if order is None else order[k]
        rank = np.argsort(-sc, kind="stable")
        f = [ids[j] for j in rank if pred[k, j] >= thr]
        if not f and visible[k]:
            f = [ids[rank[0]]]
        out.append(f)
    return out


def curve(name, photos, pred, ids, visible, order=None, thrs=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7)):
    res = []
    for thr in thrs:
        f = bt.figures(photos, facts_from(pred, ids, thr, visible, order))
        res.append(f"{thr:.1f}:{f['recall@5']:.3f}/{f['precision@3']:.3f}")
    print(f"{name:40s} " + "  ".join(res), flush=True)


def setup():
    from creator.vocabulary import vocabulary

    photos, arrs = ef.extract()
    tagger = lite.LiteTagger(calibration=None, head=None, input_size=224)
    looked, probs, feats = bt.look(tagger, photos)
    ids = list(vocabulary().ids)
    r = rules_matrix(tagger, looked, ids)
    s = scene_matrix(looked)
    yacc = np.array([[t in p.acceptable for t in ids] for p in photos], float)
    yprim = np.array([[any(t in g for g in p.groups) for t in ids] for p in photos], float)
    visible = [lk.visible for lk in looked]
    return photos, arrs, tagger, looked, ids, r, s, yacc, yprim, visible


def main():
    photos, arrs, tagger, looked, ids, r, s, yacc, yprim, visible = setup()
    H = "head_mean"
    xs = {"base": build(arrs, [("c224/" + H, logpos)]),
          "flipavg": build(arrs, [(["c224/" + H, "f224/" + H], logpos)]),
          "c320": build(arrs, [("c320/" + H, logpos)])}
    grid = [dict(dims=48, C=0.05, use_rules=True, use_scene=True, cw=None),
            dict(dims=48, C=0.05, use_rules=False, use_scene=False, cw=None),
            dict(dims=48, C=0.05, use_rules=True, use_scene=False, cw=None),
            dict(dims=48, C=0.05, use_rules=True, use_scene=True, cw="balanced"),
            dict(dims=32, C=0.1, use_rules=True, use_scene=True, cw=None),
            dict(dims=64, C=0.05, use_rules=True, use_scene=True, cw=None),
            dict(dims=48, C=0.2, use_rules=True, use_scene=True, cw=None)]
    which = sys.argv[1:] or ["base"]
    for xn in which:
        for kw in grid:
            t0 = time.time()
            p = cv(photos, xs[xn], r, s, yacc, ids, **kw)
            curve(f"{xn} {kw['dims']} C{kw['C']} R{int(kw['use_rules'])}S{int(kw['use_scene'])} {kw['cw']}", photos, p,
                  ids, visible)
            print(f"   ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
