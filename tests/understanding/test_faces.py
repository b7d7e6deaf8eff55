"""MTCNN face detection with the packaged weights, on real photos."""

from __future__ import annotations

import pytest
from PIL import Image

from creator.errors import InputError
from creator.understanding.faces import FaceDetector, get_face_detector
from tests.factories import sample_image


def _thumb(name: str) -> Image.Image:
    im = sample_image(name)
    im.thumbnail((448, 448))
    return im


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


def test_finds_the_astronauts_face(detector):
    faces = detector.detect(_thumb("astronaut"))
    assert len(faces) == 1
    f = faces[0]
    assert f.score > 0.95
    # Eileen Collins' face: left of centre, upper third of the frame
    assert 0.3 < f.center[0] < 0.55 and 0.1 < f.center[1] < 0.35
    assert 0.1 < f.width < 0.3


def test_finds_the_cameraman_in_a_grey_photo(detector):
    faces = detector.detect(_thumb("camera"))
    assert len(faces) == 1 and 0.35 < faces[0].center[0] < 0.55


@pytest.mark.parametrize("name", ["chelsea", "coffee", "china", "flower", "hubble_deep_field"])
def test_no_faces_where_there_are_none(detector, name):
    assert detector.detect(_thumb(name)) == []


def test_same_face_at_any_resolution(detector):
    big = sample_image("astronaut").resize((1024, 1024))
    small = _thumb("astronaut")
    a, b = detector.detect(big)[0], detector.detect(small)[0]
    assert abs(a.center[0] - b.center[0]) < 0.03 and abs(a.center[1] - b.center[1]) < 0.03


def test_tiny_or_wrong_input(detector):
    assert detector.detect(Image.new("RGB", (8, 8))) == []
    with pytest.raises(InputError, match="image"):
        detector.detect("astronaut.png")


def test_shared_detector_is_one_instance():
    assert get_face_detector() is get_face_detector()
