"""Template caption latency after understanding (target: <= 100 ms a draft).

    python tests/benchmarks/bench_caption.py

Understands four real sample photos with written EXIF (Hangzhou, two days), then times
the template Pipeline for one draft and for n=3, in zh and en, against a reference
measured in the same run: serialising the same NoteContext to JSON
(``context.model_dump_json()``), which any stage pays to hand the context on.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from creator.understanding import understand  # noqa: E402
from pipelines.caption import CaptionRequest, Pipeline  # noqa: E402
from tests.factories import make_photo  # noqa: E402


def timed(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs (after one warm-up)."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shots = [("china", datetime(2024, 10, 3, 8, 10)), ("flower", datetime(2024, 10, 3, 11, 30)),
                 ("coffee", datetime(2024, 10, 4, 9, 0)), ("chelsea", datetime(2024, 10, 4, 17, 40))]
        paths = [make_photo(Path(tmp) / f"杭州_{k}.jpg", name, taken_at=when, gps=(30.25, 120.15))
                 for k, (name, when) in enumerate(shots)]
        t = time.perf_counter()
        context = understand(paths)
        understand_s = time.perf_counter() - t
    print(f"understanding 4 photos: {understand_s * 1000:.0f} ms (not part of the caption figure)")
    print(f"context: places={[p.name_en for p in context.places]} days={context.days} "
          f"tags={[t.id for t in context.top_tags[:6]]}")

    pipe = Pipeline()
    # cold: the first draft of a process parses the phrase banks (YAML) first
    t = time.perf_counter()
    first = pipe(CaptionRequest(context=context, language="zh", seed=1)).captions[0]
    print(f"first draft in this process (parses the phrase banks): {(time.perf_counter() - t) * 1000:.1f} ms")
    print(first.text())
    ref = timed(lambda: context.model_dump_json(), 200)
    print(f"reference, NoteContext -> JSON: {ref * 1000:.3f} ms")
    print(f"{'case':<28}{'ms':>9}{'x reference':>14}{'ms/draft':>10}")
    worst = 0.0
    for lang in ("zh", "en"):
        for style in ("guide", "mood", "minimal"):
            for n in (1, 3):
                req = CaptionRequest(context=context, language=lang, style=style, n=n, seed=1)
                s = timed(lambda: pipe(req), 20)
                worst = max(worst, s / n)
                print(f"{lang} {style:<8} n={n:<14}{s * 1000:>9.2f}{s / ref:>14.1f}{s * 1000 / n:>10.2f}")
    print(f"worst per draft: {worst * 1000:.2f} ms (target <= 100 ms): {'OK' if worst <= 0.1 else 'OVER'}")


if __name__ == "__main__":
    main()
