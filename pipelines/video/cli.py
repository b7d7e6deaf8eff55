"""`creator video DRAFT_DIR [-o FILE]`: render the video of a saved (and maybe edited) draft;
`creator video DRAFT_DIR --timeline FILE.otio [--relative]`: write its plan as a timeline.

Wired into creator/cli.py with ``add_video_parser(subparsers)``; ``run_video(args)`` returns
the exit status.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

__all__ = ["add_video_parser", "run_video"]

SIZES = {"9:16": (1080, 1920), "3:4": (1080, 1440), "16:9": (1920, 1080)}


def _size(text: str) -> tuple[int, int]:
    if text in SIZES:
        return SIZES[text]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use WIDTHxHEIGHT or one of {', '.join(SIZES)}") from None
    return w, h


def add_video_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("video", help="render the beat-synced video of a saved draft",
                              description="Render DRAFT_DIR/draft.json (items in their order, title, "
                                          "track and excerpt, the chosen cover) to an MP4.")
    p.add_argument("draft_dir", type=Path, metavar="DRAFT_DIR")
    p.add_argument("-o", "--output", type=Path, help="the MP4 to write (default DRAFT_DIR/note.mp4)")
    p.add_argument("--size", type=_size, help="9:16 (default), 3:4, 16:9 or WIDTHxHEIGHT")
    p.add_argument("--length", type=float, help="seconds (default: from the items and the excerpt)")
    p.add_argument("--fps", type=int)
    p.add_argument("--timeline", type=Path, metavar="FILE.otio",
                   help="instead of rendering, write the video's plan as an OpenTimelineIO timeline "
                        "(and FILE.fcpxml / FILE.edl beside it when their adapters are installed), "
                        "to finish the cut in an editor; needs the 'timeline' extra")
    p.add_argument("--relative", action="store_true",
                   help="with --timeline: media paths relative to the timeline file (default absolute)")
    p.set_defaults(func=run_video)
    return p


def _rich_escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def run_video(args: argparse.Namespace) -> int:
    """Load the draft (Draft.load: a newer, damaged or missing draft is refused), check
    the output before any work, render, and when the video is the draft's own
    (inside DRAFT_DIR) record it in draft.json under the draft's lock."""
    import os

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from creator.assistant import Assistant
    from creator.config import Settings
    from creator.drafts import check_output_file, draft_folder, draft_lock
    from creator.errors import Cancelled
    from creator.types import Draft

    console = Console(stderr=True)
    cancel = threading.Event()
    if getattr(args, "timeline", None) is not None:
        return _run_timeline(args, console)
    if getattr(args, "relative", False):
        console.print("error: --relative goes with --timeline FILE.otio", highlight=False, markup=False)
        return 2
    try:
        folder = draft_folder(args.draft_dir)
        draft = Draft.load(folder)
        out = check_output_file(args.output or folder / "note.mp4", field="-o/--output", suffix=".mp4")
        with Progress(TextColumn("[bold]rendering"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("video", total=1.0)
            try:
                result = Assistant(Settings()).video(
                    draft, out=out, draft_dir=folder, cancel=cancel, length=args.length,
                    size=args.size, fps=args.fps, progress=lambda _s, f, _t: bar.update(task, completed=f))
            except KeyboardInterrupt:
                cancel.set()
                raise Cancelled("render cancelled") from None
        if os.path.realpath(out.parent) == os.path.realpath(folder):
            with draft_lock(folder):
                latest = Draft.load(folder)  # edits made meanwhile are kept
                latest.video = result
                latest.save(folder)
    except Cancelled:
        console.print("[yellow]cancelled[/]; no file written")
        return 130
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {_rich_escape(' '.join(str(w).split()))}", soft_wrap=True)  # one line
    console.print(f"{result.path}  {result.width}x{result.height}, {result.duration:.1f} s, "
                  f"{len(result.cuts)} cuts", markup=False, highlight=False, soft_wrap=True)
    return 0


def _run_timeline(args: argparse.Namespace, console) -> int:
    """``--timeline FILE.otio``: the plan of the draft's video as a timeline; nothing rendered."""
    from creator.assistant import Assistant
    from creator.config import Settings
    from creator.drafts import draft_folder
    from creator.types import Draft

    # a CreatorError goes up to creator.cli.main: one line, exit_status's code
    folder = draft_folder(args.draft_dir)
    draft = Draft.load(folder)
    result = Assistant(Settings()).timeline(draft, args.timeline, relative=args.relative, draft_dir=folder,
                                            size=args.size, fps=args.fps, length=args.length)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {_rich_escape(' '.join(str(w).split()))}", soft_wrap=True)  # one line
    written = [result.path, *result.extra.values()]
    console.print(f"{', '.join(written)}  {result.clips} clips, {result.duration:.1f} s", highlight=False)
    return 0
