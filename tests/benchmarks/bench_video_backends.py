"""Benchmark: the moviepy backend against the ffmpeg filter graph, the same plan in the
same run (bench_video.py's media: 4000x3000 photos, two 1080p clips with sound, music,
a 3:4 cover, a title and captions).

    python tests/benchmarks/bench_video_backends.py [--length 10] [--size 1080x1920] [--rounds 2] [--keep DIR]

Each render runs in a forked child; its wall time, CPU time and peak RSS (ru_maxrss of
the child and the processes it waited for: the render's Python and its ffmpeg) come
from wait4. The backends alternate, ``--rounds`` times each; the best time of each is
compared. Prints moviepy / ffmpeg ratios (aim: within 2x).
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

from tests.benchmarks.bench_video import make_media, measured  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--length", type=float, default=10.0)
    ap.add_argument("--size", default="1080x1920")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="copy the two videos here")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    from creator.config import VideoSettings
    from pipelines.video import Pipeline, VideoRequest

    with tempfile.TemporaryDirectory(prefix="bench-video-backends-") as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        items, _, track, cover = make_media(tmp / "媒体", args.length)
        print(f"media made in {time.perf_counter() - t:.1f} s")

        def render(backend: str) -> None:
            out = tmp / f"{backend}.mp4"
            result = Pipeline(VideoSettings(backend=backend))(VideoRequest(
                items=items[:8], output=out, track=track, cover_path=cover, title="西湖三日 · 杭州",
                captions={"p0": "第1天 · 西湖", "p5": "第2天 · 灵隐寺"}, size=size, fps=30, length=args.length))
            (tmp / f"{backend}.json").write_text(result.model_dump_json())

        runs: dict[str, list[tuple[float, float, float]]] = {"ffmpeg": [], "moviepy": []}
        for _ in range(args.rounds):
            for backend in runs:
                runs[backend].append(measured(lambda b=backend: render(b)))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for backend in runs:
                shutil.copy(tmp / f"{backend}.mp4", args.keep / f"{backend}.mp4")
        from creator.types import VideoResult

        result = VideoResult.model_validate_json((tmp / "moviepy.json").read_text())

    best = {b: min(r, key=lambda v: v[0]) for b, r in runs.items()}
    peak = {b: max(v[2] for v in r) for b, r in runs.items()}
    print(f"video: {result.duration:.2f} s at {size[0]}x{size[1]}, {len(result.cuts)} cuts")
    for b in runs:
        wall, cpu, _ = best[b]
        print(f"{b:8s} best of {args.rounds}: {wall:6.1f} s wall ({result.duration / wall:.2f}x realtime), "
              f"CPU {cpu:6.1f} s, peak RSS {peak[b]:.0f} MB   all walls: "
              + ", ".join(f"{v[0]:.1f}" for v in runs[b]))
    (fw, fc, _), (mw, mc, _) = best["ffmpeg"], best["moviepy"]
    print(f"moviepy / ffmpeg: wall time {mw / fw:.2f}, CPU time {mc / fc:.2f}, peak memory "
          f"{peak['moviepy'] / peak['ffmpeg']:.2f}  (aim: within 2x)")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
    print(f"load average after the run: {load}  ({os.cpu_count()} cores, shared)")


if __name__ == "__main__":
    main()
