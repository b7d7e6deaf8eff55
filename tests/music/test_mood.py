"""The mood model (a linear softmax stored as numbers) and the top-k helper."""

import numpy as np
import pytest

from creator.music.analysis import DESCRIPTOR_NAMES, analyse, descriptor_vector
from creator.music.decode import DEFAULT_SR, decode
from creator.music.embeddings import top_indices
from creator.music.mood import MOODS, MoodModel, apply_moods, default_mood_model, fit_mood_model
from tests.factories import make_click_track, make_song


def _clusters(rng, per=8, spread=0.3):
    """Descriptor vectors in five well separated clusters, one per mood (the truth)."""
    centres = rng.normal(scale=2.0, size=(len(MOODS), len(DESCRIPTOR_NAMES)))
    X, y = [], []
    for k, m in enumerate(MOODS):
        X.append(centres[k] + spread * rng.normal(size=(per, len(DESCRIPTOR_NAMES))))
        y += [m] * per
    return np.vstack(X), y, centres


@pytest.mark.parametrize("kind", ["logistic", "centroid"])
def test_fit_recovers_known_clusters_and_round_trips(kind):
    rng = np.random.default_rng(1)
    X, y, centres = _clusters(rng)
    model = fit_mood_model(X, y, kind=kind, C=1.0 if kind == "logistic" else None)
    # new points drawn around each centre are assigned to that centre's mood
    fresh = centres + 0.3 * rng.normal(size=centres.shape)
    assert [model.predict(x) for x in fresh] == list(MOODS)
    again = MoodModel.from_dict(model.to_dict())
    np.testing.assert_allclose(again.probabilities(fresh), model.probabilities(fresh), atol=1e-4)
    assert np.allclose(model.probabilities(fresh).sum(axis=1), 1.0)


def test_centroid_kind_is_nearest_centroid():
    rng = np.random.default_rng(2)
    X, y, _ = _clusters(rng, spread=2.0)
    feats = DESCRIPTOR_NAMES[:6]
    model = fit_mood_model(X, y, features=feats, kind="centroid", temperature=3.0)
    Z = (X[:, :6] - model.mean) / model.scale
    cents = np.array([Z[np.array(y) == m].mean(axis=0) for m in MOODS])
    nearest = [MOODS[int(np.argmin(((cents - z) ** 2).sum(axis=1)))] for z in Z]
    assert [model.predict(x) for x in X] == nearest


def test_logistic_c_is_chosen_from_the_grid_when_not_given():
    rng = np.random.default_rng(3)
    X, y, _ = _clusters(rng, per=4)
    model = fit_mood_model(X, y)
    assert model.kind == "logistic" and model.C in (0.03, 0.1, 0.3, 1.0, 3.0)


def test_shipped_model_reads_known_descriptors(tmp_path):
    model = default_mood_model()
    assert set(model.features) <= set(DESCRIPTOR_NAMES)
    assert model.weights.shape == (len(MOODS), len(model.features))
    path, _ = make_click_track(tmp_path / "节拍.wav", bpm=120.0, duration=12.0)
    a = analyse(decode(path), DEFAULT_SR)
    assert len(a.mfcc_mean) == len(a.mfcc_std) == 12 and len(a.contrast) == 7
    assert descriptor_vector(a).shape == (len(DESCRIPTOR_NAMES),)
    assert np.all(np.isfinite(descriptor_vector(a)))
    moods = apply_moods(a).moods
    assert set(moods) == set(MOODS) and abs(sum(moods.values()) - 1) < 1e-3


def test_tempo_confidence_high_for_clicks_low_for_noise(tmp_path):
    path, _ = make_click_track(tmp_path / "c.wav", bpm=100.0, duration=12.0)
    clicks = analyse(decode(path), DEFAULT_SR)
    noise = np.random.default_rng(0).normal(scale=0.1, size=DEFAULT_SR * 12).astype(np.float32)
    hiss = analyse(noise, DEFAULT_SR)
    assert clicks.tempo_confidence > 0.3 > hiss.tempo_confidence, (clicks.tempo_confidence,
                                                                     hiss.tempo_confidence)
    assert clicks.onset_cv < 0.2  # evenly spaced clicks: the onset rate does not vary


def test_top_indices_matches_a_full_stable_sort():
    rng = np.random.default_rng(4)
    s = rng.integers(0, 50, size=5000).astype(np.float32)  # many ties
    full = np.argsort(-s, kind="stable")
    for k in (1, 7, 200, 5000, 9000):
        np.testing.assert_array_equal(top_indices(s, k), full[:k])
    assert top_indices(s, 0).size == 0


def test_descriptor_leaves_out_meaningless_titles():
    from creator.music.analysis import TrackAnalysis
    from creator.music.embeddings import track_descriptor
    from creator.music.library import TrackRecord

    def rec(title):
        return TrackRecord(id="0" * 16, path=f"/x/{title}.opus", size=1, mtime_ns=0, title=title,
                           analysis=TrackAnalysis(duration=30.0, tempo=120.0, mode="major",
                                                  moods={m: 0.2 for m in MOODS}))

    assert "3f2a9c0d1e2b4c5d" not in track_descriptor(rec("3f2a9c0d1e2b4c5d6e7f8a9b0c1d2e3f"))
    assert "0042" not in track_descriptor(rec("0042"))
    assert track_descriptor(rec("海边的黄昏")).startswith("海边的黄昏")


@pytest.mark.parametrize("bpm,root,minor,hats,mood", [
    (68.0, 60, False, None, "calm"),
    (150.0, 64, True, "eighths", "energetic"),
    (118.0, 64, False, "eighths", "happy"),
    (80.0, 65, True, None, "nostalgic"),
    (95.0, 67, False, None, "tender"),
])
def test_shipped_model_hears_tempo_and_mode(tmp_path, bpm, root, minor, hats, mood):
    # synthetic songs placed where listening studies (and the demo library) put each
    # mood: slow major calm, fast minor energetic, brisk major happy, slow minor
    # nostalgic, moderate major tender
    path = make_song(tmp_path / f"{mood}_歌.wav", bpm=bpm, root_midi=root, minor=minor, hats=hats)
    a = apply_moods(analyse(decode(path), DEFAULT_SR))
    assert max(a.moods, key=a.moods.get) == mood, a.moods
