"""Experiment: what the classifier reads of a photo other than the 320-px centre crop.

    VIEW=full   python exp_views.py   # the whole frame, shorter side SIZE (long side <= 2x)
    VIEW=three  python exp_views.py   # left, centre and right squares of a wide frame, averaged
    AUG=flip,left,right,zoom,full python exp_views.py   # centre crop at test time, the head
                                                          # trained on those views as well

Measured (2026-12-02; recall@5 / precision@3, leave-one-package-out; leave-one-source-out;
shipped centre crop 320 at 0.35: 0.732 / 0.808; 0.788 / 0.837): full frame 224 px at 0.35
0.736 / 0.802; 0.758 / 0.816 (at 0.3 0.762 / 0.791; 0.792 / 0.802), 256 px 0.736 / 0.799;
0.771 / 0.821, 288 px 0.714 / 0.782; 0.762 / 0.810; three squares 320 px 0.740 / 0.800;
0.792 / 0.828; the head trained on flip 0.732 / 0.804; 0.784 / 0.832, on all five views
0.732 / 0.811; 0.784 / 0.827 (all views, C scaled x3: 0.727 / 0.800; 0.788 / 0.830). None better
than the centre crop on both rows: the missed landscape tags (desert, fog, lake, river)
are not in the parts of the frame the crop leaves out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

VIEW = os.environ.get("VIEW", "centre")
if VIEW != "centre":  # the classifier's outputs are cached per view
    _cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"dev_photos_view_{VIEW}"
    _cache.mkdir(exist_ok=True)
    _photos = Path(os.environ.get("DEV_PHOTOS_CACHE", Path.home() / ".cache" / "dev_photos")) / "photos"
    if not (_cache / "photos").exists():
        (_cache / "photos").symlink_to(_photos)
    os.environ["DEV_PHOTOS_CACHE"] = str(_cache)

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_tagging as bt  # noqa: E402
from PIL import Image  # noqa: E402

from creator import media  # noqa: E402
from creator.understanding import lite  # noqa: E402
from creator.vocabulary import vocabulary  # noqa: E402


def scaled(image: Image.Image, side: int) -> Image.Image:
    im = image.convert("RGB")
    s = side / min(im.size)
    return im.resize((max(side, round(im.width * s)), max(side, round(im.height * s))), Image.BILINEAR,
                     reducing_gap=2.0)


def views(image: Image.Image, side: int, which: str) -> list[Image.Image]:
    im = scaled(image, side)
    w, h = im.size
    l, u = (w - side) // 2, (h - side) // 2
    centre = im.crop((l, u, l + side, u + side))
    if which == "full":
        return [im.resize((min(w, 2 * side), min(h, 2 * side)), Image.BILINEAR)]
    if which == "three":
        if max(w, h) < 1.25 * side:
            return [centre]
        return [im.crop((0, 0, side, side)), centre, im.crop((w - side, h - side, w, h))]
    m = side // 8
    return {"centre": [centre], "flip": [centre.transpose(Image.FLIP_LEFT_RIGHT)],
            "left": [im.crop((0, 0, side, side))], "right": [im.crop((w - side, h - side, w, h))],
            "zoom": [centre.crop((m, m, side - m, side - m)).resize((side, side), Image.BILINEAR)],
            }[which]


def features(model, ims: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    import torch

    probs, feats = [], []
    with torch.inference_mode():
        for im in ims:
            x = np.asarray(im, np.float32) * (2.0 / 255.0) - 1.0
            t = torch.from_numpy(x.transpose(2, 0, 1)[None].copy()).contiguous(memory_format=torch.channels_last)
            f = model.features(t)
            probs.append(torch.softmax(model._fc(f), dim=1).numpy()[0])
            feats.append(f.numpy()[0])
    return np.mean(probs, 0), np.mean(feats, 0)


def forward(self, images):
    model = self._load()
    out = [features(model, views(im, self.input_size, VIEW)) for im in images]
    return np.array([p for p, _ in out]), np.array([f for _, f in out])


def augmented_fit_head(aug: dict[str, np.ndarray], index: dict[int, int], c_scale: float):
    def fit_head(photos, feats):
        idx = [index[id(p)] for p in photos]
        x = lite.FeatureHead.inputs(np.concatenate([feats] + [aug[v][idx] for v in aug]))
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-3
        xs = (x - mean) / scale
        basis = np.linalg.svd(xs, full_matrices=False)[2][:bt.HEAD_DIMS].T
        y1 = np.array([[t in p.acceptable for t in vocabulary().ids] for p in photos], float)
        fitted = (y1.sum(axis=0) >= bt.HEAD_MIN) & ((1 - y1).sum(axis=0) >= bt.HEAD_MIN)
        y = np.concatenate([y1] * (1 + len(aug)))[:, fitted]
        coef, bias = bt.fit_logistic(xs @ basis, y, bt.HEAD_C / (1 + len(aug)) * c_scale)
        return lite.FeatureHead(tuple(t for t, f in zip(vocabulary().ids, fitted) if f), mean, scale,
                                basis @ coef.T, bias)
    return fit_head


def main() -> None:
    if VIEW != "centre":
        lite.LiteTagger.forward = forward
    photos = bt.dev_set()
    size = int(os.environ.get("SIZE", lite.TAG_INPUT_SIZE))
    tagger = lite.LiteTagger(calibration=None, head=None, input_size=size)
    looked, probs, feats = bt.look(tagger, photos)
    use = [v for v in os.environ.get("AUG", "").split(",") if v]
    if use:
        model = tagger._load()
        aug = {v: [] for v in use}
        for p in photos:
            image = media.open_photo(p.path, max_side=448)
            for v in use:
                aug[v].append(features(model, views(image, size, v))[1])
        bt.fit_head = augmented_fit_head({v: np.array(a) for v, a in aug.items()},
                                         {id(p): i for i, p in enumerate(photos)}, float(os.environ.get("CM", "1")))
    for thr in [float(t) for t in os.environ.get("THRS", "0.35").split(",")]:
        bt.THRESHOLDS = (thr,)
        a = bt.figures(photos, bt.cross_validated(tagger, photos, looked, feats))
        b = bt.figures(photos, bt.cross_validated(tagger, photos, looked, feats, by="source"))
        print(f"view={VIEW} size={size} aug={use} thr={thr}: package {a['recall@5']:.3f} / {a['precision@3']:.3f}, "
              f"source {b['recall@5']:.3f} / {b['precision@3']:.3f}", flush=True)


if __name__ == "__main__":
    main()
