"""The ``creator library`` command (wired by creator/cli.py); ``creator music``, which
runs the soundtrack stage, is pipelines/soundtrack/cli.py.

    creator library index [DIR] [--force] [--json] [--ray [ADDRESS]]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_library_parser", "run_library"]


def add_library_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("library", help="manage the music library index")
    sub = p.add_subparsers(dest="library_command", required=True)
    ix = sub.add_parser("index", help="scan and analyse a music folder (incremental)")
    ix.add_argument("dir", nargs="?", type=Path, help="music folder (default: settings, else the demo tracks)")
    ix.add_argument("--force", action="store_true", help="re-analyse every file")
    ix.add_argument("--json", action="store_true", help="print a JSON report")
    ix.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="decode and analyse the new tracks as Ray tasks (pip install '.[distributed]'): "
                         "a local Ray, or the cluster at ADDRESS (auto, HOST:PORT, ray://HOST:PORT); "
                         "the same cache and index file")
    p.set_defaults(func=run_library)
    return p


def run_library(args) -> int:
    from .config import Settings
    from .music.library import default_index_dir, index_library

    settings = Settings()
    analyser = None
    if getattr(args, "ray", None) is not None:
        from .distributed import cli_ray_address
        from .distributed.index import ray_analyser

        given: list = []  # `library index --ray DIR`: DIR is the folder, not an address
        address = cli_ray_address(args.ray, given)
        if given:
            if args.dir is not None:
                print(f"creator library: --ray: {given[0]!r} is not a Ray address and DIR is {args.dir}",
                      file=sys.stderr)
                return 2
            args.dir = Path(given[0])
        analyser = ray_analyser(address, num_cpus_per_task=settings.distributed.index_cpus_per_task)
    library = args.dir or settings.music.library
    # a CreatorError goes up to creator.cli.main: one line, exit_status's code
    if args.json:
        report = index_library(library, default_index_dir(settings), force=args.force,
                               analyser=analyser)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), TextColumn("{task.description}")) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, path: str) -> None:
                bar.update(task, completed=done, total=total, description=Path(path).name[:40])

            report = index_library(library, default_index_dir(settings), force=args.force,
                                   progress=progress, analyser=analyser)
    for w in report.warnings:
        print(f"creator library: warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps({"index": str(report.path), "usable": len(report.index.usable),
                          "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                          "removed": report.removed, "silent": report.silent,
                          "failed": [{"path": p, "error": e} for p, e in report.failed],
                          "warnings": report.warnings,
                          "seconds": round(report.seconds, 3)}, ensure_ascii=False, indent=2))
    else:
        print(report.summary())
        for p, e in report.failed:
            print(f"creator library: skipped {p}: {e}", file=sys.stderr)
        for p in report.silent:
            print(f"creator library: skipped {p}: silent", file=sys.stderr)
    return 0
