"""Benchmark: a 30 s 1080x1920 video from 12 photos (4000x3000 / 3000x4000) and 2 clips with
music, next to a reference render of the same photos and length by one plain ffmpeg
command (each photo scaled once, zoompan, concat, libx264 veryfast), timed in the same run.

    python tests/benchmarks/bench_video.py [--length 30] [--size 1080x1920] [--keep DIR]

Prints the realtime factor (seconds of video per wall second) of both, their ratio, and
the peak memory (ru_maxrss via wait4) of each render: its process and its ffmpeg.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NAMES = ("china", "flower", "astronaut", "coffee", "chelsea", "rocket")


def make_media(folder: Path, length: float):
    from PIL import ImageOps

    from creator.types import Box, ClipInfo, Excerpt, MediaItem, Quality, Shot, TrackMatch
    from tests.factories import make_click_track, make_clip, make_photo, sample_image

    items, photos = [], []
    for k in range(12):
        size = (3000, 4000) if k % 3 == 2 else (4000, 3000)  # a third of them upright
        img = ImageOps.fit(sample_image(NAMES[k % len(NAMES)]), (size[0] // 8, size[1] // 8)).resize(size)
        if k >= len(NAMES):
            img = ImageOps.mirror(img)
        p = make_photo(folder / f"照片_{k:02d}.jpg", img, quality=90)
        photos.append(p)
        q = Quality(sharpness=0.7, exposure=0.8, colourfulness=0.6, score=0.7,
                    subject=Box(x0=0.35, y0=0.3, x1=0.65, y1=0.6))
        items.append(MediaItem(path=str(p), id=f"p{k}", kind="photo", width=size[0], height=size[1], quality=q))
        if k in (3, 8):
            landscape = k == 3
            w, h = (1920, 1080) if landscape else (1080, 1920)
            c = make_clip(folder / f"视频_{k}.mp4", duration=6.0, size=(w, h), fps=30, scenes=2)
            items.append(MediaItem(path=str(c), id=f"c{k}", kind="clip", clip=ClipInfo(
                duration=6.0, fps=30, width=w, height=h, has_audio=True,
                shots=[Shot(start=0, end=3, sharpness=0.8, motion=0.1), Shot(start=3, end=6, sharpness=0.6)])))
    track_path, beats = make_click_track(folder / "music.wav", bpm=100, duration=length + 8, sr=44100)
    track = TrackMatch(track_id="t", title="click", path=str(track_path), score=1.0,
                       excerpt=Excerpt(start=0.0, end=length + 8), beats=[float(b) for b in beats])
    cover = make_photo(folder / "cover.png", sample_image("astronaut").resize((1080, 1440)))  # 3:4, as the cover stage makes
    return items, photos, track, cover


def reference_command(photos: list[Path], out: Path, size: tuple[int, int], fps: int, length: float) -> list[str]:
    from tests.factories import ffmpeg

    w, h = size
    n = round(length * fps / len(photos))
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
    chains = []
    for i, p in enumerate(photos):
        cmd += ["-i", str(p)]
        chains.append(f"[{i}:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},"
                      f"zoompan=z='min(zoom+0.0015,1.5)':d={n}:s={w}x{h}:fps={fps},setsar=1[v{i}]")
    chains.append("".join(f"[v{i}]" for i in range(len(photos))) + f"concat=n={len(photos)}:v=1:a=0[out]")
    return cmd + ["-filter_complex", ";".join(chains), "-map", "[out]", "-c:v", "libx264", "-preset",
                  "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)]


def measured(fn) -> tuple[float, float, float]:
    """Run ``fn`` in a forked child; its wall time, CPU time (user + system) and peak RSS
    (MB) of the child and everything it waited for (ffmpeg), as wait4 reports them."""
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            fn()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the render failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--length", type=float, default=30.0)
    ap.add_argument("--size", default="1080x1920")
    ap.add_argument("--keep", type=Path, help="copy the two videos here")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    fps = 30

    from pipelines.video import Pipeline, VideoRequest

    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        items, photos, track, cover = make_media(tmp / "媒体", args.length)
        print(f"media made in {time.perf_counter() - t:.1f} s (12 photos, 2 clips of 6 s, music, a 3:4 cover)")

        out = tmp / "note.mp4"

        def render() -> None:
            result = Pipeline()(VideoRequest(
                items=items, output=out, track=track, cover_path=cover, title="西湖三日 · 杭州",
                captions={"p0": "第1天 · 西湖", "p5": "第2天 · 灵隐寺", "c8": "游船"},
                size=size, fps=fps, length=args.length))
            (tmp / "result.json").write_text(result.model_dump_json())

        ours, ours_cpu, ours_peak = measured(render)
        from creator.types import VideoResult

        result = VideoResult.model_validate_json((tmp / "result.json").read_text())

        ref_out = tmp / "reference.mp4"
        ref, ref_cpu, ref_peak = measured(lambda: subprocess.run(
            reference_command(photos, ref_out, size, fps, args.length), check=True))

        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, args.keep / "note.mp4")
            shutil.copy(ref_out, args.keep / "reference.mp4")

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
    print(f"video: {result.duration:.2f} s at {size[0]}x{size[1]}, {len(result.cuts)} cuts, warnings: {result.warnings}")
    print(f"pipeline:  {ours:6.1f} s wall  realtime factor {result.duration / ours:.2f}x   CPU {ours_cpu:6.1f} s")
    print(f"reference: {ref:6.1f} s wall  realtime factor {args.length / ref:.2f}x   CPU {ref_cpu:6.1f} s"
          "  (photos only: zoompan+concat)")
    print(f"pipeline / reference: wall time {ours / ref:.2f}, CPU time {ours_cpu / ref_cpu:.2f}  (aim <= 1.5)")
    print(f"if the 2 cores were free (CPU time / 2, perfect parallelism): pipeline "
          f"{result.duration / (ours_cpu / 2):.2f}x, reference {args.length / (ref_cpu / 2):.2f}x realtime")
    print(f"peak memory (RSS of the render process and its ffmpeg): pipeline {ours_peak:.0f} MB, "
          f"reference {ref_peak:.0f} MB  (aim < 2048 MB)")
    print(f"load average during the run: {load}  (2 cores, shared)")


if __name__ == "__main__":
    main()
