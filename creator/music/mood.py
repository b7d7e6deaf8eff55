"""Mood of a track from its audio descriptors: a transparent linear (softmax) model.

The model is a handful of numbers in ``prompts/music/mood_model.yaml``: the names of the
:data:`~creator.music.analysis.DESCRIPTOR_NAMES` entries it reads, the mean and spread
that standardise them, and per mood one weight per descriptor plus a bias. A track's mood
scores are ``softmax(W z + b)`` of its standardised descriptors ``z``, so "why is this
track calm?" is answered by the descriptors with the largest ``weight x value`` for calm.
No scikit-learn at run time: the fitted model is just these arrays.

Two fits give this form (:func:`fit_mood_model`):

- ``"logistic"`` (shipped): multinomial logistic regression with an L2 penalty and
  class-balanced weights (each mood counts the same whatever its number of tracks);
  the penalty ``C`` is chosen by leave-one-out inside the training data;
- ``"centroid"``: nearest centroid with a Gaussian of variance ``temperature`` per mood,
  which is linear too (``W = c / T``, ``b = -|c|^2 / 2T``).

Valence and arousal are then the mood scores' weighted mean of each mood's position in
the valence/arousal plane (``prompts/music/moods.yaml``).

The shipped model was fitted on the 28 demo tracks; tests/benchmarks/bench_music.py
reports its accuracy by leave-one-out and by leaving out whole seed groups (never
accuracy on the tracks a model was fitted on) and ``--fit`` rewrites the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..resources import load_prompt
from .analysis import DESCRIPTOR_NAMES, TEMPO_BANDS, TrackAnalysis, descriptor_vector

__all__ = ["MOODS", "MOOD_FEATURES", "MoodModel", "fit_mood_model", "choose_c", "default_mood_model",
           "mood_positions", "apply_moods"]

#: The moods every track is scored on (the folders of the demo library).
MOODS = ("calm", "energetic", "happy", "nostalgic", "tender")
#: The descriptors the shipped model reads: where the tempo falls (soft bands, see
#: creator.music.analysis.tempo_bands) and how major or minor the harmony is. Tempo and
#: mode are the two strongest cues of musical emotion in listening studies, and on the
#: demo tracks (28 of them, too few to fit timbre) every richer set tried generalised
#: worse; the benchmark prints the comparison.
MOOD_FEATURES = (*(f"tempo_band_{b}" for b in TEMPO_BANDS), "mode_strength")
#: Penalties tried when ``C`` is chosen by leave-one-out (larger: weaker penalty).
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class MoodModel:
    """``softmax(weights @ ((x[features] - mean) / scale) + bias)`` over MOODS."""

    features: tuple[str, ...]
    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    weights: np.ndarray  # (len(MOODS), F)
    bias: np.ndarray  # (len(MOODS),)
    kind: str = "logistic"
    C: float | None = None

    @property
    def columns(self) -> np.ndarray:
        """Positions of ``features`` in a full :func:`descriptor_vector`."""
        return np.array([DESCRIPTOR_NAMES.index(f) for f in self.features], dtype=int)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """Mood probabilities (N, len(MOODS)) of full descriptor vectors (N, len(DESCRIPTOR_NAMES))."""
        X = np.atleast_2d(np.asarray(X, float))[:, self.columns]
        logits = ((X - self.mean) / self.scale) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def scores(self, x: np.ndarray) -> dict[str, float]:
        """Mood scores (sum to 1) of one full descriptor vector."""
        p = self.probabilities(x)[0]
        return {m: round(float(v), 4) for m, v in zip(MOODS, p)}

    def predict(self, x: np.ndarray) -> str:
        s = self.scores(x)
        return max(s, key=s.get)

    def to_dict(self) -> dict:
        r = lambda v: round(float(v), 6)  # noqa: E731
        return {
            "kind": self.kind,
            "C": self.C,
            "features": list(self.features),
            "mean": [r(v) for v in self.mean],
            "scale": [r(v) for v in self.scale],
            "bias": {m: r(b) for m, b in zip(MOODS, self.bias)},
            "weights": {m: [r(v) for v in w] for m, w in zip(MOODS, self.weights)},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "MoodModel":
        from ..errors import ConfigError

        feats = tuple(d["features"])
        unknown = [f for f in feats if f not in DESCRIPTOR_NAMES]
        if unknown or "weights" not in d:
            raise ConfigError("mood_model.yaml does not match the descriptors this version computes "
                              f"({unknown or 'no weights'}); refit it with "
                              "tests/benchmarks/bench_music.py --fit")
        return cls(features=feats, mean=np.array(d["mean"], float), scale=np.array(d["scale"], float),
                   weights=np.array([d["weights"][m] for m in MOODS], float),
                   bias=np.array([d["bias"][m] for m in MOODS], float),
                   kind=str(d.get("kind", "logistic")), C=d.get("C"))


def _fit_logistic(Z: np.ndarray, lab: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression  # fitting only, never at run time

    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    lr.fit(Z, lab)
    W = np.zeros((len(MOODS), Z.shape[1]))
    b = np.full(len(MOODS), -30.0)  # a mood with no training track is never predicted
    for k, m in enumerate(lr.classes_):
        W[MOODS.index(m)] = lr.coef_[k]
        b[MOODS.index(m)] = lr.intercept_[k]
    return W, b


def choose_c(X: np.ndarray, labels: list[str], *, features: tuple[str, ...] = MOOD_FEATURES,
             grid: tuple[float, ...] = C_GRID) -> float:
    """The ``C`` of :data:`C_GRID` with the best leave-one-out accuracy on (X, labels)
    (ties: the stronger penalty). Use it only on training data."""
    X = np.asarray(X, float)
    best, best_acc = grid[0], -1.0
    for C in grid:
        hits = 0
        for i in range(len(labels)):
            keep = np.arange(len(labels)) != i
            m = fit_mood_model(X[keep], [labels[j] for j in np.nonzero(keep)[0]], features=features, C=C)
            hits += m.predict(X[i]) == labels[i]
        acc = hits / len(labels)
        if acc > best_acc + 1e-9:
            best, best_acc = C, acc
    return best


def fit_mood_model(vectors: np.ndarray, labels: list[str], *, features: tuple[str, ...] = MOOD_FEATURES,
                   kind: str = "logistic", C: float | None = None, temperature: float = 4.0) -> MoodModel:
    """Fit the model on full descriptor vectors (N, len(DESCRIPTOR_NAMES)), one mood label each.

    ``features`` picks the descriptors the model reads; ``kind`` is "logistic" (``C``: the
    inverse L2 penalty; None chooses it by leave-one-out on these vectors, see
    :func:`choose_c`) or "centroid" (``temperature``: the per-mood variance). The
    standardisation is fitted here too, so a model fitted inside a cross-validation fold
    has seen nothing of the held-out tracks.
    """
    cols = np.array([DESCRIPTOR_NAMES.index(f) for f in features], dtype=int)
    X = np.asarray(vectors, float)[:, cols]
    mean = X.mean(axis=0)
    scale = X.std(axis=0) + 1e-9
    Z = (X - mean) / scale
    lab = np.asarray(labels)
    if kind == "centroid":
        cents = np.array([Z[lab == m].mean(axis=0) if np.any(lab == m) else np.zeros(Z.shape[1])
                          for m in MOODS])
        W = cents / temperature
        b = -0.5 * (cents ** 2).sum(axis=1) / temperature
        return MoodModel(tuple(features), mean, scale, W, b, kind="centroid")
    if kind != "logistic":
        raise ValueError(f"kind: 'logistic' or 'centroid', not {kind!r}")
    if C is None:
        C = choose_c(vectors, labels, features=features)
    W, b = _fit_logistic(Z, lab, C)
    return MoodModel(tuple(features), mean, scale, W, b, kind="logistic", C=float(C))


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
