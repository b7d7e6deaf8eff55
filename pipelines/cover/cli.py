"""``creator cover PATH... [-o FILE] [--title TEXT] [--style S] [--backend photo|diffusion]
[--n N] [--ratio 3:4|1:1|9:16]``: understand the photos, write cover candidates.

The first candidate goes to FILE (default ``cover.png``), the others beside it as
``<stem>-2<suffix>``, ``<stem>-3<suffix>``...; the format follows FILE's suffix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["add_cover_parser", "run_cover"]


def add_cover_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``cover`` subcommand to an argparse ``subparsers`` object."""
    from .crop import RATIOS

    p = subparsers.add_parser("cover", help="make cover images from photos",
                              description="Make cover candidates (photo + title) for a trip.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos or folders")
    p.add_argument("-o", "--output", default="cover.png", metavar="FILE",
                   help="where the first cover goes (.png or .jpg); others get -2, -3... (default: cover.png)")
    p.add_argument("--title", help="the title to set (default: from the place and top tag)")
    p.add_argument("--style", help="one style for every candidate (default: one candidate per style)")
    p.add_argument("--backend", choices=("photo", "diffusion"), help="photo (default) or diffusion")
    p.add_argument("--n", type=int, help="how many candidates (default: 4)")
    p.add_argument("--ratio", choices=RATIOS, help="cover ratio (default: 3:4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first generated image (diffusion)")
    p.set_defaults(func=run_cover)
    return p


def _check_outputs(paths: list[Path], inputs: list[Path]) -> None:
    """Refuse, before any work, outputs that cannot be written or would replace an input.

    Raises InputError naming ``-o`` and the reason: a folder where a file is to go, a
    parent that is a file, a folder that cannot be written in (tried with a temporary
    file: permissions, a read-only disk), or one of the photos being read."""
    from creator.errors import InputError

    originals = {os.path.realpath(p) for p in inputs}
    for path in paths:
        if path.is_dir():
            raise InputError(f"-o {path}: is a folder; give a file name, e.g. {path / 'cover.png'}")
        if os.path.realpath(path) in originals:
            raise InputError(f"-o {path}: is one of the photos being read; give another file name")
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise InputError(f"-o {path}: {folder} is a file, not a folder")
        try:
            fd, probe = tempfile.mkstemp(prefix=".cover-check.", dir=folder)
        except OSError as e:
            why = "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e)).lower()
            raise InputError(f"-o {path}: cannot write in {folder} ({why})") from None
        os.close(fd)
        os.unlink(probe)


def run_cover(args: argparse.Namespace, settings=None) -> int:
    """Run the ``cover`` subcommand; returns the exit status. Errors and one warning line
    per unreadable file go to stderr; the covers written, one per line, to stdout."""
    from creator.config import Settings
    from creator.media import iter_media_files
    from creator.understanding import understand

    from .pipeline import CoverRequest, Pipeline, save_image

    settings = settings or Settings()
    out = Path(args.output)
    if out.is_dir():  # before the suffix is fixed: ``-o photos`` must not become photos.png
        print(f"creator cover: -o {out}: is a folder; give a file name, e.g. {out / 'cover.png'}",
              file=sys.stderr)
        return 2
    fmt = "jpeg" if out.suffix.lower() in (".jpg", ".jpeg") else "png"
    if out.suffix and out.suffix.lower() not in (".png", ".jpg", ".jpeg"):  # -o x.gif wrote x.png unasked
        print(f"creator cover: -o {out}: a cover is written as .png or .jpg; give a name ending in one",
              file=sys.stderr)
        return 2
    if not out.suffix:
        out = out.with_suffix(".png")
    if args.n is not None and not 1 <= args.n <= 16:
        print(f"creator cover: --n: between 1 and 16 candidates, got {args.n}", file=sys.stderr)
        return 2
    n = args.n or settings.cover.n
    outputs = [out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(n)]
    try:
        _check_outputs(outputs, iter_media_files([Path(p) for p in args.paths]))
        from creator.models import check_models

        check_models(settings, ["tagging"] if args.backend == "photo" else ["tagging", "cover"])  # all at once
        context = understand([Path(p) for p in args.paths], settings)
        for w in context.warnings:
            print(f"warning: {w}", file=sys.stderr)
        if not any(i.kind is None or i.kind.value == "photo" for i in context.ok_items):
            print("creator cover: none of the given paths could be read as a photo", file=sys.stderr)
            return 1
        result = Pipeline(settings.cover)(CoverRequest(
            context=context, title=args.title, style=args.style, backend=args.backend, n=args.n,
            ratio=args.ratio, seed=args.seed, format=fmt))
        for path, c in zip(outputs, result.candidates):
            save_image(c.image, path, fmt)
            c.cover.path = str(path)
            print(f"{path}\t{c.cover.style}\t{c.cover.source}")
    except OSError as e:  # the disk filled up or the folder went away while writing
        print(f"creator cover: {e.filename or args.output}: cannot be written ({e.strerror or e})",
              file=sys.stderr)
        return 1
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0
