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

__all__ = ["main", "build_parser", "progress_bar", "run_unavailable"]

# name → (module, add-parser function, run function); build_parser imports each module.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "tag": ("creator.cli", "add_tag_parser", "run_tag"),
    "samples": ("creator.samples", "add_samples_parser", "run_samples"),
}
# Commands whose module may need an optional extra: one whose third-party dependency is
# missing becomes a stub saying what to install (build_parser); any other import error raises.
_OPTIONAL_COMMANDS: dict[str, tuple[str, str, str]] = {
    "library": ("creator.library_cli", "add_library_parser", "run_library"),
    "music": ("pipelines.soundtrack.cli", "add_music_parser", "run_music"),
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
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="understand on Ray (pip install '.[distributed]'): a local Ray, or the cluster at "
                        "ADDRESS (auto, HOST:PORT, ray://HOST:PORT); needs --out. A PATH may also be a "
                        ".parquet/.jsonl manifest with a 'path' column")
    p.add_argument("--out", metavar="FILE.parquet",
                   help="with --ray: the results, one row per item (the --json fields); a re-run "
                        "skips the items already in it")


def _tag_usage_error(args) -> str | None:
    """One line naming the wrong option of ``creator tag``, or None (may move a PATH that
    argparse took for --ray's ADDRESS back into the paths)."""
    from .distributed import cli_ray_address

    if args.ray is not None:
        try:  # `creator tag --ray photos/ --out r.parquet`: photos/ is a PATH
            args.ray = cli_ray_address(args.ray, args.paths) or "local"
        except CreatorError as e:
            return str(e)
    if args.ray is not None and not args.out:
        return "--ray needs --out FILE.parquet (where the results go)"
    if args.out and args.ray is None:
        return "--out is for --ray (results as Parquet); without --ray use --json"
    return None


def run_tag_ray(args) -> int:
    """``creator tag PATH... --ray [ADDRESS] --out FILE.parquet``."""
    from .assistant import Assistant
    from .config import Settings
    from .models import check_models

    settings = Settings.for_profile(args.profile)
    check_models(settings, ["tagging"])
    address = None if args.ray == "local" else args.ray
    with progress_bar("understanding on Ray", enabled=not args.no_progress) as bar:
        report = Assistant(settings).understand_many(
            args.paths, out=args.out, ray_address=address, progress=lambda d, t: bar("tag", d, t))
    if args.json:
        print(json.dumps({"out": str(report.out), "total": report.total, "processed": report.processed,
                          "skipped": report.skipped, "failed": report.failed, "rows": report.rows,
                          "usable": report.usable, "seconds": round(report.seconds, 3)},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{report.out}: {report.summary()}")
    if report.total == 0:
        print("no photos or clips found in: " + ", ".join(args.paths), file=sys.stderr)
        return 1
    if not report.usable:
        print("creator tag: none of the given paths could be read as a photo or clip", file=sys.stderr)
        return 1
    return 0


def _item_json(item) -> dict:
    from .understanding.records import item_record  # one record for --json and --ray's Parquet rows

    return item_record(item)


def run_tag(args) -> int:
    from .config import Settings
    from .understanding import understand

    problem = _tag_usage_error(args)
    if problem:
        print(f"creator tag: {problem}", file=sys.stderr)
        return 2
    if args.ray is not None:
        return run_tag_ray(args)

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
    if (out / "post").is_dir() and not any(w.startswith("post:") for w in draft.warnings):  # written by this run
        print(f"post: {out / 'post'}  —  ready to post ({len(list((out / 'post').glob('*.jpg')))} images)")
    for w in draft.warnings + draft.context.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if not draft.warnings else 1


# The packages of this project: a module of theirs that fails to import is a bug, never
# a reason to leave a command out.
_PROJECT_PACKAGES = ("creator", "pipelines", "ui", "prompts")


def _install_hint(module: str) -> str:
    """``pip install ...`` for a missing third-party module: the extra of this project
    that declares it when the installed metadata says so, else the module itself."""
    import importlib.metadata
    import re

    wanted = re.sub(r"[-_.]+", "-", module).lower()
    try:
        requires = importlib.metadata.requires("travel-note-creator") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    for line in requires:
        name = re.match(r"[A-Za-z0-9._-]+", line)
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        if name and extra and re.sub(r"[-_.]+", "-", name.group(0)).lower() == wanted:
            return f"pip install 'travel-note-creator[{extra.group(1)}]'"
    return f"pip install {module}"


def _add_unavailable(sub, name: str, missing: str) -> None:
    """``creator NAME`` for a command whose optional dependency ``missing`` is not
    installed: listed in --help as unavailable, and when used it says so in one line."""
    hint = _install_hint(missing)
    # whatever follows the name (options included: no prefix character) is taken as is
    p = sub.add_parser(name, help=f"(unavailable: needs {missing}; {hint})", add_help=False, prefix_chars="\0")
    p.add_argument("_ignored", nargs="*")
    p.set_defaults(_run=("creator.cli", "run_unavailable"), _missing=missing, _hint=hint)


def run_unavailable(args) -> int:
    from .errors import BackendUnavailable

    raise BackendUnavailable(f"needs the Python package {args._missing!r}, which is not installed: {args._hint}")


def build_parser() -> argparse.ArgumentParser:
    """Every command, each imported from its module (``_COMMANDS``, ``_OPTIONAL_COMMANDS``).

    A module of this project that fails to import raises: a typo in a stage is an error,
    not a command that quietly disappears. Only an optional command whose third-party
    dependency is not installed is kept out, as a stub that says what to install."""
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
            top = (e.name or "").split(".")[0]
            if name not in _OPTIONAL_COMMANDS or not top or top in _PROJECT_PACKAGES:
                e.add_note(f"while loading the `creator {name}` command from {module}")
                raise
            _add_unavailable(sub, name, top)
            continue
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
