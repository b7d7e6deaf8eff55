"""Experiment: richer pooled features from EfficientNet-Lite0 for the dev photos, cached.

Variants per photo: centre crop 224 (as shipped), its horizontal flip, centre crop 320,
the full frame with its shorter side 224 (no crop). Per variant: the head's 1280 channels
pooled by mean, max, top half mean and bottom half mean, and the block outputs at the ends
of stages 3..7 pooled by mean and max.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tagging as bt  # noqa: E402

STAGE_ENDS = (4, 7, 10, 14, 15)


def prep(image, side, crop=True, flip=False):
    from PIL import Image

    im = image.convert("RGB")
    if flip:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    w, h = im.size
    s = side / min(w, h)
    nw, nh = max(side, round(w * s)), max(side, round(h * s))
    im = im.resize((nw, nh), Image.BILINEAR, reducing_gap=2.0)
    if crop:
        l, u = (nw - side) // 2, (nh - side) // 2
        im = im.crop((l, u, l + side, u + side))
    a = np.asarray(im, np.float32) * (2.0 / 255.0) - 1.0
    return a.transpose(2, 0, 1)


def run(model, x):
    import torch
    import torch.nn.functional as F

    out = {}
    with torch.inference_mode():
        t = torch.from_numpy(x[None]).contiguous(memory_format=torch.channels_last)
        t = F.relu6(model._bn0(model._conv_stem(t)))
        for i, b in enumerate(model._blocks):
            t = b(t)
            if i in STAGE_ENDS:
                out[f"b{i}_mean"] = t.mean(dim=(2, 3))[0].numpy()
                out[f"b{i}_max"] = t.amax(dim=(2, 3))[0].numpy()
        t = F.relu6(model._bn1(model._conv_head(t)))
        h = t.shape[2]
        out["head_mean"] = t.mean(dim=(2, 3))[0].numpy()
        out["head_max"] = t.amax(dim=(2, 3))[0].numpy()
        out["head_top"] = t[:, :, : h // 2].mean(dim=(2, 3))[0].numpy()
        out["head_bot"] = t[:, :, h - h // 2 :].mean(dim=(2, 3))[0].numpy()
        out["logits"] = model._fc(t.mean(dim=(2, 3)))[0].numpy()
    return out


VARIANTS = {"c224": (224, True, False), "f224": (224, True, True), "c320": (320, True, False),
            "full224": (224, False, False)}


def extract():
    cache = bt.CACHE / "exp_features_v1.npz"
    photos = bt.dev_set()
    if cache.is_file():
        d = np.load(cache)
        return photos, {k: d[k] for k in d.files}
    from creator import media
    from creator.understanding.lite import LiteTagger

    model = LiteTagger(calibration=None, head=None)._load()
    feats: dict[str, list] = {}
    for p in photos:
        image = media.open_photo(p.path, max_side=448)
        for v, (side, crop, flip) in VARIANTS.items():
            for k, a in run(model, prep(image, side, crop, flip)).items():
                feats.setdefault(f"{v}/{k}", []).append(a)
    arrs = {k: np.array(v) for k, v in feats.items()}
    np.savez_compressed(cache, **arrs)
    return photos, arrs


if __name__ == "__main__":
    photos, arrs = extract()
    # sanity: c224/head_mean equals the cached feats
    tagger = None
    print({k: v.shape for k, v in list(arrs.items())[:8]})
