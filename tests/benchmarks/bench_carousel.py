"""Carousel benchmark: ``python tests/benchmarks/bench_carousel.py [--n 9] [--photos 9]``

Time per carousel image (choose + crop + encode: the stage over the whole trip, then
each image rendered and written as post/ writes it) against decoding that photo alone
at full size (``creator.media.open_photo(path, max_side=None)``), measured in the same
run on the same 12-megapixel JPEGs. Target: <= 2x the decode.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image  # noqa: E402

from creator.media import open_photo  # noqa: E402
from creator.types import Box, MediaItem, MediaKind, Moment, NoteContext, Quality  # noqa: E402
from pipelines.carousel import SIZES, CarouselRequest, Pipeline, render_entry  # noqa: E402
from pipelines.cover import save_image  # noqa: E402
from tests.factories import make_photo, sample_image  # noqa: E402


def trip(folder: Path, n: int) -> NoteContext:
    names = ["china", "flower", "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera",
             "immunohistochemistry", "retina", "page"]
    t0 = datetime(2024, 10, 3, 9)
    items = []
    for k in range(n):
        name = names[k % len(names)]
        img = sample_image(name).resize((4032, 3024), Image.Resampling.BICUBIC)
        if (k // len(names)) % 2:  # a second round of the samples: mirrored, so no photo repeats
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        p = make_photo(folder / f"照片_{k:02d}_{name}.jpg", img, taken_at=t0 + timedelta(minutes=40 * k), quality=90)
        faces = [Box(x0=0.349, y0=0.114, x1=0.521, y1=0.339)] if name == "astronaut" else []
        items.append(MediaItem(path=str(p), id=f"p{k}", kind=MediaKind.photo, width=4032, height=3024,
                               taken_at=t0 + timedelta(minutes=40 * k),
                               quality=Quality(sharpness=0.8, exposure=0.8, colourfulness=0.5, faces=faces,
                                               score=0.8 - 0.01 * k)))
    moments = [Moment(index=k // 3, day=1 + k // 6, item_ids=[i.id for i in items[k:k + 3]])
               for k in range(0, n, 3)]
    return NoteContext(items=items, moments=moments, days=2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=9, help="carousel images")
    ap.add_argument("--photos", type=int, default=9, help="photos in the trip (the stage chooses among them)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ctx = trip(tmp / "旅行", max(args.n, args.photos))
        paths = [i.path for i in ctx.items]
        open_photo(paths[0], max_side=None)  # warm-up

        def decode_all() -> None:  # the photos shown, each decoded once
            for p in paths[:args.n]:
                open_photo(p, max_side=None)

        def carousel_all() -> None:
            out = Pipeline()(CarouselRequest(context=ctx, n=args.n, labels=True))
            for e in out.entries:
                img = render_entry(e, ctx.item(e.item_id), SIZES[out.ratio], style="bold_sticker")
                save_image(img, tmp / "post" / e.file, "jpeg")
            assert len(out.entries) == args.n, out.skipped

        ref = statistics.median(_times(decode_all, args.repeat)) / args.n
        ours = statistics.median(_times(carousel_all, args.repeat)) / args.n
    print(f"trip of {max(args.n, args.photos)} photos, {args.n} carousel images")
    print(f"decode alone (4032x3024 JPEG, full size): {ref * 1000:.0f} ms a photo")
    print(f"carousel image (choose + crop + label + encode, 1080x1440): {ours * 1000:.0f} ms an image")
    print(f"ratio: {ours / ref:.2f}x the decode  {'OK' if ours <= 2 * ref else 'OVER 2x'}")


def _times(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


if __name__ == "__main__":
    main()
