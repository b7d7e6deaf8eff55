"""Benchmark: shots and keyframes of a 60 s 1080p30 clip, on 2 cores.

    python tests/benchmarks/bench_keyframes.py [--gop 30] [--fresh]

The clip is made once with the bundled ffmpeg (4 scenes of real sample photos, slowly
panned, with sensor-like noise, H.264 High profile with B-frames at 12 Mb/s, a keyframe
every ``--gop`` frames like a phone) and cached in the temp folder. Reported:

- reference: decoding every frame of the clip (``ffmpeg -i clip -f null -``), the cost of
  the naive approach, measured in the same run;
- shots: ``probe`` + ``detect_shots`` (cut detection, keyframe times, motion, sharpness);
- frames: ``read_frames`` of every keyframe time at 448 px;
each as wall seconds, CPU seconds (this process and its ffmpeg children), realtime
factor (clip seconds per wall second) and ratio to the reference.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from creator.media import detect_shots, read_frames  # noqa: E402
from creator.media.ffmpeg import ffmpeg_exe, probe, run_ffmpeg  # noqa: E402
from tests.factories import sample_image  # noqa: E402

DURATION = 60
SCENES = ("china", "flower", "astronaut", "coffee")


def make_bench_clip(path: Path, gop: int) -> None:
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    seg = DURATION / len(SCENES)
    args = [ffmpeg_exe(), "-y", "-loglevel", "error"]
    graph = []
    for i, name in enumerate(SCENES):
        still = folder / f"{name}.png"
        if not still.exists():
            sample_image(name).save(still)
        args += ["-loop", "1", "-framerate", "30", "-t", str(seg), "-i", str(still)]
        dx, dy = 20 + 5 * i, 10 - 4 * i
        graph.append(f"[{i}:v]scale=2400:1350,crop=1920:1080:x='200+t*{dx}':y='100+t*{dy}',setsar=1[s{i}]")
    chain = "".join(f"[s{i}]" for i in range(len(SCENES)))
    graph.append(f"{chain}concat=n={len(SCENES)}:v=1,noise=alls=5:allf=t,format=yuv420p[v]")
    tmp = path.with_name(".partial-" + path.name)
    args += ["-filter_complex", ";".join(graph), "-map", "[v]", "-c:v", "libx264",
             "-preset", "superfast", "-profile:v", "high", "-b:v", "12M", "-g", str(gop),
             "-r", "30", "-f", "mp4", str(tmp)]
    subprocess.run(args, check=True)
    tmp.replace(path)


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    c0, t0 = cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gop", type=int, default=30, help="frames between codec keyframes (30 = 1 s)")
    ap.add_argument("--fresh", action="store_true", help="remake the clip")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each measurement (best kept)")
    opts = ap.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 2:
        os.sched_setaffinity(0, cores[:2])  # ffmpeg children inherit it
    cores = sorted(os.sched_getaffinity(0))

    clip = Path(tempfile.gettempdir()) / "creator-bench" / f"keyframes-60s-1080p30-gop{opts.gop}.mp4"
    if opts.fresh or not clip.exists():
        print(f"making {clip} ...", flush=True)
        _, wall, _ = timed(lambda: make_bench_clip(clip, opts.gop))
        print(f"  made in {wall:.1f} s", flush=True)

    load = os.getloadavg()[0]
    info = probe(clip)
    print(f"clip: {info['width']}x{info['height']} {info['fps']:.0f} fps {info['duration']:.1f} s "
          f"{clip.stat().st_size / 1e6:.0f} MB, gop {opts.gop}; cores {cores}; load average {load:.1f}")

    def best(fn):
        runs = [timed(fn) for _ in range(opts.repeat)]
        return min(runs, key=lambda r: r[1])

    _, ref_wall, ref_cpu = best(lambda: run_ffmpeg(["-i", str(clip), "-map", "0:v:0", "-f", "null", "-"]))
    shots, shot_wall, shot_cpu = best(lambda: detect_shots(clip, probe(clip)))
    times = [k for s in shots for k in s.keyframes]
    frames, frame_wall, frame_cpu = best(lambda: read_frames(clip, times, max_side=448))

    d = info["duration"]
    print(f"{'step':<34}{'wall s':>8}{'cpu s':>8}{'x realtime':>12}{'vs ref':>8}")
    for name, wall, c in (("reference: decode every frame", ref_wall, ref_cpu),
                          ("shots + keyframe times", shot_wall, shot_cpu),
                          (f"read {len(frames)} keyframes at 448 px", frame_wall, frame_cpu),
                          ("shots + keyframe images", shot_wall + frame_wall, shot_cpu + frame_cpu)):
        print(f"{name:<34}{wall:>8.2f}{c:>8.2f}{d / wall:>12.1f}{wall / ref_wall:>8.2f}")
    cuts = [round(s.start, 2) for s in shots[1:]]
    print(f"cuts found: {cuts} (true: 15.0, 30.0, 45.0)")
    print("target: shots + keyframes of a 60 s 1080p clip <= 3 s on 2 cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
