"""Crop to the cover ratio: faces stay whole, the subject stays in, sizes are exact."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from creator.errors import InputError
from creator.types import Box
from pipelines.cover.crop import crop_to_ratio, output_size, parse_ratio, plan_crop
from tests.factories import sample_image

# The face in skimage's astronaut, found once with creator.understanding.faces (MTCNN)
# and kept here as input data.
ASTRONAUT_FACE = Box(x0=0.349, y0=0.114, x1=0.521, y1=0.339)


def test_ratio_and_sizes():
    assert parse_ratio("3:4") == pytest.approx(0.75)
    assert output_size("3:4", 1080) == (1080, 1440)
    assert output_size("1:1", 1080) == (1080, 1080)
    assert output_size("9:16", 1080) == (1080, 1920)
    for bad in ("3x4", "0:4", "", "a:b"):
        with pytest.raises(InputError, match="ratio"):
            parse_ratio(bad)


def _inside(b: Box) -> bool:
    return b.x0 >= -1e-6 and b.y0 >= -1e-6 and b.x1 <= 1 + 1e-6 and b.y1 <= 1 + 1e-6


@pytest.mark.parametrize("ratio", ["3:4", "1:1", "9:16"])
def test_astronaut_face_whole_for_every_ratio(ratio):
    photo = sample_image("astronaut")
    out = output_size(ratio, 540)
    img, faces, _, plan = crop_to_ratio(photo, out, [ASTRONAUT_FACE])
    assert img.size == out and plan.fits
    (face,) = faces
    assert _inside(face)
    # the pixels at the mapped face box are the face of the source (the mapping is real)
    W, H = photo.size
    src = photo.crop((int(ASTRONAUT_FACE.x0 * W), int(ASTRONAUT_FACE.y0 * H),
                      int(ASTRONAUT_FACE.x1 * W), int(ASTRONAUT_FACE.y1 * H))).resize((32, 32)).convert("L")
    dst = img.crop((int(face.x0 * out[0]), int(face.y0 * out[1]),
                    int(face.x1 * out[0]), int(face.y1 * out[1]))).resize((32, 32)).convert("L")
    a, b = np.asarray(src, float).ravel(), np.asarray(dst, float).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.95
    # a face near the top third, with room above the hair
    assert 0.05 < face.y0 and face.center[1] < 0.5


def test_face_at_the_edge_of_a_wide_photo_is_kept():
    # a face at the far right of a panorama, cut to 9:16: the window must move to it
    face = Box(x0=0.90, y0=0.30, x1=0.97, y1=0.45)
    plan = plan_crop((3000, 1000), 9 / 16, [face])
    x0, y0, x1, y1 = plan.box
    assert plan.fits
    assert x0 <= face.x0 * 3000 and x1 >= face.x1 * 3000
    assert x1 - x0 == pytest.approx(1000 * 9 / 16)


def test_faces_that_cannot_fit_are_letterboxed_not_cut():
    photo = Image.new("RGB", (1600, 400), (90, 120, 160))
    faces = [Box(x0=0.02, y0=0.3, x1=0.08, y1=0.6), Box(x0=0.92, y0=0.3, x1=0.98, y1=0.6)]
    img, mapped, _, plan = crop_to_ratio(photo, (360, 640), faces)
    assert not plan.fits and plan.notes
    assert img.size == (360, 640)
    assert all(_inside(f) for f in mapped)
    # aspect of the faces preserved (not squashed)
    for f, m in zip(faces, mapped):
        assert (m.width * 360) / (m.height * 640) == pytest.approx((f.width * 1600) / (f.height * 400), rel=0.05)


def test_subject_is_centred_when_there_are_no_faces():
    subject = Box(x0=0.05, y0=0.4, x1=0.2, y1=0.6)
    plan = plan_crop((2000, 1000), 0.75, [], subject)
    x0, _, x1, _ = plan.box
    assert x0 <= 0.05 * 2000 and x1 >= 0.2 * 2000
