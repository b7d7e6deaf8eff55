"""Benchmark: the whole understanding stage on 100 photos of 4000x3000 (load + tag + quality
+ faces + places), next to the classifier's forward pass alone on the same number of
images, and `import creator` next to a bare interpreter start.

    python tests/benchmarks/bench_understanding.py [--n 100]

Figures are printed as photos/s and as ratios to the references measured in the same run.
"""

from __future__ import annotations

import argparse
import os
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
             ("china", "flower", "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")]
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
        # flush the ~300 MB just written: the kernel's writeback would otherwise compete
        # with the timed stage for the two cores
        if hasattr(os, "sync"):
            os.sync()

        # warm-up: load the models once
        understand_items(load_media(paths[:2]), settings, tagger=tagger)

        t = time.perf_counter()
        items = load_media(paths)
        items = understand_items(items, settings, tagger=tagger)
        stage = time.perf_counter() - t
        assert all(i.ok for i in items), [i.error for i in items if not i.ok][:3]

    # reference: the classifier's forward pass alone on 224x224 inputs, in the stage's
    # forward batch (FORWARD_BATCH) on 1 and 2 torch threads (the stage runs it on 1
    # thread beside two worker threads), and in batches of 16 on 1 thread
    from creator.understanding.lite import FORWARD_BATCH

    model = tagger._load() if hasattr(tagger, "_load") else None
    refs = {}
    if model is not None:
        x = torch.rand(16, 3, 224, 224).contiguous(memory_format=torch.channels_last)
        before = torch.get_num_threads()
        for threads, batch in ((1, FORWARD_BATCH), (2, FORWARD_BATCH), (1, 16)):
            torch.set_num_threads(threads)
            with torch.inference_mode():
                model(x[:batch])
                reps = max(1, args.n // 16)
                t = time.perf_counter()
                for _ in range(reps):
                    for i in range(0, 16, batch):
                        model(x[i:i + batch])
                refs[threads, batch] = (time.perf_counter() - t) / (reps * 16)
        torch.set_num_threads(before)

    imp, bare = bench_import()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"whole stage: {args.n} photos in {stage:.2f} s = {args.n / stage:.1f} photos/s (aim >= 15)")
    for (threads, batch), ref in refs.items():
        print(f"classifier forward alone, {threads} thread(s), batch {batch}: {1 / ref:.1f} images/s; "
              f"whole stage takes {stage / args.n / ref:.2f}x the forward's time per photo")
    print(f"import creator: {imp * 1000:.0f} ms vs bare python {bare * 1000:.0f} ms "
          f"(+{(imp - bare) * 1000:.0f} ms, {imp / bare:.2f}x)")


if __name__ == "__main__":
    main()
