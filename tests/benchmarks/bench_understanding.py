"""Benchmark: the whole understanding stage on 100 photos of 4000x3000 (load + tag + quality
+ faces + places), next to the classifier's forward pass alone on the same number of
images, and `import creator` next to a bare interpreter start.

    python tests/benchmarks/bench_understanding.py [--n 100]

Figures are printed as photos/s and as ratios to the references measured in the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def make_photos(folder: Path, n: int) -> list[Path]:
    from tests.factories import make_photo, sample_image

    bases = [sample_image(name).resize((4000, 3000)) for name in
             ("china", "flower", "astronaut", "coffee", "chelsea", "rocket", "motorcycle_left")]
    t0 = datetime(2026, 10, 3, 8)
    return [make_photo(folder / f"照片_{k:03d}.jpg", bases[k % len(bases)], taken_at=t0 + timedelta(minutes=7 * k),
                       gps=(30.25 + 0.001 * k, 120.15), quality=90) for k in range(n)]


def bench_import() -> tuple[float, float]:
    def best(code: str) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - t)
        return min(times)

    return best("import creator, creator.types, creator.config"), best("pass")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()

    import torch

    from creator.config import Settings
    from creator.media import load_media
    from creator.understanding import understand_items
    from creator.understanding.backends import get_tagger

    settings = Settings()
    tagger = get_tagger(settings.tagging)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"making {args.n} photos of 4000x3000 ...", flush=True)
        paths = make_photos(Path(tmp), args.n)

        # warm-up: load the models once
        understand_items(load_media(paths[:2]), settings, tagger=tagger)

        t = time.perf_counter()
        items = load_media(paths)
        items = understand_items(items, settings, tagger=tagger)
        stage = time.perf_counter() - t
        assert all(i.ok for i in items), [i.error for i in items if not i.ok][:3]

    model = tagger.model if hasattr(tagger, "model") else None
    ref = None
    if model is not None:
        x = torch.rand(16, 3, 224, 224)
        with torch.inference_mode():
            model(x)
            t = time.perf_counter()
            for _ in range(max(1, args.n // 16)):
                model(x)
            ref = (time.perf_counter() - t) / (max(1, args.n // 16) * 16)

    imp, bare = bench_import()
    print(f"threads: torch={torch.get_num_threads()}")
    print(f"whole stage: {args.n} photos in {stage:.2f} s = {args.n / stage:.1f} photos/s (aim >= 15)")
    if ref:
        print(f"classifier forward alone: {1 / ref:.1f} images/s; stage/forward time ratio = "
              f"{stage / args.n / ref:.2f}x")
    print(f"import creator: {imp * 1000:.0f} ms vs bare python {bare * 1000:.0f} ms "
          f"(+{(imp - bare) * 1000:.0f} ms, {imp / bare:.2f}x)")


if __name__ == "__main__":
    main()
