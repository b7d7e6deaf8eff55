"""Mood of a track from its audio descriptors: a transparent nearest-centroid model.

The model is a handful of numbers in ``prompts/music/mood_model.yaml``: the mean and
spread used to standardise the :data:`~creator.music.analysis.DESCRIPTOR_NAMES`
vector, and one centroid per mood in that standardised space. A track's mood scores
are a softmax over minus half the squared distances to the centroids (a Gaussian
with unit variance per mood), so "why is this track calm?" is answered by which
descriptors sit closest to the calm centroid.

Valence and arousal are then the mood scores' weighted mean of each mood's position
in the valence/arousal plane (``prompts/music/moods.yaml``).

The shipped centroids were fitted on the 28 demo tracks; :func:`fit_mood_model`
refits them, and the benchmark reports leave-one-out accuracy (never accuracy on the
tracks a model was fitted on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..resources import load_prompt
from .analysis import DESCRIPTOR_NAMES, TrackAnalysis, descriptor_vector

__all__ = ["MOODS", "MoodModel", "fit_mood_model", "default_mood_model", "mood_positions",
           "apply_moods"]

#: The moods every track is scored on (the folders of the demo library).
MOODS = ("calm", "energetic", "happy", "nostalgic", "tender")


@dataclass(frozen=True)
class MoodModel:
    """Standardisation and per-mood centroids over :data:`DESCRIPTOR_NAMES`."""

    features: tuple[str, ...]
    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    centroids: np.ndarray  # (len(MOODS), F), standardised units
    temperature: float = 1.0

    def scores(self, x: np.ndarray) -> dict[str, float]:
        """Mood scores (sum to 1) of one descriptor vector."""
        z = (np.asarray(x, float) - self.mean) / self.scale
        d2 = ((self.centroids - z) ** 2).sum(axis=1)
        logits = -0.5 * d2 / self.temperature
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {m: round(float(v), 4) for m, v in zip(MOODS, p)}

    def predict(self, x: np.ndarray) -> str:
        s = self.scores(x)
        return max(s, key=s.get)

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "temperature": self.temperature,
            "centroids": {m: [round(float(v), 6) for v in c] for m, c in zip(MOODS, self.centroids)},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "MoodModel":
        feats = tuple(d["features"])
        if feats != DESCRIPTOR_NAMES:
            from ..errors import ConfigError

            raise ConfigError("mood_model.yaml was fitted on other descriptors than this "
                              "version computes; refit it with tests/benchmarks/bench_music.py --fit")
        return cls(features=feats, mean=np.array(d["mean"], float), scale=np.array(d["scale"], float),
                   centroids=np.array([d["centroids"][m] for m in MOODS], float),
                   temperature=float(d.get("temperature", 1.0)))


def fit_mood_model(vectors: np.ndarray, labels: list[str], *, temperature: float = 1.0) -> MoodModel:
    """Fit the model on descriptor vectors (N, F) with one mood label each."""
    X = np.asarray(vectors, float)
    mean = X.mean(axis=0)
    scale = X.std(axis=0) + 1e-9
    Z = (X - mean) / scale
    lab = np.asarray(labels)
    cents = []
    for m in MOODS:
        rows = Z[lab == m]
        cents.append(rows.mean(axis=0) if len(rows) else np.zeros(X.shape[1]))
    return MoodModel(DESCRIPTOR_NAMES, mean, scale, np.array(cents), temperature)


def default_mood_model() -> MoodModel:
    """The shipped model (prompts/music/mood_model.yaml)."""
    return MoodModel.from_dict(load_prompt("music/mood_model.yaml"))


def mood_positions() -> dict[str, tuple[float, float]]:
    """(valence, arousal) of each mood, 0..1, from prompts/music/moods.yaml."""
    data = load_prompt("music/moods.yaml")["moods"]
    return {m: (float(data[m]["valence"]), float(data[m]["arousal"])) for m in MOODS}


def apply_moods(a: TrackAnalysis, model: MoodModel | None = None) -> TrackAnalysis:
    """A copy of ``a`` with ``moods``, ``valence`` and ``arousal`` filled in."""
    if a.silent:
        return a.model_copy(update={"moods": {m: 0.0 for m in MOODS}, "valence": 0.5, "arousal": 0.0})
    model = model or default_mood_model()
    moods = model.scores(descriptor_vector(a))
    pos = mood_positions()
    val = sum(moods[m] * pos[m][0] for m in MOODS)
    aro = sum(moods[m] * pos[m][1] for m in MOODS)
    return a.model_copy(update={"moods": moods, "valence": round(val, 4), "arousal": round(aro, 4)})
