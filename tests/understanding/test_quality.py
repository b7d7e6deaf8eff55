"""Photo quality scores on real photos and degraded copies of them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from creator.errors import InputError
from creator.types import Box
from creator.understanding.quality import assess, saliency_box
from tests.factories import sample_image


def _thumb(name: str) -> Image.Image:
    im = sample_image(name)
    im.thumbnail((448, 448))
    return im


@pytest.mark.parametrize("name", ["china", "coffee", "astronaut", "flower"])
def test_degraded_copies_score_lower(name):
    im = _thumb(name)
    q = assess(im)
    blurred = assess(im.filter(ImageFilter.GaussianBlur(3)))
    dark = assess(ImageEnhance.Brightness(im).enhance(0.2))
    blown = assess(ImageEnhance.Brightness(im).enhance(3.0))
    grey = assess(im.convert("L").convert("RGB"))
    assert q.sharpness > 0.5 and blurred.sharpness < 0.2
    assert q.exposure > 0.75 and dark.exposure < 0.6 and blown.exposure < 0.6
    assert grey.colourfulness < 0.05 < q.colourfulness
    assert q.score > blurred.score and q.score > dark.score and q.score > blown.score
    for v in (q.sharpness, q.exposure, q.colourfulness, q.score):
        assert 0.0 <= v <= 1.0


def test_subject_follows_the_faces():
    faces = [Box(x0=0.35, y0=0.12, x1=0.52, y1=0.34, score=0.99)]
    q = assess(_thumb("astronaut"), faces)
    assert q.faces == faces
    s = q.subject
    assert s.x0 <= 0.35 and s.x1 >= 0.52 and s.y0 <= 0.12 and s.y1 >= 0.34
    assert s.width < 0.5


def test_saliency_finds_an_off_centre_object():
    arr = np.full((300, 400), 120, np.float32)
    arr += np.random.default_rng(1).normal(0, 3, arr.shape)
    arr[40:110, 270:350] = 250  # a bright object top right
    box = saliency_box(arr)
    cx, cy = box.center
    assert cx > 0.55 and cy < 0.45
    flower = assess(_thumb("flower")).subject  # the dahlia is in the middle
    assert 0.35 < flower.center[0] < 0.65


def test_bad_input():
    with pytest.raises(InputError, match="image"):
        assess(np.zeros((10, 10, 3)))
    with pytest.raises(InputError, match="too small"):
        assess(Image.new("RGB", (2, 2)))
