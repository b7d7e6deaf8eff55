"""Tagging accuracy of the default (lite) stage on real photos that ship in pip packages.

Labels are ours, written by looking at each photo: ``main`` is the main content a
top-5 must name (recall@5); ``ok`` are further tags that are true of the photo and count
as correct in precision@3 (which divides by the number of tags shown, at most 3).
Faces come from the real MTCNN detector, as in the stage.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from creator.understanding.faces import FaceDetector
from creator.understanding.lite import LiteTagger
from tests.factories import sample_image

LABELS = {
    # Summer Palace, Beijing: Tower of Buddhist Incense over Kunming Lake, trees, hazy sky
    "china": {"main": {"palace", "architecture"}, "ok": {"temple", "lake", "sky", "plant", "forest"}},
    # a dahlia close-up on dark green leaves
    "flower": {"main": {"flower"}, "ok": {"plant"}},
    # studio portrait of an astronaut in an orange suit, flag and shuttle model behind
    "astronaut": {"main": {"people"}, "ok": set()},
    # a cup of espresso on a saucer, wooden table
    "coffee": {"main": {"coffee"}, "ok": {"drink", "cafe"}},
    # a tabby cat's face
    "chelsea": {"main": {"cat"}, "ok": set()},
    # a rocket on its launch pad at dusk, deep blue sky, floodlights
    "rocket": {"main": {"night"}, "ok": {"sky"}},
    # Hubble deep field: countless galaxies on black
    "hubble_deep_field": {"main": {"starry_sky"}, "ok": {"night"}},
    # a man with a camera on a tripod on a lawn, buildings far behind (greyscale)
    "camera": {"main": {"people"}, "ok": {"meadow", "city"}},
    # a red motorcycle in a garage
    "motorcycle_left": {"main": {"motorcycle"}, "ok": {"indoor"}},
}


def _load(name: str) -> Image.Image:
    if name == "motorcycle_left":
        from skimage import data

        im = Image.fromarray(np.asarray(data.stereo_motorcycle()[0])[..., :3])
    else:
        im = sample_image(name)
    im.thumbnail((448, 448))
    return im.convert("RGB")


def evaluate(tagger: LiteTagger, detector: FaceDetector, taken_at=None) -> tuple[float, float, dict[str, list[str]]]:
    names = list(LABELS)
    images = [_load(n) for n in names]
    faces = [detector.detect(im) for im in images]
    results = tagger.tag(images, faces=faces, taken_at=taken_at)
    hits = total = 0
    precisions = []
    shown = {}
    for name, tags in zip(names, results):
        ids = [t.id for t in tags]
        shown[name] = ids[:5]
        main, ok = LABELS[name]["main"], LABELS[name]["ok"]
        hits += len(main & set(ids[:5]))
        total += len(main)
        top3 = ids[:3]
        precisions.append(sum(t in main | ok for t in top3) / len(top3) if top3 else 0.0)
    return hits / total, float(np.mean(precisions)), shown


@pytest.fixture(scope="module")
def scores():
    return evaluate(LiteTagger(), FaceDetector())


def test_recall_at_5_of_main_content(scores):
    """Of the calibrated facts (what a caption may say), the top 5 name the main content."""
    recall, _, shown = scores
    assert recall >= 0.85, shown


def test_precision_at_3(scores):
    _, precision, shown = scores
    assert precision >= 0.75, shown
    assert all(shown.values()), shown  # no photo untagged


def test_a_bright_photo_at_midnight_or_noon_is_no_night_sky():
    """The clock never outvotes the light: with EXIF 23:30 or 12:00 on every photo, no
    daylight photo gets night or starry sky, and none gets a sunset at noon."""
    tagger, detector = LiteTagger(), FaceDetector()
    daylight = [n for n in LABELS if n not in ("rocket", "hubble_deep_field")]
    for when in (datetime(2024, 7, 1, 23, 30), datetime(2024, 7, 1, 12, 0)):
        _, _, shown = evaluate(tagger, detector, taken_at=[when] * len(LABELS))
        for name in daylight:
            assert not {"night", "starry_sky"} & set(shown[name]), (when, name, shown[name])
            if when.hour == 12:
                assert "sunset" not in shown[name], (name, shown[name])


if __name__ == "__main__":  # python tests/understanding/test_accuracy.py prints the figures
    r, p, s = evaluate(LiteTagger(), FaceDetector())
    for k, v in s.items():
        print(f"{k:20s} {v}   (main: {sorted(LABELS[k]['main'])})")
    print(f"recall@5 = {r:.3f}   precision@3 = {p:.3f}   on {len(LABELS)} photos")
