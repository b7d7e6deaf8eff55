"""`creator caption PATH...` — understand photos and clips, then draft the note's caption."""

from __future__ import annotations

import json
import sys

__all__ = ["add_caption_parser", "run_caption"]


def add_caption_parser(sub) -> None:
    p = sub.add_parser("caption", help="draft a travel-note caption (title, body, hashtags) from photos and clips")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, clips or folders (recursive)")
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="language (default: settings, zh)")
    p.add_argument("--style", default=None, help="guide/攻略, mood/氛围感, minimal/简约 (default: guide)")
    p.add_argument("--hint", action="append", default=[], metavar="TEXT",
                   help="your own words about the trip (repeatable), e.g. 'first time in Kyoto with my parents'")
    p.add_argument("--keyword", action="append", default=[], metavar="WORD", help="a word that must appear (repeatable)")
    p.add_argument("--tone", default=None, help="warm, calm, playful, excited (or 温柔, 平静...)")
    p.add_argument("--no-emoji", action="store_true", help="no emoji in the title and body")
    p.add_argument("--n", type=int, default=1, help="number of alternative drafts (1-10)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same drafts")
    p.add_argument("--backend", choices=["template", "transformers", "openai"], default=None,
                   help="template (default, offline), a local transformers model, or an OpenAI-compatible endpoint")
    p.add_argument("--profile", choices=["lite", "full"], default="lite")
    p.add_argument("--json", action="store_true",
                   help="print JSON: an object with title, body, hashtags, language, style, backend "
                        "(a list of them with --n > 1)")


def run_caption(args) -> int:
    """Understand ``args.paths``, draft, print the post-ready text (or JSON). Returns the exit code."""
    from creator.config import Settings
    from creator.errors import InputError
    from creator.understanding import understand

    from .pipeline_caption import CaptionRequest, Pipeline

    if not 1 <= args.n <= 10:
        raise InputError(f"--n: between 1 and 10 drafts, got {args.n}")
    settings = Settings.for_profile(args.profile)
    if args.backend:
        settings.caption.backend = args.backend
    from creator.models import check_models

    check_models(settings, ["tagging", "caption"])  # every missing model named at once
    context = understand(args.paths, settings, hints=args.hint)
    for w in context.warnings:  # one line per file that could not be read, as `make` does
        print(f"warning: {w}", file=sys.stderr)
    if not context.ok_items:
        print("creator caption: none of the given paths could be read as a photo or clip", file=sys.stderr)
        return 1
    request = CaptionRequest(context=context, language=args.lang, style=args.style, n=args.n, seed=args.seed,
                             keywords=args.keyword, tone=args.tone, emoji=False if args.no_emoji else None)
    captions = Pipeline(settings.caption)(request).captions
    if args.json:
        rows = [c.model_dump(include={"title", "body", "hashtags", "language", "style", "backend", "notes"})
                for c in captions]
        print(json.dumps(rows if args.n > 1 else rows[0], ensure_ascii=False, indent=2))
        return 0
    for k, c in enumerate(captions):
        if len(captions) > 1:
            print(f"—— {k + 1}/{len(captions)} ——")
        print(c.text())
        for note in c.notes:
            print(f"note: {note}", file=sys.stderr)
    return 0
