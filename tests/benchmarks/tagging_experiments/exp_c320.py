"""Experiment: the 320-px pass for both the probabilities (rules) and the head features, at fixed thresholds."""
import sys, os; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import numpy as np
import exp_head as eh
from exp_eval import bt, ef, lite, logpos, evaluate
photos, arrs = ef.extract()
orig = bt.classifier_outputs
def co(tagger, photos):
    pr, ft, faces, taken = orig(tagger, photos)
    lg = arrs["c320/logits"]; e = np.exp(lg - lg.max(1, keepdims=True)); p = e / e.sum(1, keepdims=True)
    return p, arrs["c320/head_mean"], faces, taken
bt.classifier_outputs = co
tagger = lite.LiteTagger(calibration=None, head=None, input_size=224)
looked, probs, feats = bt.look(tagger, photos)
bt.fit_head = eh.make_fit_head(48, 0.05, None)
for thr in [float(t) for t in os.environ.get("THRS", "0.3,0.4,0.5").split(",")]:
    bt.THRESHOLDS = (thr,)
    cv, f = evaluate(f"c320 probs+feats thr={thr}", photos, looked, tagger, logpos(feats))
    if thr == 0.4:
        pass
if os.environ.get("DIAG"):
    from exp_eval import cv_ranked, diagnose
    bt.THRESHOLDS = (0.4,)
    diagnose(photos, cv_ranked(tagger, photos, looked, logpos(feats)))
