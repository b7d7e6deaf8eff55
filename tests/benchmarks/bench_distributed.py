"""Benchmark: batch understanding and music indexing locally and on a local Ray.

    python tests/benchmarks/bench_distributed.py [--n 200] [--tracks 28]

- photos/s for N photos (the real photos of ~/.cache/dev_photos/photos repeated, else
  the factories' sample photos at 4000x3000): ``understand`` in this process (models
  warm), then ``understand_many`` on a local Ray with 1 and with 2 workers (CPUs; one
  tagging actor each), timed from the call to the finished Parquet file — actor start and
  model loading in each actor included, Ray's own start not (printed apart);
- tracks/s for indexing the demo library (28 tracks, ~30 s each) with ``force``: locally,
  then with the analysis as Ray tasks on 1 and 2 workers (workers warmed by a first index).

Ratios are to the local figure of the same run. Other processes on the machine skew all of
them alike; the machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEV_PHOTOS = Path.home() / ".cache" / "dev_photos" / "photos"


def make_photos(folder: Path, n: int) -> str:
    folder.mkdir(parents=True)
    real = sorted(p for p in DEV_PHOTOS.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")) \
        if DEV_PHOTOS.is_dir() else []
    if real:
        for k in range(n):
            src = real[k % len(real)]
            shutil.copyfile(src, folder / f"照片_{k:03d}{src.suffix.lower()}")
        return f"{len(real)} real photos of {DEV_PHOTOS} repeated"
    from tests.factories import make_photo, sample_image

    bases = [sample_image(name).resize((4000, 3000)) for name in ("china", "flower", "astronaut", "coffee", "chelsea")]
    for k in range(n):
        make_photo(folder / f"照片_{k:03d}.jpg", bases[k % len(bases)])
    return "factory sample photos at 4000x3000"


def ray_init(cpus: int) -> float:
    import ray

    from creator.distributed import worker_runtime_env

    t = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             runtime_env=worker_runtime_env())
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--skip-photos", action="store_true")
    ap.add_argument("--skip-tracks", action="store_true")
    args = ap.parse_args()

    import ray

    from creator.config import DistributedSettings, Settings
    from creator.distributed.data import understand_many
    from creator.distributed.index import ray_analyser
    from creator.music.library import default_library_dir, index_library
    from creator.understanding import understand

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_photos:
            what = make_photos(tmp / "照片", args.n)
            settings = Settings(cache_dir=tmp / "cache")
            understand(sorted((tmp / "照片").iterdir())[:4], settings)  # models loaded: a warm process
            t = time.perf_counter()
            ctx = understand([tmp / "照片"], settings)
            local = args.n / (time.perf_counter() - t)
            print(f"[photos] {args.n} photos ({what}); local understand: {local:.2f} photos/s "
                  f"({sum(1 for i in ctx.items if i.error)} errors)")
            for w in args.workers:
                startup = ray_init(w)
                s = Settings(cache_dir=tmp / "cache", distributed=DistributedSettings(understand_actors=w))
                out = tmp / f"ray{w}.parquet"
                t = time.perf_counter()
                report = understand_many([tmp / "照片"], out=out, settings=s)
                rate = args.n / (time.perf_counter() - t)
                ray.shutdown()
                print(f"[photos] Ray, {w} worker(s): {rate:.2f} photos/s = {rate / local:.2f}x local "
                      f"(per worker {rate / w:.2f}); Ray start {startup:.1f} s apart; "
                      f"{report.processed} rows, {report.failed} errors")

        if not args.skip_tracks:
            lib = default_library_dir()
            n = sum(1 for p in lib.rglob("*") if p.suffix.lower() in (".opus", ".ogg", ".mp3", ".wav", ".flac", ".m4a"))
            index_library(lib, tmp / "warm", force=True)  # librosa imported and compiled here
            t = time.perf_counter()
            report = index_library(lib, tmp / "local", force=True)
            local_t = n / (time.perf_counter() - t)
            print(f"[tracks] {n} demo tracks; local index: {local_t:.2f} tracks/s ({len(report.failed)} failed)")
            for w in args.workers:
                startup = ray_init(w)
                analyser = ray_analyser()
                index_library(lib, tmp / f"warm{w}", force=True, analyser=analyser)  # workers warm
                t = time.perf_counter()
                report = index_library(lib, tmp / f"ray{w}", force=True, analyser=analyser)
                rate = n / (time.perf_counter() - t)
                ray.shutdown()
                print(f"[tracks] Ray, {w} worker(s): {rate:.2f} tracks/s = {rate / local_t:.2f}x local "
                      f"(per worker {rate / w:.2f}); Ray start {startup:.1f} s apart; {len(report.failed)} failed")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
