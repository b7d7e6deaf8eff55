"""The ``creator music`` command (wired by creator/cli.py): soundtrack tracks for
photos and clips, or for a text.

    creator music [PATH...] [--query TEXT] [--library DIR] [--top N] [--length SECONDS]
                  [--lang zh|en] [--exclude ID] [--pin ID] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

__all__ = ["add_music_parser", "run_music"]


def add_music_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("music", help="pick soundtrack tracks for photos/clips or a text")
    p.add_argument("paths", nargs="*", metavar="PATH", help="photos/clips to understand first")
    p.add_argument("--query", "-q", help='free text, zh or en ("relaxed seaside evening")')
    p.add_argument("--library", type=Path, help="music folder (default: the demo tracks)")
    p.add_argument("--top", type=int, help="how many tracks")
    p.add_argument("--length", type=float, help="video length in seconds (excerpt length)")
    p.add_argument("--lang", choices=["zh", "en"], default=None,
                   help="language of the reasons (default: the query's, else the caption language)")
    p.add_argument("--exclude", action="append", default=[], help="track id, path or title to leave out")
    p.add_argument("--pin", action="append", default=[], help="track id, path or title to always list")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_music)
    return p


def _usage_error(args) -> str | None:
    """One line naming the first bad argument, or None."""
    if args.top is not None and args.top < 1:
        return f"--top: must be 1 or more (got {args.top})"
    if args.length is not None and not (math.isfinite(args.length) and args.length > 0):
        return f"--length: must be a number of seconds above 0 (got {args.length:g})"
    if not args.paths and not (args.query and args.query.strip()):
        return "give PATHs (photos/clips) or --query TEXT"
    return None


def _note_problems(ctx, paths) -> tuple[list[str], bool]:
    """One line per photo/clip that could not be used, and whether any could be."""
    lines = []
    for item in ctx.items:
        if item.error:
            name, err = Path(item.path).name, item.error
            if err.startswith(f"{name}: "):  # name the file as it was given
                err = err[len(name) + 2:]
            lines.append(f"{item.path}: {err}")
    if not ctx.items:
        lines.append("no photos or clips found in: " + ", ".join(str(p) for p in paths))
    return lines, bool(ctx.ok_items)


def run_music(args) -> int:
    from pydantic import ValidationError

    from creator.config import Settings

    from . import Pipeline, SoundtrackRequest

    problem = _usage_error(args)
    if problem:
        print(f"creator music: {problem}", file=sys.stderr)
        return 2
    settings = Settings()
    if args.library is not None:
        settings.music.library = args.library
    try:
        from creator.models import check_models

        check_models(settings, ["tagging", "music"] if args.paths else ["music"])  # all missing at once
        ctx = None
        if args.paths:
            from creator.understanding import understand

            ctx = understand([Path(p) for p in args.paths], settings)
            lines, usable = _note_problems(ctx, args.paths)
            for line in lines:
                print(f"creator music: skipped {line}", file=sys.stderr)
            if not usable:
                print("creator music: none of the given photos or clips could be used, "
                      "so there is no note to match music to", file=sys.stderr)
                return 1
        out = Pipeline(settings)(SoundtrackRequest(
            context=ctx, query=args.query, language=args.lang, length=args.length, top=args.top,
            exclude=args.exclude, pin=args.pin))
    except ValidationError as e:  # a request field the checks above did not cover
        err = e.errors()[0]
        print(f"creator music: --{'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    for w in out.warnings:
        print(f"creator music: warning: {w}", file=sys.stderr)
    if args.json:
        rows = [{"track_id": m.track_id, "title": m.title, "artist": m.artist, "license": m.license,
                 "path": m.path, "score": m.score, "breakdown": m.breakdown, "moods": m.moods,
                 "tempo": m.tempo, "reason": m.reason,
                 "excerpt": {"start": m.excerpt.start, "end": m.excerpt.end} if m.excerpt else None,
                 "beats": m.beats, "downbeats": m.downbeats}
                for m in out.matches]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{out.backend}: {out.query_text}")
    for col in ("#", "title", "license", "score", "mood", "BPM", "excerpt", "reason"):
        table.add_column(col)
    for k, m in enumerate(out.matches, 1):
        mood = max(m.moods, key=m.moods.get) if m.moods else ""
        ex = f"{m.excerpt.start:.1f}-{m.excerpt.end:.1f}s" if m.excerpt else ""
        table.add_row(str(k), m.title, m.license or "", f"{m.score:.3f}", mood,
                      f"{m.tempo:.0f}" if m.tempo else "", ex, m.reason)
    console = Console()
    console.print(table)
    return 0
