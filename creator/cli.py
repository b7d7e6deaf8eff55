"""`creator ...` — the command line, thin over the SDK.

Each subcommand's arguments and body live next to the stage they drive
(``add_<name>_parser(subparsers)`` / ``run_<name>(args) -> int``); this module only wires
them, turns a CreatorError into one readable line and an exit code, and holds the
`tag` command of the understanding stage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable

from .errors import CreatorError, exit_status

__all__ = ["main", "build_parser", "progress_bar"]

# name → (module, add-parser function, run function); imported only when used.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "tag": ("creator.cli", "add_tag_parser", "run_tag"),
    "samples": ("creator.samples", "add_samples_parser", "run_samples"),
}
_OPTIONAL_COMMANDS: dict[str, tuple[str, str, str]] = {
    "library": ("creator.music.cli", "add_library_parser", "run_library"),
    "music": ("creator.music.cli", "add_music_parser", "run_music"),
    "caption": ("pipelines.caption.cli", "add_caption_parser", "run_caption"),
    "cover": ("pipelines.cover.cli", "add_cover_parser", "run_cover"),
    "video": ("pipelines.video.cli", "add_video_parser", "run_video"),
    "carousel": ("pipelines.carousel.cli", "add_carousel_parser", "run_carousel"),
    "post": ("pipelines.carousel.cli", "add_post_parser", "run_post"),
    "make": ("creator.cli", "add_make_parser", "run_make"),
    "ui": ("ui.launch", "add_ui_parser", "run_ui"),
    "models": ("creator.models_cli", "add_models_parser", "run_models"),
    "serve": ("creator.service.cli", "add_serve_parser", "run_serve"),
}


class progress_bar:
    """A rich progress bar usable as ``progress(stage, done, total)`` (SDK callbacks).

    Prints to stderr so that ``--json`` output on stdout stays clean.
    """

    def __init__(self, description: str = "working", *, enabled: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            disable=not enabled,
        )
        self._tasks: dict[str, int] = {}
        self._description = description

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, *exc):
        self._progress.stop()

    def __call__(self, stage: str, done: float, total: float) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(f"{self._description}: {stage}", total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


def add_tag_parser(sub) -> None:
    p = sub.add_parser("tag", help="understand photos and clips: tags, place, time, quality")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, clips or folders (recursive)")
    p.add_argument("--json", action="store_true", help="print a JSON array with one object per item")
    p.add_argument("--profile", choices=["lite", "full"], default="lite")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _item_json(item) -> dict:
    return {
        "path": item.path,
        "id": item.id,
        "kind": item.kind.value if item.kind else None,
        "taken_at": item.taken_at.isoformat() if item.taken_at else None,
        "place": (
            {"name_zh": item.place.name_zh, "name_en": item.place.name_en,
             "country": item.place.country_en}
            if item.place else None
        ),
        "tags": [
            {"id": t.id, "label_zh": t.label_zh, "label_en": t.label_en,
             "score": t.score, "source": t.source}
            for t in item.tags
        ],
        "quality": item.quality.model_dump(mode="json") if item.quality else None,
        "error": item.error,
    }


def run_tag(args) -> int:
    from .config import Settings
    from .understanding import understand

    settings = Settings.for_profile(args.profile)
    from .models import check_models

    check_models(settings, ["tagging"])  # a missing model named at once, before any work
    with progress_bar("understanding", enabled=not args.no_progress) as bar:
        ctx = understand(args.paths, settings, progress=bar)
    if not ctx.items:
        print("no photos or clips found in: " + ", ".join(args.paths), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([_item_json(i) for i in ctx.items], ensure_ascii=False, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        from pathlib import Path

        table = Table(title=f"{len(ctx.items)} items")
        for col in ("file", "kind", "taken", "place", "tags", "quality"):
            table.add_column(col)
        for i in ctx.items:
            name = Path(i.path).name
            if i.error:
                table.add_row(name, "-", "-", "-", f"[red]{i.error}[/red]", "-")
                continue
            tags = ", ".join(f"{t.label_en} {t.score:.2f}" for t in i.tags[:5])
            table.add_row(
                name, i.kind.value if i.kind else "-",
                i.taken_at.strftime("%Y-%m-%d %H:%M") if i.taken_at else "-",
                f"{i.place.name_en} / {i.place.name_zh}" if i.place else "-",
                tags, f"{i.quality.score:.2f}" if i.quality else "-",
            )
        Console().print(table)
    if not any(i.ok for i in ctx.items):
        print("creator tag: none of the given paths could be read as a photo or clip", file=sys.stderr)
        return 1
    return 0


def add_make_parser(sub) -> None:
    p = sub.add_parser("make", help="one click: understand, caption, soundtrack, cover (and video) into a folder")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, clips or folders (recursive)")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for draft.json, caption.md, cover.png, note.mp4")
    p.add_argument("--video", action="store_true", help="also render note.mp4")
    p.add_argument("--force", action="store_true",
                   help="replace a draft already in OUTDIR (a newer or unreadable one is never replaced)")
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the note (default zh)")
    p.add_argument("--style", default=None, help="caption style (guide, mood, minimal)")
    p.add_argument("--hint", action="append", default=[], help="your own words about the trip (repeatable)")
    p.add_argument("--profile", choices=["lite", "full"], default="lite")
    p.add_argument("--no-progress", action="store_true")


def run_make(args) -> int:
    from pathlib import Path

    from .assistant import Assistant
    from .config import Settings

    assistant = Assistant(Settings.for_profile(args.profile))
    with progress_bar("making the note", enabled=not args.no_progress) as bar:
        draft = assistant.create(args.paths, language=args.lang, style=args.style, hints=args.hint,
                                 video=args.video, out_dir=args.out, progress=bar, overwrite=args.force)
    out = Path(args.out)
    print(f"draft: {out / 'draft.json'}")
    if draft.caption:
        print(f"caption: {out / 'caption.md'}  —  {draft.caption.title}")
    if draft.track:
        print(f"music: {draft.track.title} ({draft.track.license or 'license unknown'}) — {draft.track.reason}")
    if draft.cover and draft.cover.path:
        print(f"cover: {draft.cover.path}")
    if draft.video:
        print(f"video: {draft.video.path} ({draft.video.duration:.1f} s)")
    if (out / "post").is_dir():
        print(f"post: {out / 'post'}  —  ready to post ({len(list((out / 'post').glob('*.jpg')))} images)")
    for w in draft.warnings + draft.context.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if not draft.warnings else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creator",
        description="Travel-note creation assistant: understand a trip's photos and clips, "
        "then draft caption, soundtrack, cover and video. Works offline.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, add, run) in {**_COMMANDS, **_OPTIONAL_COMMANDS}.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] in ("creator", "pipelines", "ui"):
                continue  # that stage is not part of this version
            raise
        getattr(mod, add)(sub)
        sub.choices[name].set_defaults(_run=(module, run))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module, run = args._run
    fn: Callable = getattr(importlib.import_module(module), run)
    try:
        return int(fn(args) or 0)
    except CreatorError as e:
        print(f"creator {args.command}: {e}", file=sys.stderr)
        return exit_status(e)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `creator ... | head`: the reader has gone, say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # a disk or permission problem the checks before the work could not see
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        print(f"creator {args.command}:{where}: {e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
