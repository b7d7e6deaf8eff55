"""Experiment: the shipped design (rules + head + noisy-OR + Platt), with head variants:
input features, PCA dims, C, class weights, scene statistics appended after the PCA."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from exp_eval import bt, build, ef, evaluate, lite, logpos  # noqa: E402
from exp_stack import scene_matrix  # noqa: E402

warnings.filterwarnings("ignore")
N_FEAT = [1280]


def make_fit_head(dims, C, cw):
    def fit_head(photos, feats):
        from sklearn.linear_model import LogisticRegression

        from creator.understanding.lite import FeatureHead
        from creator.vocabulary import vocabulary

        x = np.asarray(feats, np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-3
        xs = (x - mean) / scale
        nf = N_FEAT[0]
        basis = np.linalg.svd(xs[:, :nf], full_matrices=False)[2][:dims].T
        proj = np.hstack([xs[:, :nf] @ basis, xs[:, nf:]])
        vids = vocabulary().ids
        y = np.array([[t in p.acceptable for t in vids] for p in photos], float)
        fitted = (y.sum(0) >= bt.HEAD_MIN) & ((1 - y).sum(0) >= bt.HEAD_MIN)
        y = y[:, fitted]
        sw = None
        if cw == "balanced":
            pos = y.sum(0)
            sw = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * (len(y) - pos)))
        coef, bias = bt.fit_logistic(proj, y, C, sw)
        W = np.vstack([basis @ coef[:, :dims].T, coef[:, dims:].T])
        return FeatureHead(tuple(t for t, f in zip(vids, fitted) if f), mean, scale, W, bias)

    return fit_head


def main():
    photos, arrs = ef.extract()
    tagger = lite.LiteTagger(calibration=None, head=None, input_size=224)
    looked, probs, feats = bt.look(tagger, photos)
    sc = scene_matrix(looked)
    H = "head_mean"
    X = {"base": build(arrs, [("c224/" + H, logpos)]),
         "flipavg": build(arrs, [(["c224/" + H, "f224/" + H], logpos)]),
         "c320": build(arrs, [("c320/" + H, logpos)]),
         "c320flip": build(arrs, [(["c320/" + H], logpos)])}
    runs = []
    for arg in sys.argv[1:]:
        xn, dims, C, cw, scene = arg.split(":")
        runs.append((xn, int(dims), float(C), None if cw == "-" else cw, scene == "s"))
    for xn, dims, C, cw, scene in runs:
        bt.fit_head = make_fit_head(dims, C, cw)
        x = np.hstack([X[xn], sc]) if scene else X[xn]
        import os
        for thr in os.environ.get("THRS", "").split(","):
            if thr:
                bt.THRESHOLDS = (float(thr),)
            evaluate(f"{xn} d{dims} C{C} {cw} scene={scene} thr={thr or 'fit'}", photos, looked, tagger, x)


if __name__ == "__main__":
    main()
