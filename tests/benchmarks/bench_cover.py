"""Cover benchmark: ``python tests/benchmarks/bench_cover.py``

1. A photo cover candidate (each style) from a 12-megapixel JPEG, against the bare
   decode + resize of that photo to the cover size measured in the same run.
   Target: <= 1 s a candidate on 2 cores.
2. The tiny diffusion pipeline (random weights, built here): a cover candidate through
   the stage and ``DiffusionBackend.generate`` against the bare diffusers forward pass
   at the same size and steps.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image  # noqa: E402

from creator.types import MediaItem, MediaKind, NoteContext, Place, Quality  # noqa: E402
from pipelines.cover import CoverRequest, Pipeline, styles  # noqa: E402
from pipelines.cover.pipeline import open_photo  # noqa: E402
from tests.factories import make_photo, sample_image  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def photo_bench(tmp: Path) -> None:
    big = sample_image("china").resize((4032, 3024), Image.Resampling.BICUBIC)
    paths = [make_photo(tmp / f"photo{i}.jpg", big if i == 0 else sample_image(n).resize((4032, 3024)),
                        quality=90) for i, n in enumerate(["china", "flower", "coffee"])]
    items = [MediaItem(path=str(p), id=f"p{i}", kind=MediaKind.photo, width=4032, height=3024,
                       quality=Quality(sharpness=0.8, exposure=0.8, colourfulness=0.5, score=0.8 - i * 0.1))
             for i, p in enumerate(paths)]
    ctx = NoteContext(items=items, places=[Place(name_zh="杭州", name_en="Hangzhou")],
                      start=date(2024, 10, 3), end=date(2024, 10, 4))

    def bare() -> None:  # decode at reduced scale + crop-resize to the cover: the floor
        img = open_photo(paths[0], max_side=1930)
        img.resize((1080, 1440), Image.Resampling.LANCZOS, box=(0, 0, img.height * 0.75, img.height))

    ref = best_of(bare)
    print(f"reference: decode + resize of a 4032x3024 JPEG to 1080x1440: {ref * 1000:.0f} ms")
    pipe = Pipeline()
    pipe(CoverRequest(context=ctx, title="warm-up", style="minimal", n=1))
    for style in styles():
        t = best_of(lambda: pipe(CoverRequest(context=ctx, title="杭州西湖两日｜秋天慢慢走", style=style, n=1)))
        photos = "3 photos" if style == "collage" else "1 photo"
        print(f"  {style:13s} ({photos}): {t * 1000:6.0f} ms  = {t / ref:4.1f}x reference  "
              f"{'OK' if t <= 1.0 else 'OVER 1 s'}")


def diffusion_bench(tmp: Path) -> None:
    import torch

    from pipelines.cover.diffusion import DiffusionBackend
    from tests.pipelines.cover.test_diffusion import build_tiny_sd

    folder = build_tiny_sd(tmp / "tiny-sd")
    backend = DiffusionBackend(str(folder))
    pipe = backend._load()
    size, steps = (112, 144), 2
    ctx = NoteContext(items=[], places=[Place(name_zh="杭州", name_en="Hangzhou")])

    def bare() -> None:
        with torch.inference_mode():
            pipe(prompt="a lake", num_inference_steps=steps, width=size[0], height=size[1],
                 guidance_scale=7.5, generator=torch.Generator("cpu").manual_seed(0))

    def generate() -> None:
        backend.generate("a lake", "blurry", seed=0, width=size[0], height=size[1], steps=steps)

    stage = Pipeline(diffusion=backend)

    def candidate() -> None:
        stage(CoverRequest(context=ctx, title="西湖", style="magazine", n=1, backend="diffusion", steps=steps,
                           diffusion_size=128, width=216))

    bare()
    ref = best_of(bare, 5)
    g = best_of(generate, 5)
    c = best_of(candidate, 5)
    print(f"tiny diffusion, {size[0]}x{size[1]}, {steps} steps: bare forward {ref * 1000:.0f} ms")
    print(f"  DiffusionBackend.generate: {g * 1000:.0f} ms = {g / ref:.2f}x (overhead {1000 * (g - ref):+.0f} ms)")
    print(f"  cover candidate (prompt + generate + layout + title at 216x288): {c * 1000:.0f} ms = "
          f"{c / ref:.2f}x (overhead {1000 * (c - ref):+.0f} ms)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        photo_bench(Path(d))
        diffusion_bench(Path(d))
