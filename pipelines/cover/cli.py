"""``creator cover PATH... [-o FILE] [--title TEXT] [--style S] [--backend photo|diffusion]
[--n N] [--ratio 3:4|1:1|9:16]``: understand the photos, write cover candidates.

The first candidate goes to FILE (default ``cover.png``), the others beside it as
``<stem>-2<suffix>``, ``<stem>-3<suffix>``...; the format follows FILE's suffix.
"""

from __future__ import annotations

import argparse
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


def run_cover(args: argparse.Namespace, settings=None) -> int:
    """Run the ``cover`` subcommand; returns the exit status."""
    from creator.config import Settings
    from creator.errors import CreatorError
    from creator.understanding import understand

    from .pipeline import CoverRequest, Pipeline, save_image

    settings = settings or Settings()
    out = Path(args.output)
    fmt = "jpeg" if out.suffix.lower() in (".jpg", ".jpeg") else "png"
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        out = out.with_suffix(".png")
    try:
        from creator.models import check_models

        check_models(settings, ["tagging"] if args.backend == "photo" else ["tagging", "cover"])  # all at once
        context = understand([Path(p) for p in args.paths], settings)
        result = Pipeline(settings.cover)(CoverRequest(
            context=context, title=args.title, style=args.style, backend=args.backend, n=args.n,
            ratio=args.ratio, seed=args.seed, format=fmt))
    except CreatorError as e:
        print(f"creator cover: {e}")
        return 2
    for i, c in enumerate(result.candidates):
        path = out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        save_image(c.image, path, fmt)
        c.cover.path = str(path)
        print(f"{path}\t{c.cover.style}\t{c.cover.source}")
    for w in result.warnings:
        print(f"warning: {w}")
    return 0
