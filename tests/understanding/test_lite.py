"""The lite tagger with the real packaged EfficientNet-Lite0 weights, and its colour rules."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from creator.errors import InputError
from creator.types import Box
from creator.understanding.lite import LiteTagger, calibrate, colour_evidence, face_evidence, skin_coloured
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


def test_classifier_reads_photos_at_320_px(tagger):
    """The tagger reads the photo at 320 px (cross-validated better than the 224 the network
    was trained at): its features are the network's on the 320-px crop, not on the 224 one,
    and the shipped head and calibration are the ones fitted for that size."""
    import torch

    from creator.understanding.lite import TAG_INPUT_SIZE

    assert tagger.input_size == TAG_INPUT_SIZE == 320
    image = _thumb("china")
    assert LiteTagger.preprocess(image).shape == (3, 320, 320)
    assert LiteTagger.preprocess(image, 224).shape == (3, 224, 224)
    _, feats = tagger.forward([image])
    model = tagger._load()
    with torch.inference_mode():
        at = {s: model.features(torch.from_numpy(LiteTagger.preprocess(image, s)[None])).numpy()[0] for s in (224, 320)}
    assert np.allclose(feats[0], at[320], atol=1e-4) and not np.allclose(feats[0], at[224], atol=1e-2)
    assert LiteTagger(input_size=224, head=None).forward([image])[1].shape == (1, 1280)
    with pytest.raises(InputError, match="input_size"):
        LiteTagger(input_size=8)


def test_tag_contract(tagger):
    images = [_thumb("coffee"), _thumb("chelsea")]
    result = tagger.tag(images, faces=[[], []], taken_at=[None, datetime(2024, 5, 1, 12)])
    assert len(result) == 2
    ids = set(vocabulary().ids)
    for tags in result:
        assert tags and len(tags) <= 12
        assert all(t.id in ids and t.score >= 0.15 for t in tags)
        assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)
        assert {t.source for t in tags} <= {"imagenet", "colour", "faces", "exif", "features"}
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
    tags = tagger.tag([_thumb("china")], faces=[crowd])[0]
    assert {"people", "group"} <= {t.id for t in tags}
    assert next(t for t in tags if t.id == "group").source == "faces"


def test_a_face_on_a_cat_or_a_coffee_is_not_people(tagger):
    """MTCNN finds "faces" on cats and fruit (the dev set's cat and citrus photos got
    people 0.83 and 0.88): where the classifier is sure of an animal or food, the face is
    weak evidence, and no people fact follows; the same box on a palace still gives one."""
    face = [Box(x0=0.3, y0=0.2, x1=0.6, y1=0.6, score=0.99)]
    cat, coffee, palace = tagger.tag([_thumb("chelsea"), _thumb("coffee"), _thumb("china")],
                                     faces=[face, face, face])
    assert "people" not in {t.id for t in cat} and "people" not in {t.id for t in coffee}
    assert "people" in {t.id for t in palace}


def _grey_face(image: Image.Image, box: Box) -> Image.Image:
    """The photo with the face in ``box`` turned to stone: its pixels greyed, the rest kept."""
    w, h = image.size
    region = (int(box.x0 * w), int(box.y0 * h), int(box.x1 * w), int(box.y1 * h))
    out = image.convert("RGB")
    out.paste(out.crop(region).convert("L").convert("RGB"), region[:2])
    return out


def test_a_grey_face_in_a_colour_photo_is_not_a_person():
    """MTCNN finds Mount Rushmore's four carved faces (gcompris-qt-data's photo, 0.97-1.0):
    a face without the colour of skin in a colour photo is stone, not a person, and gives no
    people evidence; the astronaut's own face, and the cameraman's in a black-and-white
    photo (nothing in it has colour), still count fully."""
    from creator.understanding.faces import FaceDetector

    detector = FaceDetector()
    astronaut = _thumb("astronaut")
    face = detector.detect(astronaut)
    assert len(face) == 1
    assert skin_coloured(astronaut, face)[0].score == pytest.approx(face[0].score)
    statue = _grey_face(astronaut, face[0])
    carved = detector.detect(statue)
    assert len(carved) == 1 and carved[0].score > 0.9  # the detector still sees a face
    assert skin_coloured(statue, carved)[0].score < 0.1
    camera = _thumb("camera")
    grey = detector.detect(camera)
    assert skin_coloured(camera, grey)[0].score == pytest.approx(grey[0].score)
    tagger = LiteTagger(calibration=None, head=None)
    probs = tagger.imagenet_probs([astronaut, statue])
    for image, row, boxes, person in ((astronaut, probs[0], face, True), (statue, probs[1], carved, False)):
        parts, _ = tagger.evidence_parts(image, row, boxes)
        assert any(src == "faces" for _, src in parts.get("people", [])) is person


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


def test_a_far_shore_between_sky_and_water_is_a_lake_and_a_horizon_is_the_sea(tagger):
    """Open sea meets the sky at the horizon; a lake has its other bank (hills, trees)
    between the two. The colour rule sees that band and sends the water to the lake."""
    sea = _gradient((90, 150, 230), (150, 195, 240))
    sea[150:] = (20, 80, 150)
    lake = sea.copy()
    lake[80:150] = (40, 70, 35)  # a wooded far bank
    rng = np.random.default_rng(3)
    lake[80:150] += rng.normal(0, 12, (70, 400, 1))
    sea_ev = colour_evidence(Image.fromarray(sea.astype(np.uint8)))
    lake_ev = colour_evidence(Image.fromarray(np.clip(lake, 0, 255).astype(np.uint8)))
    assert sea_ev["water"] > 0.4 and lake_ev["water"] > 0.4
    assert sea_ev["far_shore"] < 0.05 and lake_ev["far_shore"] > 0.9
    # through the whole rule set: the lake picture ranks the lake above the sea, the other not
    flat = np.full(1000, 1e-3)
    flat /= flat.sum()
    scored = {name: tagger.evidence(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), flat)
              for name, a in (("sea", sea), ("lake", lake))}
    assert scored["lake"].get("lake", (0.0,))[0] > scored["lake"].get("sea", (0.0,))[0]
    assert scored["sea"].get("sea", (0.0,))[0] > scored["sea"].get("lake", (0.0,))[0]


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


def test_snow_fog_and_greenery():
    snow = np.asarray(_scene((200, 215, 235), (240, 245, 252), noise_bottom=4)).copy()
    for x in range(10, 400, 60):  # dark pines on the snow line
        snow[110:160, x : x + 14] = (30, 45, 35)
    assert colour_evidence(Image.fromarray(snow))["snow"] > 0.4
    fog = Image.fromarray(_gradient((200, 203, 205), (185, 188, 190)).astype(np.uint8))
    ev = colour_evidence(fog)
    assert ev["fog"] > 0.4 and ev["snow"] < 0.3
    forest = np.clip(RNG.normal(0, 40, (300, 400, 1)) + np.array([50, 110, 40]), 0, 255)
    ev = colour_evidence(Image.fromarray(forest.astype(np.uint8)))
    assert ev["plant"] > 0.4


def test_colour_alone_names_no_forest_meadow_or_autumn():
    """Green texture, green ground under a sky and warm texture (red rocks, a pizza, a gold
    statue looked like autumn to the old rule) say plants at most: which of forest, meadow
    or autumn foliage it is comes from the classifier and the feature head."""
    forest = np.clip(RNG.normal(0, 40, (300, 400, 1)) + np.array([50, 110, 40]), 0, 255)
    meadow = _scene((150, 190, 235), (80, 150, 50), split=0.4, noise_bottom=35)
    warm = np.clip(RNG.normal(0, 45, (300, 400, 1)) + np.array([200, 100, 30]), 0, 255)
    tagger = LiteTagger(calibration=None, head=None)
    probs = np.full(1000, 1e-3, np.float32)
    for image in (Image.fromarray(forest.astype(np.uint8)), meadow, Image.fromarray(warm.astype(np.uint8))):
        assert not {"forest", "meadow", "autumn"} & set(colour_evidence(image))
        parts, _ = tagger.evidence_parts(image, probs)
        assert all(src != "colour" for t in ("forest", "meadow", "autumn") for _, src in parts.get(t, []))


def test_desert_needs_sand_under_a_blue_sky():
    dunes = np.asarray(_scene((110, 160, 225), (215, 175, 115), split=0.4, noise_bottom=6)).copy()
    assert colour_evidence(Image.fromarray(dunes))["desert"] > 0.5
    # the same sand colour all over (a sepia print, a warm wall): no sky above it, no desert
    sepia = _scene((200, 170, 120), (180, 145, 95), noise_bottom=6)
    assert colour_evidence(sepia)["desert"] < 0.05
    # sand with water along it is a beach, not a desert
    beach = dunes.copy()
    beach[200:] = (40, 110, 170)
    assert colour_evidence(Image.fromarray(beach))["desert"] < 0.05
    # green fields under a blue sky are not a desert
    fields = _scene((110, 160, 225), (90, 150, 60), split=0.4, noise_bottom=20)
    assert colour_evidence(fields)["desert"] < 0.05


def test_dusk_silhouette_is_a_sunset_and_a_warm_close_up_is_not():
    dusk = _gradient((70, 70, 95), (110, 80, 70))
    dusk[65:110, :] = (235, 120, 50)  # a streak of orange cloud (the warm-band rule alone reads 0.45)
    dusk[170:] = (25, 22, 25)  # the ground as a silhouette
    assert colour_evidence(Image.fromarray(dusk.astype(np.uint8)))["sunset"] > 0.55
    # an orange object filling the frame is warm but not backlit
    fruit = np.clip(RNG.normal(0, 12, (300, 400, 1)) + np.array([230, 130, 40]), 0, 255)
    assert colour_evidence(Image.fromarray(fruit.astype(np.uint8)))["sunset"] < 0.1


def test_a_dark_sky_over_a_lit_skyline_is_night_and_noon_is_not():
    city = np.full((300, 400, 3), (25, 30, 50), np.float32)  # a smooth night sky
    city[150:] = (60, 55, 50)
    for x in range(10, 400, 30):  # lit windows and street lights below
        for y in range(165, 290, 20):
            city[y : y + 8, x : x + 10] = (255, 230, 170)
    ev = colour_evidence(Image.fromarray(city.astype(np.uint8)))
    assert ev["night"] > 0.5
    noon = city.copy()
    noon[:150] = (120, 170, 230)
    assert colour_evidence(Image.fromarray(noon.astype(np.uint8)))["night"] < 0.05


def test_exif_night_needs_a_dark_photo(tagger):
    dark = np.full((300, 400, 3), 12, np.uint8)
    for x in range(40, 360, 40):  # a few lamps in the dark
        dark[200:215, x : x + 10] = (255, 220, 160)
    late = datetime(2024, 8, 1, 23, 30)
    with_exif = {t.id: t for t in tagger.tag([Image.fromarray(dark)], taken_at=[late])[0]}
    assert "night" in with_exif
    # a frame of nothing but black at 23:30 (the lens cap) states nothing, night included
    assert list(tagger.tag([Image.new("RGB", (400, 300), (12, 12, 12))], taken_at=[late])[0]) == []
    bright_indoor = tagger.tag([_thumb("coffee")], taken_at=[late])[0]
    assert "night" not in {t.id for t in bright_indoor}


# --- calibration, facts and suggestions, light against the clock -------------------------

import math  # noqa: E402

import yaml  # noqa: E402

from creator.resources import prompt_path  # noqa: E402
from creator.understanding import understand_items  # noqa: E402
from creator.understanding.lite import (GENERIC_TAGS, HEAD_FILE, Calibration, FeatureHead,  # noqa: E402
                                        TagList, light_gate, visible_content)

SAMPLES = ("china", "flower", "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera",
           "grass", "gravel", "brick", "moon", "retina")


def test_shipped_calibration_is_loaded_and_applied(tagger):
    """Fact scores are sigmoid(slope * logit(raw) + offset) with the numbers in
    prompts/tagging/calibration.yaml, read here straight from the file."""
    data = yaml.safe_load(prompt_path("tagging/calibration.yaml").read_text(encoding="utf-8"))
    # the operating point is precision-first: 0.35 (cross-validated precision@3 0.81; 0.3 gave 0.79)
    assert 0.35 <= data["threshold"] <= 0.8 and data["floor"] < data["threshold"]
    fitted = data["tags"]
    assert len(fitted) >= 20 and any(abs(v["slope"] - 1) > 0.05 or abs(v["offset"]) > 0.05 for v in fitted.values())
    assert tagger.calibration == Calibration.shipped()
    image = _thumb("china")
    probs, feats = tagger.forward([image])
    raw = tagger.evidence(image, probs[0], features=feats[0])
    tags = tagger.tag([image])[0]
    assert tags and all(t.score >= data["threshold"] for t in tags)
    for t in list(tags) + tags.suggestions:
        ab = fitted.get(t.id, data["default"])
        z = ab["slope"] * math.log(raw[t.id][0] / (1 - raw[t.id][0])) + ab["offset"]
        assert t.score == pytest.approx(1 / (1 + math.exp(-z)), abs=2e-4), t.id
    # the calibrated score is not the raw one: the calibration changed something
    assert any(abs(t.score - raw[t.id][0]) > 0.02 for t in tags)


def test_one_threshold_splits_facts_from_suggestions():
    """A tag under the threshold is a suggestion, never a fact; a photo with no fact keeps
    its best tag above the floor, else a generic scene tag; a blank frame gets no fallback."""
    cal = Calibration(threshold=0.5, floor=0.3, default=(1.0, 0.0), per_tag={"airplane": (1.0, -2.0)})
    t = LiteTagger(calibration=cal, min_score=0.1)
    out = t.decide({"sky": (0.8, "colour"), "airplane": (0.67, "imagenet"), "fog": (0.4, "colour")})
    assert isinstance(out, TagList) and [x.id for x in out] == ["sky"]
    # airplane 0.67 raw is sigmoid(logit(0.67) - 2) = 0.22 calibrated: a suggestion
    assert {x.id for x in out.suggestions} == {"fog", "airplane"}
    assert next(x for x in out.suggestions if x.id == "airplane").score == pytest.approx(0.216, abs=1e-3)
    assert {x.id for x in t.decide({"airplane": (0.5, "imagenet"), "sky": (0.9, "colour")}).suggestions} == {"airplane"}
    only_weak = t.decide({"fog": (0.4, "colour"), "lake": (0.35, "imagenet")})
    assert [x.id for x in only_weak] == ["fog"] and "fog" not in {x.id for x in only_weak.suggestions}
    below_floor = t.decide({"airplane": (0.5, "imagenet"), "sky": (0.2, "colour")})
    assert [x.id for x in below_floor] == ["sky"] and "sky" in GENERIC_TAGS
    # a blank frame gets no fallback: only tags that clear the threshold on their own
    assert list(t.decide({"airplane": (0.5, "imagenet"), "sky": (0.2, "colour")}, visible=False)) == []


def test_suggestions_never_in_tags_through_the_stage(tmp_path):
    from creator import media
    from creator.config import Settings
    from tests.factories import make_photo

    folder = tmp_path / "相册"
    folder.mkdir()
    paths = [make_photo(folder / f"照片{n}.jpg", _thumb(n), taken_at=datetime(2024, 5, 1, 10)) for n in
             ("china", "flower", "rocket")]
    items = understand_items(media.load_media(paths, verify=False), Settings())
    threshold = Calibration.shipped().threshold
    for item in items:
        assert item.ok and item.tags, item.path
        facts = {t.id for t in item.tags}
        assert not facts & {t.id for t in item.suggestions}, item.path
        assert all(t.score < threshold for t in item.suggestions)
    assert any(item.suggestions for item in items)


def test_no_untagged_photo_among_the_bundled_samples(tagger):
    images = [_thumb(n) for n in SAMPLES]
    assert all(visible_content(im) for im in images)
    for name, tags in zip(SAMPLES, tagger.tag(images)):
        assert len(tags) >= 1, name
    assert not visible_content(Image.new("RGB", (300, 200), (12, 12, 12)))


def _noon_forest() -> Image.Image:
    rng = np.random.default_rng(3)
    arr = np.clip(rng.normal(0, 45, (300, 400, 1)) + np.array([70, 120, 50]), 0, 255)
    return Image.fromarray(arr.astype(np.uint8))


def test_light_decides_night_stars_and_sunset():
    bright = {"brightness": 0.6, "sunset": 0.05, "night": 0.0}
    said = {"night": (0.43, "imagenet"), "starry_sky": (0.65, "imagenet"), "sunset": (0.8, "imagenet"),
            "forest": (0.7, "colour")}
    noon = light_gate(said, bright, datetime(2024, 10, 3, 12, 30))
    assert noon["night"][0] == 0.0 and noon["starry_sky"][0] == 0.0 and noon["forest"] == said["forest"]
    assert noon["sunset"][0] == 0.0  # at noon only the light may say sunset, and clearly
    glowing = light_gate(said, {**bright, "sunset": 0.7}, datetime(2024, 10, 3, 12, 30))
    assert glowing["sunset"][0] == pytest.approx(0.7)
    evening = light_gate(said, bright, datetime(2024, 10, 3, 18, 30))
    assert evening["sunset"] == said["sunset"]
    dark = light_gate(said, {"brightness": 0.05, "night": 0.8}, datetime(2024, 10, 3, 23, 0))
    assert dark["night"] == said["night"] and dark["starry_sky"] == said["starry_sky"]


def test_clock_and_light_together_on_real_pixels(tagger):
    """A bright green frame at 23:30 is no night and no starry sky; a dark starry frame at
    23:30 is; a warm sunset sky at noon keeps its sunset (the light says so), a forest at
    noon gets none."""
    late = datetime(2024, 8, 1, 23, 30)
    noon = datetime(2024, 8, 1, 12, 0)
    sky = np.full((300, 400, 3), 8, np.float32)
    rng = np.random.default_rng(1)
    for y, x in zip(rng.integers(0, 298, 300), rng.integers(0, 398, 300)):
        sky[y : y + 2, x : x + 2] = rng.integers(120, 256)
    stars = Image.fromarray(sky.astype(np.uint8))
    glow = _gradient((250, 150, 60), (230, 90, 80))
    glow[200:] = (30, 20, 25)
    sunset = Image.fromarray(glow.astype(np.uint8))
    forest = _noon_forest()
    res = tagger.tag([forest, stars, sunset, forest], taken_at=[late, late, noon, noon])

    def every(tags):
        return {t.id for t in tags} | {t.id for t in tags.suggestions}

    assert not every(res[0]) & {"night", "starry_sky"}
    assert {"night", "starry_sky"} & {t.id for t in res[1]}
    assert "sunset" in {t.id for t in res[2]}
    assert "sunset" not in every(res[3]) and not every(res[3]) & {"night", "starry_sky"}


def test_fog_on_a_low_contrast_scene(tagger):
    """Pale grey haze with faint ridges and trees (contrast kept low) reads as fog, and is
    no snow."""
    arr = _gradient((212, 214, 216), (188, 190, 192))
    rows = np.arange(300)[:, None]
    ridge = (150 + 25 * np.sin(np.arange(400) / 37.0))[None, :]
    arr[np.broadcast_to(rows > ridge, (300, 400))] -= 28  # a faint far ridge
    for x in range(15, 400, 50):
        arr[200:300, x : x + 8] -= 45  # misty tree trunks
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    ev = colour_evidence(im)
    assert ev["fog"] > 0.4 and ev["snow"] < 0.2
    tags = tagger.tag([im])[0]
    assert "fog" in {t.id for t in tags} | {t.id for t in tags.suggestions}


def test_forward_gives_the_features_the_classifier_reads(tagger):
    import torch

    probs, feats = tagger.forward([_thumb("chelsea"), _thumb("coffee")])
    assert feats.shape == (2, 1280) and probs.shape == (2, 1000)
    with torch.inference_mode():
        again = torch.softmax(tagger._load()._fc(torch.from_numpy(feats)), dim=1).numpy()
    assert np.allclose(again, probs, atol=1e-5)
    assert np.allclose(tagger.imagenet_probs([_thumb("chelsea")]), probs[:1], atol=1e-5)


def test_shipped_feature_head_is_loaded_and_applied(tagger):
    """The head in prompts/tagging/head.npz is a logistic over the pooled features, read
    here with numpy alone, and its scores enter the evidence as the "features" source."""
    with np.load(prompt_path(HEAD_FILE)) as d:
        ids, mean, scale, w, b = list(d["tag_ids"]), d["mean"], d["scale"], d["weights"], d["bias"]
    assert w.shape == (1280, len(ids)) and len(ids) >= 10 and {"sky", "clouds", "city"} <= set(ids)
    assert isinstance(tagger.head, FeatureHead) and list(tagger.head.tag_ids) == ids
    images = [_thumb("china"), _thumb("chelsea")]
    _, feats = tagger.forward(images)
    z = ((np.log(feats + 0.05) - mean) / scale) @ w + b
    expected = 1 / (1 + np.exp(-z))
    got = tagger.head.scores(feats)
    assert np.allclose([[row[t] for t in ids] for row in got], expected, atol=1e-4)
    # without the head the evidence is different: the head takes part
    bare = LiteTagger(head=None)
    probs = tagger.imagenet_probs(images[:1])
    assert tagger.evidence(images[0], probs[0], features=feats[0]) != bare.evidence(images[0], probs[0])


def test_a_frame_with_nothing_to_see_states_nothing(tagger):
    """A lens-cap frame, a flat colour and static: the classifier is sure of something in
    each (static is "bird" 0.98, a flat blue "sky" 0.88), but none is a fact. A dark star
    field is not static: its stars are still seen."""
    rng = np.random.default_rng(0)
    blank = [Image.new("RGB", (400, 300), c) for c in ((0, 0, 0), (255, 255, 255), (60, 120, 220))]
    static = [Image.fromarray((rng.random((300, 400, 3)) * 255).astype(np.uint8)),
              Image.fromarray(np.repeat((rng.random((300, 400, 1)) * 255).astype(np.uint8), 3, axis=2))]
    assert not any(visible_content(im) for im in blank + static)
    for tags in tagger.tag(blank + static):
        assert list(tags) == []
    sky = np.full((300, 400, 3), 8, np.float32)
    for y, x in zip(rng.integers(0, 298, 300), rng.integers(0, 398, 300)):
        sky[y : y + 2, x : x + 2] = rng.integers(120, 256)
    stars = Image.fromarray(sky.astype(np.uint8))
    assert visible_content(stars)
    # real photos full of fine texture are not static
    assert all(visible_content(_thumb(n)) for n in SAMPLES)


def test_reptiles_and_marsupials_are_wildlife_and_the_sea_s_animals_are_not(tagger):
    """The wildlife mapping once held mammals only: a crocodile, a Komodo dragon, a
    chameleon (gcompris-qt-data's photos, new-package set) and a koala had no wildlife
    evidence at all, and the koala's face counted as a person's. Whales, sharks and the sea
    snake stay out: the classifier also sees them in empty waves (the dev set's seascapes)."""
    ids = tagger.vocab.ids
    for cls, animal in ((49, "Nile crocodile"), (48, "Komodo dragon"), (47, "chameleon"), (105, "koala"),
                        (31, "tree frog"), (107, "jellyfish")):
        probs = np.zeros((1, 1000), np.float32)
        probs[0, cls] = 0.6
        assert tagger.imagenet_evidence(probs)[0][ids.index("wildlife")] > 0.3, animal
    for cls, animal in ((148, "killer whale"), (2, "great white shark"), (65, "sea snake"), (51, "triceratops")):
        probs = np.zeros((1, 1000), np.float32)
        probs[0, cls] = 0.6
        assert tagger.imagenet_evidence(probs)[0][ids.index("wildlife")] < 0.05, animal
