"""`creator video DRAFT_DIR [-o FILE]`: render the video of a saved (and maybe edited) draft.

Wired into creator/cli.py with ``add_video_parser(subparsers)``; ``run_video(args)`` returns
the exit status.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

__all__ = ["add_video_parser", "run_video", "load_draft"]

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
                                          "track and excerpt, DRAFT_DIR/cover.png) to an MP4.")
    p.add_argument("draft_dir", type=Path, metavar="DRAFT_DIR")
    p.add_argument("-o", "--output", type=Path, help="the MP4 to write (default DRAFT_DIR/note.mp4)")
    p.add_argument("--size", type=_size, help="9:16 (default), 3:4, 16:9 or WIDTHxHEIGHT")
    p.add_argument("--length", type=float, help="seconds (default: from the items and the excerpt)")
    p.add_argument("--fps", type=int)
    p.set_defaults(func=run_video)
    return p


def load_draft(draft_dir: Path):
    """The Draft saved in ``draft_dir/draft.json``; DraftError when missing or invalid."""
    from pydantic import ValidationError

    from creator.errors import DraftError
    from creator.types import Draft

    path = Path(draft_dir) / "draft.json"
    try:
        return Draft.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DraftError(f"{path}: not found; is {draft_dir} a draft folder?") from None
    except (ValidationError, ValueError) as e:
        raise DraftError(f"{path}: not a valid draft ({str(e).splitlines()[0]})") from None


def run_video(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from creator.config import Settings
    from creator.errors import Cancelled, CreatorError

    from .pipeline import Pipeline, VideoRequest

    console = Console(stderr=True)
    cancel = threading.Event()
    try:
        draft = load_draft(args.draft_dir)
        overrides = {k: v for k, v in (("size", args.size), ("length", args.length), ("fps", args.fps))
                     if v is not None}
        with Progress(TextColumn("[bold]rendering"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("video", total=1.0)
            request = VideoRequest.from_draft(draft, args.draft_dir, args.output, cancel=cancel,
                                              progress=lambda f: bar.update(task, completed=f), **overrides)
            try:
                result = Pipeline(Settings().video)(request)
            except KeyboardInterrupt:
                cancel.set()
                raise Cancelled("render cancelled") from None
    except Cancelled:
        console.print("[yellow]cancelled[/]; no file written")
        return 130
    except CreatorError as e:
        console.print(f"[red]error:[/] {e}")
        return 1
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    console.print(f"{result.path}  {result.width}x{result.height}, {result.duration:.1f} s, "
                  f"{len(result.cuts)} cuts")
    return 0
