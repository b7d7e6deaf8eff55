"""``creator carousel PATH... -o DIR [--n N] [--ratio 3:4|1:1|4:3] [--labels] [--lang zh|en]``:
understand the photos and clips, write the carousel images ``DIR/01.jpg`` ... (no cover).

``creator post DRAFT_DIR [-o DIR]``: (re-)export a saved, maybe edited, draft ready to
post into ``DRAFT_DIR/post/`` (see pipelines/carousel/post.py).

Both replace a folder only when it holds nothing but what they write.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["add_carousel_parser", "run_carousel", "add_post_parser", "run_post"]


def add_carousel_parser(subparsers) -> argparse.ArgumentParser:
    from .pipeline_carousel import MAX_IMAGES, RATIOS

    p = subparsers.add_parser("carousel", help="choose, order and crop the trip's photos for an image note",
                              description="Write the carousel images of an image note (01.jpg ...) into DIR.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, clips or folders")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="folder for 01.jpg ... (replaced)")
    p.add_argument("--n", type=int, default=9, help=f"how many images (default 9, at most {MAX_IMAGES})")
    p.add_argument("--ratio", choices=RATIOS, default="3:4", help="one ratio for every image (default 3:4)")
    p.add_argument("--labels", action="store_true", help="set the day and place on each moment's first photo")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the labels (default zh)")
    p.add_argument("--profile", choices=["lite", "full"], default="lite")
    p.set_defaults(func=run_carousel)
    return p


def run_carousel(args: argparse.Namespace, settings=None) -> int:
    from creator.config import Settings
    from creator.errors import InputError
    from creator.types import Draft
    from creator.understanding import understand

    from .pipeline_carousel import MAX_IMAGES, CarouselRequest, Pipeline
    from .post import write_post

    if not 1 <= args.n <= MAX_IMAGES:
        raise InputError(f"--n: between 1 and {MAX_IMAGES}, got {args.n}")
    settings = settings or Settings.for_profile(args.profile)
    out = Path(args.out)
    paths = _inputs_outside(args.paths, out)  # before any work: -o is replaced whole
    context = understand(paths, settings)
    result = Pipeline()(CarouselRequest(context=context, n=args.n, ratio=args.ratio, labels=args.labels,
                                        language=args.lang))
    draft = Draft(language=args.lang, context=context, carousel=result.entries)
    left_out: list[str] = []
    write_post(draft, out.parent, out, warnings=left_out)
    names = {i.id: Path(i.path).name for i in context.items}
    if left_out:  # numbered on without the photos left out
        for f in sorted(out.glob("*.jpg")):
            print(f)
    for e in result.entries if not left_out else []:
        print(f"{out / e.file}\t{names.get(e.item_id, e.item_id)}" + (f"\t{e.label}" if e.label else ""))
    for w in result.warnings + left_out + context.warnings:  # stderr, one line each (README)
        print(f"warning: {_one_line(w)}", file=sys.stderr)
    return 0  # written: a photo left out is a warning, not a failure


def _inputs_outside(paths: list[str], out: Path) -> list[Path]:
    """The photos and clips to read, checked against ``out``, which the carousel replaces
    whole: InputError when a given path is ``out`` or lies inside it (``creator carousel
    trip -o trip`` with photos named 01.jpg...); the images of an earlier carousel in a
    folder under a given one (``carousel trip -o trip/carousel``) are outputs, not photos
    of the trip, and are left out."""
    from creator.errors import InputError
    from creator.media import iter_media_files

    base = os.path.realpath(out)

    def inside(p) -> bool:
        real = os.path.realpath(p)
        return os.path.commonpath([real, base]) == base

    given = [Path(p) for p in paths]
    named = [p for p in given if inside(p)]
    if named:
        raise InputError(f"-o {out}: the carousel replaces that folder, and it holds what is being read "
                         f"({', '.join(p.name for p in named[:3])}{'...' if len(named) > 3 else ''}); "
                         "choose another folder")
    files = iter_media_files(given)
    kept = [f for f in files if not inside(f)]
    return kept if len(kept) != len(files) else given


def _one_line(text: str) -> str:
    """A warning on one line, whatever a file name in it holds (a newline, a tab)."""
    return " ".join(str(text).split())


def add_post_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("post", help="export a saved draft ready to post (images, texts, music, video)",
                              description="Write DRAFT_DIR/post/: 01.jpg the cover, 02.jpg... the carousel, "
                                          "title.txt, body.txt, hashtags.txt, caption.txt, music.m4a, note.mp4.")
    p.add_argument("draft_dir", metavar="DRAFT_DIR", help="a folder holding draft.json")
    p.add_argument("-o", "--out", default=None, metavar="DIR", help="where to write (default DRAFT_DIR/post)")
    p.add_argument("--profile", choices=["lite", "full"], default="lite")
    p.set_defaults(func=run_post)
    return p


def run_post(args: argparse.Namespace, settings=None) -> int:
    from creator.assistant import Assistant
    from creator.config import Settings

    warnings: list[str] = []
    out = Assistant(settings or Settings.for_profile(args.profile)).post(args.draft_dir, out_dir=args.out,
                                                                          warnings=warnings)
    for f in sorted(out.iterdir()):
        print(f)
    for w in warnings:
        print(f"warning: {_one_line(w)}", file=sys.stderr)
    return 0
