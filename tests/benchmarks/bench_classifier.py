"""The lite classifier's forward pass alone: images per second, batch 16, 224x224, 2 threads.

This is the reference the whole-stage benchmark compares against. Printed next to it,
from the same run: the same network one image at a time (what batching buys) and the
other per-photo parts of the lite tagger (colour rules, faces, quality) on a 448-px photo.

    python tests/benchmarks/bench_classifier.py [--threads 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _rate(fn, items: int, seconds: float) -> float:
    fn()  # warm up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n * items / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()

    import torch

    from creator.understanding.faces import FaceDetector
    from creator.understanding.lite import LiteTagger, colour_evidence
    from creator.understanding.quality import assess
    from tests.factories import sample_image

    torch.set_num_threads(args.threads)
    tagger = LiteTagger()
    model = tagger._load()
    batch = torch.from_numpy(
        __import__("numpy").stack([LiteTagger.preprocess(sample_image(n)) for n in
                                   ["china", "coffee", "chelsea", "flower"] * 4]))

    def forward16():
        with torch.inference_mode():
            model(batch)

    def forward1():
        with torch.inference_mode():
            model(batch[:1])

    batched = _rate(forward16, 16, args.seconds)
    single = _rate(forward1, 1, args.seconds / 2)
    photo = sample_image("astronaut")
    photo.thumbnail((448, 448))
    detector = FaceDetector()
    faces = detector.detect(photo)
    colour = _rate(lambda: colour_evidence(photo), 1, 3)
    face = _rate(lambda: detector.detect(photo), 1, 5)
    quality = _rate(lambda: assess(photo, faces), 1, 3)

    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"classifier forward, batch 16, 224x224 : {batched:7.1f} images/s  ({1000 / batched:5.1f} ms/image)  = reference 1.00")
    print(f"classifier forward, one at a time      : {single:7.1f} images/s  ({1000 / single:5.1f} ms/image)  = {single / batched:.2f}x reference")
    print(f"colour/light rules (448 px)            : {colour:7.1f} images/s  ({1000 / colour:5.1f} ms/image)  = {colour / batched:.2f}x reference")
    print(f"MTCNN faces (448 px)                   : {face:7.1f} images/s  ({1000 / face:5.1f} ms/image)  = {face / batched:.2f}x reference")
    print(f"quality (448 px)                       : {quality:7.1f} images/s  ({1000 / quality:5.1f} ms/image)  = {quality / batched:.2f}x reference")


if __name__ == "__main__":
    main()
