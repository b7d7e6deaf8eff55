"""The Assistant: the one front door of the SDK.

    >>> from creator import Assistant
    >>> a = Assistant()                                     # the lite profile, offline
    >>> draft = a.create(["trip/"], language="zh", out_dir="note/")   # doctest: +SKIP
    >>> draft.caption.title                                   # doctest: +SKIP

One method per stage (``understand``, ``caption``, ``soundtrack``, ``cover``, ``video``)
and ``create`` that chains them. Each stage can be re-run on an edited draft. Stages
and their models are built lazily, once per Assistant, under a lock, so one Assistant
can serve concurrent requests (an app backend); the tagging models are shared by the
whole process.
"""

from __future__ import annotations

import shutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import CreatorError, InputError
from .types import Caption, Cover, Draft, NoteContext, TrackMatch, VideoResult

__all__ = ["Assistant", "Progress"]

# progress(stage, done, total)
Progress = Callable[[str, float, float], None]

# Length of the video (and so of the music excerpt) for a number of items: a few
# seconds each plus the cover, within the 15–60 s that suits a note.
SECONDS_PER_ITEM = 2.5
INTRO_SECONDS = 2.0


def planned_length(n_items: int) -> float:
    return float(min(60.0, max(15.0, INTRO_SECONDS + SECONDS_PER_ITEM * max(1, n_items))))


