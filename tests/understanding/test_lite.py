"""The lite tagger with the real packaged EfficientNet-Lite0 weights, and its colour rules."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from creator.errors import InputError
from creator.types import Box
from creator.understanding.lite import LiteTagger, calibrate, colour_evidence, face_evidence
from creator.vocabulary import vocabulary
from tests.factories import sample_image


@pytest.fixture(scope="module")
def tagger():
    return LiteTagger(min_score=0.15, max_tags=12)


def _thumb(name: str) -> Image.Image:
    im = sample_image(name)
    im.thumbnail((448, 448))
    return im


def test_classifier_reads_the_sample_photos(tagger):
    """The loaded network predicts what DESIGN.md says it must (it is wired correctly)."""
    probs = tagger.imagenet_probs([_thumb("china"), _thumb("coffee"), _thumb("flower")])
    assert probs.shape == (3, 1000)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert probs[0].argmax() == 698  # palace
    assert probs[1].argmax() == 967  # espresso
    assert probs[2].argmax() == 985  # daisy


def test_tag_contract(tagger):
    images = [_thumb("coffee"), _thumb("chelsea")]
    result = tagger.tag(images, faces=[[], []], taken_at=[None, datetime(2024, 5, 1, 12)])
    assert len(result) == 2
    ids = set(vocabulary().ids)
    for tags in result:
        assert tags and len(tags) <= 12
        assert all(t.id in ids and t.score >= 0.15 for t in tags)
        assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)
        assert {t.source for t in tags} <= {"imagenet", "colour", "faces", "exif"}
    assert result[0][0].id in ("coffee", "drink") and "coffee" in [t.id for t in result[0][:2]]
    assert result[1][0].id == "cat"
    assert tagger.tag([]) == []


def test_bad_arguments_name_themselves(tagger):
    with pytest.raises(InputError, match="images"):
        tagger.tag(["not an image"])
    with pytest.raises(InputError, match="faces"):
        tagger.tag([_thumb("coffee")], faces=[])


def test_faces_give_people_selfie_and_group(tagger):
    one_big = [Box(x0=0.3, y0=0.2, x1=0.7, y1=0.7, score=0.99)]
    crowd = [Box(x0=0.1 * i, y0=0.4, x1=0.1 * i + 0.08, y1=0.5, score=0.95) for i in range(1, 5)]
    assert face_evidence([]) == {}
    big = face_evidence(one_big)
    assert big["people"] > 0.8 and big["selfie"] > 0.5
    many = face_evidence(crowd)
    assert many["group"] >= 0.6 and many["selfie"] == 0.0
    tags = tagger.tag([_thumb("coffee")], faces=[crowd])[0]
    assert {"people", "group"} <= {t.id for t in tags}
    assert next(t for t in tags if t.id == "group").source == "faces"


def test_calibration_is_monotone_and_bounded():
    e = np.linspace(0, 1, 101)
    s = calibrate(e)
    assert np.all(np.diff(s) >= 0) and s[0] == 0 and s[-1] < 1
    assert 0.6 < float(calibrate(np.array(0.3))) < 0.8
    assert float(calibrate(np.array(0.02))) < 0.1


# --- colour and light rules on constructed scenes -------------------------------------

RNG = np.random.default_rng(0)


def _scene(top, bottom, *, h=300, w=400, split=0.5, noise_top=0.0, noise_bottom=0.0):
    """A photo-like scene: a top colour band over a bottom band, with optional texture."""
    arr = np.zeros((h, w, 3), np.float32)
    cut = int(h * split)
    arr[:cut] = top
    arr[cut:] = bottom
    arr[:cut] += RNG.normal(0, noise_top, (cut, w, 1)) if noise_top else 0
    arr[cut:] += RNG.normal(0, noise_bottom, (h - cut, w, 1)) if noise_bottom else 0
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _gradient(c0, c1, h=300, w=400):
    t = np.linspace(0, 1, h)[:, None, None]
    arr = np.asarray(c0, np.float32) * (1 - t) + np.asarray(c1, np.float32) * t
    return np.broadcast_to(arr, (h, w, 3)).copy()


def test_sunset_sky_over_dark_ground():
    arr = _gradient((250, 150, 60), (230, 90, 80))
    arr[200:] = (30, 20, 25)
    ev = colour_evidence(Image.fromarray(arr.astype(np.uint8)))
    assert ev["sunset"] > 0.5
    assert ev["sky"] < 0.2 and ev["snow"] < 0.1


def test_blue_sky_with_clouds_and_sea():
    arr = _gradient((90, 150, 230), (140, 190, 240))
    for cx, cy, r in ((80, 40, 30), (250, 60, 40), (330, 30, 25)):
        yy, xx = np.mgrid[0:300, 0:400]
        arr[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = (250, 250, 252)
    arr[170:] = (20, 80, 150)
    ev = colour_evidence(Image.fromarray(arr.astype(np.uint8)))
    assert ev["sky"] > 0.5
    assert ev["clouds"] > 0.3
    assert ev["water"] > 0.4
    assert ev["sunset"] < 0.1 and ev["night"] < 0.1


def test_starry_sky_and_city_night():
    sky = np.full((300, 400, 3), 8, np.float32)
    for y, x in zip(RNG.integers(0, 298, 300), RNG.integers(0, 398, 300)):
        sky[y : y + 2, x : x + 2] = RNG.integers(120, 256)
    ev = colour_evidence(Image.fromarray(sky.astype(np.uint8)))
    assert ev["starry_sky"] > 0.5 and ev["night"] > 0.3
    city = np.full((300, 400, 3), 15, np.float32)
    for x in range(20, 400, 45):  # a few street lamps
        city[200:212, x : x + 10] = (255, 220, 150)
    ev = colour_evidence(Image.fromarray(city.astype(np.uint8)))
    assert ev["night"] > 0.5 and ev["starry_sky"] < 0.2


def test_snow_fog_forest_meadow_autumn():
    snow = np.asarray(_scene((200, 215, 235), (240, 245, 252), noise_bottom=4)).copy()
    for x in range(10, 400, 60):  # dark pines on the snow line
        snow[110:160, x : x + 14] = (30, 45, 35)
    assert colour_evidence(Image.fromarray(snow))["snow"] > 0.4
    fog = Image.fromarray(_gradient((200, 203, 205), (185, 188, 190)).astype(np.uint8))
    ev = colour_evidence(fog)
    assert ev["fog"] > 0.4 and ev["snow"] < 0.3
    forest = np.clip(RNG.normal(0, 40, (300, 400, 1)) + np.array([50, 110, 40]), 0, 255)
    ev = colour_evidence(Image.fromarray(forest.astype(np.uint8)))
    assert ev["forest"] > 0.5 and ev["autumn"] < 0.1
    meadow = _scene((150, 190, 235), (80, 150, 50), split=0.4, noise_bottom=35)
    ev = colour_evidence(meadow)
    assert ev["meadow"] > 0.4 and ev["forest"] < 0.3
    autumn = np.clip(RNG.normal(0, 45, (300, 400, 1)) + np.array([200, 100, 30]), 0, 255)
    ev = colour_evidence(Image.fromarray(autumn.astype(np.uint8)))
    assert ev["autumn"] > 0.5 and ev["forest"] < 0.1


def test_exif_night_needs_a_dark_photo(tagger):
    dark = Image.fromarray(np.full((300, 400, 3), 12, np.uint8))
    late = datetime(2024, 8, 1, 23, 30)
    with_exif = {t.id: t for t in tagger.tag([dark], taken_at=[late])[0]}
    assert "night" in with_exif
    bright_indoor = tagger.tag([_thumb("coffee")], taken_at=[late])[0]
    assert "night" not in {t.id for t in bright_indoor}