class Assistant:
    """Understand → caption → soundtrack → cover → video, from one Settings object.

    Parameters
    ----------
    settings : Settings; default: ``Settings.for_profile(profile)``.
    profile : "lite" (default: offline, packaged weights) or "full".
    """

    def __init__(self, settings: Settings | None = None, *, profile: str = "lite") -> None:
        self.settings = settings or Settings.for_profile(profile)
        self._lock = threading.RLock()
        self._stages: dict[str, Any] = {}

    # --- stages, built once ---------------------------------------------------------
    def _stage(self, name: str):
        with self._lock:
            if name not in self._stages:
                s = self.settings
                if name == "caption":
                    from pipelines.caption import Pipeline

                    self._stages[name] = Pipeline(s.caption)
                elif name == "soundtrack":
                    from pipelines.soundtrack import Pipeline

                    self._stages[name] = Pipeline(s)
                elif name == "cover":
                    from pipelines.cover import Pipeline

                    self._stages[name] = Pipeline(s.cover)
                elif name == "video":
                    from pipelines.video import Pipeline

                    self._stages[name] = Pipeline(s.video)
                else:  # pragma: no cover - internal names only
                    raise KeyError(name)
            return self._stages[name]

    # --- understanding ----------------------------------------------------------------
    def understand(self, media: Iterable[str | Path] | str | Path, *, hints: Sequence[str] | None = None,
                   progress: Progress | None = None) -> NoteContext:
        """Photos, clips or folders → NoteContext (see creator.understanding.understand)."""
        from .understanding import understand

        return understand(media, self.settings, hints=hints, progress=progress)

    # --- caption ------------------------------------------------------------------------
    def caption(self, context: NoteContext | Draft, *, language: str | None = None, style: str | None = None,
                n: int = 1, seed: int = 0, hints: Sequence[str] | str | None = None,
                keywords: Sequence[str] | None = None, tone: str | None = None) -> list[Caption]:
        """``n`` caption drafts (title, body, hashtags) for the trip."""
        from pipelines.caption import CaptionRequest

        ctx = _context(context)
        hints = [hints] if isinstance(hints, str) else list(hints or ctx.hints)
        request = CaptionRequest(context=ctx, language=language or _language(context, self.settings),
                                 style=style, n=n, seed=seed, hints=hints, keywords=list(keywords or []),
                                 tone=tone)
        return self._stage("caption")(request).captions

    # --- soundtrack --------------------------------------------------------------------
    def soundtrack(self, context: NoteContext | Draft | None = None, *, query: str | None = None,
                   length: float | None = None, top: int | None = None, language: str | None = None,
                   exclude: Sequence[str] = (), pin: Sequence[str] = (),
                   library: str | Path | None = None) -> list[TrackMatch]:
        """Tracks of the music library matched to the note and/or a free-text query.

        ``library``: a music folder other than the configured one (indexed on first use,
        e.g. a folder holding the user's own upload, which ``pin`` can then put first).
        """
        from pipelines.soundtrack import SoundtrackRequest

        ctx = _context(context) if context is not None else None
        if length is None and ctx is not None:
            length = planned_length(len(ctx.ok_items))
        # a draft answers in its own language; otherwise the stage follows the query's
        request = SoundtrackRequest(context=ctx, query=query, length=length, top=top,
                                    language=language or (context.language if isinstance(context, Draft) else None),
                                    exclude=list(exclude), pin=list(pin),
                                    library=Path(library) if library else None)
        stage = self._stage("soundtrack")
        with self._lock:  # the first call indexes the library; later calls only read it
            stage.library_matrix(request.library)
        return stage(request).matches

    def music_map(self, library: str | Path | None = None) -> list[dict]:
        """Every usable library track as a point of the mood map: track_id, title,
        duration (s), valence, energy (0..1) and its strongest mood."""
        stage = self._stage("soundtrack")
        with self._lock:
            index, _, _ = stage.library_matrix(Path(library) if library else None)
        points = []
        for t in index.usable:
            a = t.analysis
            moods = dict(getattr(a, "moods", {}) or {})
            points.append({
                "track_id": t.id, "title": t.title, "duration": float(a.duration),
                "valence": float(getattr(a, "valence", 0.5)),
                "energy": float(getattr(a, "arousal", getattr(a, "energy", 0.5))),
                "mood": max(moods, key=moods.get) if moods else None,
            })
        return points

    def excerpt(self, track: TrackMatch, *, start: float, end: float | None = None,
                library: str | Path | None = None) -> TrackMatch:
        """The track with its excerpt moved by the user: ``start`` snapped to the nearest
        beat, ``end`` (default: keep the length) to the nearest beat after it, and the
        beats and downbeats inside recomputed, so the video stays on the beat."""
        from .music.analysis import analyse
        from .music.decode import decode

        if track.excerpt is None and end is None:
            raise InputError("end: the track has no excerpt yet, so give the end")
        length = (end - start) if end is not None else track.excerpt.duration
        if length <= 0:
            raise InputError(f"end: must come after start ({start:.2f} s)")
        stage = self._stage("soundtrack")
        with self._lock:
            index, _, _ = stage.library_matrix(Path(library) if library else None)
        record = index.by_id().get(track.track_id)
        analysis = record.analysis if record is not None and record.analysis is not None else None
        if analysis is None:  # a track from another library: analyse the file itself
            analysis = analyse(decode(track.path), 22050)
        beats = sorted({0.0, *analysis.beats})  # the very start is always a valid start
        s = min(beats, key=lambda b: abs(b - start))
        s = max(0.0, min(s, max(0.0, analysis.duration - 0.5)))
        after = [b for b in beats if b > s]
        target = end if end is not None else s + length
        e = min(after, key=lambda b: abs(b - target)) if after else analysis.duration
        e = min(max(e, s + 0.5), analysis.duration)

        def inside(times):
            return [round(t - s, 3) for t in times if s - 1e-6 <= t < e - 1e-6]

        from .types import Excerpt

        return track.model_copy(update={"excerpt": Excerpt(start=round(s, 3), end=round(e, 3)),
                                        "beats": inside(analysis.beats),
                                        "downbeats": inside(analysis.downbeats)})

    # --- cover -----------------------------------------------------------------------------
    def cover(self, context: NoteContext | Draft, *, title: str | None = None, style: str | None = None,
              n: int | None = None, ratio: str | None = None, out_dir: str | Path | None = None,
              backend: str | None = None, seed: int = 0, language: str | None = None) -> list[Cover]:
        """Cover candidates, rendered into ``out_dir`` (each Cover.path is its file)."""
        from pipelines.cover import CoverRequest

        ctx = _context(context)
        if title is None and isinstance(context, Draft) and context.caption:
            title = context.caption.title
        request = CoverRequest(context=ctx, title=title, style=style, n=n, ratio=ratio, seed=seed,
                               backend=backend, out_dir=Path(out_dir) if out_dir else None,
                               language=language or _language(context, self.settings))
        return self._stage("cover")(request).covers

    # --- video -----------------------------------------------------------------------------
    def video(self, draft: Draft, *, out: str | Path, progress: Progress | None = None,
              cancel: threading.Event | None = None, cover_path: str | Path | None = None,
              length: float | None = None, draft_dir: str | Path | None = None) -> VideoResult:
        """Render the draft (its order, texts, track and excerpt, cover) to an MP4.

        ``draft_dir`` (default: the folder of ``out``) is where relative paths and
        ``cover.png`` are looked up; ``cancel`` stops the render (raises Cancelled).
        """
        from pipelines.video import VideoRequest

        if not draft.ordered_items():
            raise InputError("draft: it has no usable photos or clips to put in a video")
        out = Path(out)
        draft_dir = Path(draft_dir) if draft_dir else out.parent
        overrides: dict = {"length": length}
        if progress:
            overrides["progress"] = lambda f: progress("video", f, 1.0)
        if cancel is not None:
            overrides["cancel"] = cancel
        request = VideoRequest.from_draft(draft, draft_dir, output=out, **overrides)
        if cover_path:
            request.cover_path = Path(cover_path)
        return self._stage("video")(request)

    # --- everything ----------------------------------------------------------------------
    def create(self, media: Iterable[str | Path] | str | Path, *, language: str | None = None,
               style: str | None = None, hints: Sequence[str] | str | None = None, video: bool = False,
               out_dir: str | Path | None = None, progress: Progress | None = None,
               n_captions: int = 3) -> Draft:
        """Understand the media and draft every part of the note.

        With ``out_dir`` the draft is saved there (draft.json, caption.md, cover.png,
        assets/ with every cover candidate, and note.mp4 when ``video``). A stage that
        fails leaves its part empty and says why in ``draft.warnings``; the others go on.
        """
        lang = language or self.settings.caption.language
        hints = [hints] if isinstance(hints, str) else list(hints or [])
        out = Path(out_dir) if out_dir else None
        ctx = self.understand(media, hints=hints, progress=progress)
        if not ctx.ok_items:
            problems = "; ".join(ctx.warnings[:3]) or "no photos or clips found"
            raise InputError(f"media: nothing usable to make a note from ({problems})")
        draft = Draft(language=lang, context=ctx, order=[i.id for i in ctx.ok_items],
                      created_at=datetime.now(timezone.utc))

        def step(name: str, fn: Callable[[], None]) -> None:
            if progress:
                progress(name, 0, 1)
            try:
                fn()
            except CreatorError as e:
                draft.warnings = draft.warnings + [f"{name}: {e}"]
            if progress:
                progress(name, 1, 1)

        def do_caption():
            caps = self.caption(ctx, language=lang, style=style, n=n_captions, hints=hints)
            draft.caption, draft.alternatives = caps[0], caps[1:]

        def do_music():
            draft.tracks = self.soundtrack(ctx, language=lang)
            draft.track = draft.tracks[0] if draft.tracks else None

        def do_cover():
            draft.covers = self.cover(draft, out_dir=out / "assets" if out else None, language=lang)
            draft.cover = draft.covers[0] if draft.covers else None
            if out and draft.cover and draft.cover.path:
                target = out / ("cover" + Path(draft.cover.path).suffix)
                shutil.copyfile(draft.cover.path, target)
                draft.cover = draft.cover.model_copy(update={"path": str(target)})

        step("caption", do_caption)
        step("soundtrack", do_music)
        step("cover", do_cover)
        if out:
            draft.save(out)
        if video:
            if out is None:
                raise InputError("out_dir: a video needs a folder to be written to")
            step("video", lambda: setattr(draft, "video", self.video(draft, out=out / "note.mp4",
                                                                      progress=progress, draft_dir=out)))
            draft.save(out)
        return draft

    # --- files ---------------------------------------------------------------------------
    @staticmethod
    def save(draft: Draft, directory: str | Path) -> Path:
        return draft.save(directory)

    @staticmethod
    def export_zip(draft_dir: str | Path, out: str | Path | None = None) -> Path:
        """A zip of caption.md, the cover, the video and draft.json of a saved draft."""
        from .drafts import DRAFT_FILE, atomic_write_bytes, load_draft

        draft_dir = Path(draft_dir)
        draft = load_draft(draft_dir)
        out = Path(out) if out else draft_dir / "note.zip"
        files = [draft_dir / DRAFT_FILE, draft_dir / "caption.md"]
        if draft.cover and draft.cover.path:
            files.append(Path(draft.cover.path))
        if draft.video and draft.video.path:
            files.append(Path(draft.video.path))
        import io

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                if f.is_file():
                    z.write(f, arcname=f.name)
        return atomic_write_bytes(out, buf.getvalue())

    # --- the image note ----------------------------------------------------------------
    def carousel(self, draft_or_context: NoteContext | Draft, *, n: int = 9, ratio: str | None = None,
                 labels: bool = False, language: str | None = None) -> list:
        """The image note's photos after the cover (pipelines.carousel): up to ``n``
        images in all, the cover counted; ``ratio`` 3:4 (default: a draft's cover's),
        1:1 or 4:3; ``labels``: the day and place on each moment's first photo. For a
        draft: its cover's photos are not shown again, and its order breaks ties.
        Returns ``[CarouselEntry]`` (set it as ``draft.carousel``)."""
        from pipelines.carousel import CarouselRequest, post_ratio
        from pipelines.carousel import Pipeline as CarouselPipeline

        x = draft_or_context
        fields: dict = {}
        if isinstance(x, Draft):
            fields["order"] = list(x.order)
            if x.cover is not None:
                ids = x.cover.source.split(":", 1)[-1] if x.cover.source.startswith("diffusion") else x.cover.source
                fields["cover_items"] = [i for i in ids.split(",") if i and i != "diffusion"]
                fields["cover"] = Path(x.cover.path) if x.cover.path else None
            ratio = ratio or post_ratio(x)
        with self._lock:
            stage = self._stages.setdefault("carousel", CarouselPipeline())
        request = CarouselRequest(context=_context(x), n=n, ratio=ratio or "3:4", labels=labels,
                                  language=language or _language(x, self.settings), **fields)
        return stage(request).entries

    def post(self, draft_dir: str | Path, *, out_dir: str | Path | None = None,
             warnings: list[str] | None = None) -> Path:
        """Write a saved draft's image note, ready to post, into ``<draft_dir>/post/``
        (see pipelines.carousel.post): 01.jpg the cover, 02.jpg... the carousel, the
        texts, music.m4a, note.mp4. A draft without a carousel gets one first (not
        saved). A photo that cannot be read is left out and said in ``warnings``."""
        from pipelines.carousel import write_post

        from .drafts import load_draft

        draft = load_draft(draft_dir)
        if not draft.carousel and draft.ordered_items():
            draft.carousel = self.carousel(draft)
        return write_post(draft, draft_dir, out_dir, warnings=warnings)


def _context(x: NoteContext | Draft) -> NoteContext:
    """The note's facts as its items say now: moments, top tags, mood... are derived
    again from the items (tags, times, places, the user's edits), never read from a
    stored copy that an edit left stale."""
    from .understanding.moments import derive_context

    if isinstance(x, Draft):
        return derive_context(x.context)
    if isinstance(x, NoteContext):
        return derive_context(x)
    raise InputError(f"context: expected a NoteContext or a Draft, got {type(x).__name__}")


def _language(x, settings: Settings) -> str:
    return x.language if isinstance(x, Draft) else settings.caption.language
