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

import contextlib
import os
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import Cancelled, CreatorError, DraftError, InputError, MediaError
from .types import Caption, Cover, Draft, NoteContext, TrackMatch, VideoResult

__all__ = ["Assistant", "Progress"]

# progress(stage, done, total)
Progress = Callable[[str, float, float], None]

# Length of the video (and so of the music excerpt) for a number of items: a few
# seconds each plus the cover, within the 15–60 s that suits a note.
SECONDS_PER_ITEM = 2.5
INTRO_SECONDS = 2.0


# a hidden render of Assistant.video older than this was left by a killed process
STALE_RENDER_SECONDS = 6 * 3600


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

    def check_models(self, stages: Sequence[str] | None = None) -> list:
        """Check that every model the settings use (for ``stages``, default all) is a local
        folder, in the Hugging Face cache or on a reachable hub; raises one
        BackendUnavailable that names every missing model (creator.models.check_models).
        ``create`` calls it first; each loader also checks its own model."""
        from .models import check_models

        return check_models(self.settings, stages)

    # --- understanding ----------------------------------------------------------------
    def understand(self, media: Iterable[str | Path] | str | Path, *, hints: Sequence[str] | None = None,
                   progress: Progress | None = None, cancel: threading.Event | None = None) -> NoteContext:
        """Photos, clips or folders → NoteContext (see creator.understanding.understand);
        ``cancel`` stops it between items (raises Cancelled)."""
        from .understanding import understand

        return understand(media, self.settings, hints=hints, progress=progress, cancel=cancel)

    def understand_many(self, media, *, out: str | Path, ray_address: str | None = None,
                        progress: Callable[[int, int], None] | None = None):
        """Many photos and clips (files, folders, a Parquet/JSON-lines manifest with a
        ``path`` column, or a Ray Dataset) understood on Ray, one Parquet row per item in
        ``out`` (the fields of ``creator tag --json``); resumable, a bad file is a row with
        its error. Returns a ManyReport. Needs ``pip install '.[distributed]'``; see
        creator.distributed.data.understand_many."""
        from .distributed.data import understand_many

        return understand_many(media, out=out, settings=self.settings, ray_address=ray_address,
                               progress=progress)

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
                library: str | Path | None = None, draft_dir: str | Path | None = None) -> TrackMatch:
        """The track with its excerpt moved by the user: ``start`` snapped to the nearest
        beat, ``end`` (default: keep the length) to the nearest beat after it, and the
        beats and downbeats inside recomputed, so the video stays on the beat.

        ``draft_dir`` marks a server context: a track outside the library is read only
        from inside that draft folder (creator.drafts.track_file), never from its path."""
        from .music.library import analyse_file

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
            path = track.path
            if draft_dir is not None:
                from .drafts import track_file

                path = str(track_file(track, draft_dir, index))
            analysis = analyse_file(path)  # windowed for a long track: bounded memory
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
              length: float | None = None, draft_dir: str | Path | None = None,
              size: tuple[int, int] | None = None, fps: int | None = None,
              media_roots: Sequence[str | Path] | None = None) -> VideoResult:
        """Render the draft (its order, texts, track and excerpt, cover) to an MP4.

        ``draft_dir`` (default: the folder of ``out``) is the draft folder: its own files
        (``cover.png``, the chosen cover) are read only from inside it. ``media_roots``
        marks a server context (the editor, an API): the photos and clips are then read
        only from the draft folder and these folders, each checked against its content
        id, and the track only through the music library or the draft folder (see
        creator.drafts.media_file / track_file). The file is rendered to a hidden name
        and moved to ``out`` under the draft folder's lock. ``cancel`` stops the render
        (raises Cancelled).
        """
        from .drafts import check_output_file, draft_folder, draft_lock, refuse_replacing_media

        final = check_output_file(out, field="out", suffix=".mp4")
        folder = draft_folder(draft_dir) if draft_dir else final.parent
        refuse_replacing_media([final], draft, folder)
        tmp = final.with_name(f".{final.stem}.render-{uuid.uuid4().hex[:8]}.mp4")
        for stale in final.parent.glob(f".{final.stem}.render-*.mp4"):  # left by a killed render
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > STALE_RENDER_SECONDS:
                    stale.unlink()
        try:
            result = self._render(draft, out=tmp, folder=folder, progress=progress, cancel=cancel,
                                  cover_path=cover_path, length=length, size=size, fps=fps,
                                  media_roots=media_roots)
            inside = final.parent == folder or folder in final.parents
            with draft_lock(folder) if inside else contextlib.nullcontext():
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return result.model_copy(update={"path": str(final)})

    def video_clip(self, draft: Draft, *, draft_dir: str | Path, size: tuple[int, int] | None = None,
                   fps: int | None = None, length: float | None = None):
        """The draft's video as a moviepy ``CompositeVideoClip`` (the moviepy backend's
        composition of the same plan as :meth:`video`: order, cover, motion, transitions,
        title and captions as layers, music and clip sound), to add layers to and write
        yourself (``clip.write_videofile(...)``; ``clip.close()`` after). ``draft_dir``
        is the draft folder, as for :meth:`video`. BackendUnavailable without moviepy
        (``pip install '.[moviepy]'``)."""
        from pipelines.video import VideoRequest
        from pipelines.video.moviepy_render import video_clip

        from .drafts import draft_folder

        if not draft.ordered_items():
            raise MediaError("draft: it has no usable photos or clips to put in a video")
        folder = draft_folder(draft_dir)
        overrides = {k: v for k, v in (("size", size), ("fps", fps)) if v is not None}
        request = VideoRequest.from_draft(draft, folder, output=folder / "note.mp4", length=length, **overrides)
        return video_clip(self._stage("video"), request)

    def _render(self, draft: Draft, *, out: Path, folder: Path, progress: Progress | None = None,
                cancel: threading.Event | None = None, cover_path: str | Path | None = None,
                length: float | None = None, size: tuple[int, int] | None = None, fps: int | None = None,
                media_roots: Sequence[str | Path] | None = None) -> VideoResult:
        from pipelines.video import VideoRequest

        if not draft.ordered_items():
            raise MediaError("draft: it has no usable photos or clips to put in a video", code="no_media_for_video")
        overrides: dict = {"length": length}
        if size is not None:
            overrides["size"] = size
        if fps is not None:
            overrides["fps"] = fps
        if progress:
            overrides["progress"] = lambda f: progress("video", f, 1.0)
        if cancel is not None:
            overrides["cancel"] = cancel
        library = None
        if media_roots is not None and draft.track is not None:
            library = self.music_index()
        request = VideoRequest.from_draft(draft, folder, output=out, media_roots=media_roots,
                                          library=library, **overrides)
        if cover_path:
            request.cover_path = Path(cover_path)
        return self._stage("video")(request)

    def music_index(self, library: str | Path | None = None):
        """The music library's index (creator.music.library.LibraryIndex), indexed on
        first use: where a track is found by its id (creator.drafts.track_file)."""
        stage = self._stage("soundtrack")
        with self._lock:
            index, _, _ = stage.library_matrix(Path(library) if library else None)
        return index

    def track_file(self, track: TrackMatch, draft_dir: str | Path) -> Path:
        """The audio file of ``track`` for a server context: by its id in the music
        library, or an upload inside the draft folder; never ``track.path`` at face value."""
        from .drafts import track_file

        return track_file(track, draft_dir, self.music_index())

    # --- everything ----------------------------------------------------------------------
    def create(self, media: Iterable[str | Path] | str | Path, *, language: str | None = None,
               style: str | None = None, hints: Sequence[str] | str | None = None, video: bool = False,
               out_dir: str | Path | None = None, progress: Progress | None = None,
               n_captions: int = 3, overwrite: bool = False, cancel: threading.Event | None = None) -> Draft:
        """Understand the media and draft every part of the note.

        With ``out_dir`` the draft is saved there (draft.json, caption.md, cover.png,
        assets/ with every cover candidate, note.mp4 when ``video``) with the image note
        ready to post in ``post/`` (the cover and the carousel as numbered JPEGs, the
        texts, music.m4a). A stage that
        fails leaves its part empty and says why in ``draft.warnings``; the others go on.

        The output folder is checked before any work: it must be a writable folder, no
        output may replace one of the media given (InputError), and a draft already there
        is replaced only with ``overwrite`` (a newer or unreadable one never is). The
        folder is locked for the run (a second writer fails at once), the files are made
        in a staging folder inside it and moved into place together, draft.json last.
        ``cancel`` (set by another thread) stops it between items and stages, and the
        render: raises Cancelled, and nothing is saved after that point.
        """
        from .drafts import check_output_dir, draft_lock

        self.check_models()  # every missing model named at once, before any work
        _check_options(style=style, language=language)  # a bad option before any work, not after it
        lang = language or self.settings.caption.language
        hints = [hints] if isinstance(hints, str) else list(hints or [])
        media = [media] if isinstance(media, (str, os.PathLike)) else list(media)
        if video and out_dir is None:
            raise InputError("out_dir: a video needs a folder to be written to")
        if out_dir is None:
            return self._create(media, None, lang=lang, style=style, hints=hints, video=False,
                                progress=progress, n_captions=n_captions, cancel=cancel)
        out = check_output_dir(out_dir)
        if out.is_dir():  # refuse before touching the folder at all
            _check_inputs(media, out, overwrite=overwrite)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"out: cannot make the folder {out} ({e.strerror or e})") from None
        with draft_lock(out, timeout=0):
            media = _check_inputs(media, out, overwrite=overwrite)  # again: another run may have finished
            return self._create(media, out, lang=lang, style=style, hints=hints, video=video,
                                progress=progress, n_captions=n_captions, cancel=cancel)

    def _create(self, media: list, out: Path | None, *, lang: str, style, hints: list[str], video: bool,
                progress: Progress | None, n_captions: int, cancel: threading.Event | None = None) -> Draft:
        from .drafts import clean_stale_staging, commit_staging, load_draft, save_draft_unlocked, staging_folder

        ctx = self.understand(media, hints=hints, progress=progress, cancel=cancel)
        if not ctx.ok_items:
            problems = "; ".join(ctx.warnings[:3]) or "no photos or clips found"
            raise MediaError(f"media: nothing usable to make a note from ({problems})",
                             code="no_usable_media" if ctx.items else "no_media_found",
                             files=[Path(i.path).name for i in ctx.items])
        draft = Draft(language=lang, context=ctx, order=[i.id for i in ctx.ok_items],
                      created_at=datetime.now(timezone.utc))
        stage_dir = None
        if out is not None:
            clean_stale_staging(out)
            stage_dir = staging_folder(out)

        def step(name: str, fn: Callable[[], None]) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"{name}: cancelled")
            if progress:
                progress(name, 0, 1)
            try:
                fn()
            except Cancelled:
                raise
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
            draft.covers = self.cover(draft, out_dir=stage_dir / "assets" if stage_dir else None, language=lang)
            draft.cover = draft.covers[0] if draft.covers else None
            if stage_dir and draft.cover and draft.cover.path:
                target = stage_dir / ("cover" + Path(draft.cover.path).suffix)
                shutil.copyfile(draft.cover.path, target)
                draft.cover = draft.cover.model_copy(update={"path": str(target)})

        try:
            step("caption", do_caption)
            step("soundtrack", do_music)
            step("cover", do_cover)
            step("carousel", lambda: setattr(draft, "carousel", self.carousel(draft)))
            if video:
                step("video", lambda: setattr(draft, "video", self._render(
                    draft, out=stage_dir / "note.mp4", folder=stage_dir, progress=progress, cancel=cancel)))
            if stage_dir is None:
                return draft
            save_draft_unlocked(draft, stage_dir)
            commit_staging(stage_dir, out)  # the caller holds the folder's lock
            final = load_draft(out)
            if final.cover is not None or final.carousel:
                # the image note, ready to post (out/post/), swapped in whole (still under the lock)
                from pipelines.carousel import write_post

                notes: list[str] = []
                try:
                    write_post(final, out, warnings=notes)
                except CreatorError as e:
                    notes.append(f"post: {e}")
                if notes:
                    final.warnings = final.warnings + notes
                    save_draft_unlocked(final, out)
            return final
        finally:
            if stage_dir is not None:
                shutil.rmtree(stage_dir, ignore_errors=True)

    # --- files ---------------------------------------------------------------------------
    @staticmethod
    def save(draft: Draft, directory: str | Path) -> Path:
        return draft.save(directory)

    @staticmethod
    def export_zip(draft_dir: str | Path, out: str | Path | None = None) -> Path:
        """A zip of a saved draft to share: caption.md, the chosen cover, the video and a
        shareable draft.json (creator.drafts.shareable_draft: no GPS, no altitude, no
        local paths). Only the draft's own files go in, each resolved inside the draft
        folder: one that points outside it, or is missing, is a DraftError naming it (no
        zip is written then). The zip is written atomically."""
        import io

        from .drafts import DRAFT_FILE, atomic_write_bytes, draft_folder, load_draft, own_file, shareable_draft

        folder = draft_folder(draft_dir)
        draft = load_draft(folder)
        out = Path(out) if out else folder / "note.zip"
        parts: list[tuple[str, str]] = []
        if draft.cover is not None and draft.cover.path:
            parts.append(("cover.path", draft.cover.path))
        if draft.video is not None and draft.video.path:
            parts.append(("video.path", draft.video.path))
        files, missing = [], []
        for field, value in parts:
            real = own_file(folder, value, field=field)  # DraftError when outside the folder
            if not real.is_file():
                missing.append(f"{field} ({Path(value).name})")
                continue
            files.append((real, Path(value).name))
        if missing:
            raise DraftError("export: the draft names files that are missing: " + ", ".join(missing)
                             + "; make them again (or choose another) before exporting",
                             code="export_missing_files", files=missing)
        shared = shareable_draft(draft, folder)
        # the zip is flat: its draft.json names the files as they are in it
        if shared.cover is not None and shared.cover.path:
            shared.cover = shared.cover.model_copy(update={"path": Path(shared.cover.path).name})
            shared.covers = [shared.cover]
        if shared.video is not None and shared.video.path:
            shared.video = shared.video.model_copy(update={"path": Path(shared.video.path).name})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(DRAFT_FILE, shared.model_dump_json(indent=2))
            if draft.caption is not None:
                z.writestr("caption.md", draft.caption.markdown())
            for real, arcname in files:
                z.write(real, arcname=arcname)
        return atomic_write_bytes(out, buf.getvalue())

    # --- the image note ----------------------------------------------------------------
    def carousel(self, draft_or_context: NoteContext | Draft, *, n: int = 9, ratio: str | None = None,
                 labels: bool = False, language: str | None = None, draft_dir: str | Path | None = None,
                 media_roots: Sequence[str | Path] | None = None, warnings: list[str] | None = None) -> list:
        """The image note's photos after the cover (pipelines.carousel): up to ``n``
        images in all, the cover counted; ``ratio`` 3:4 (default: a draft's cover's),
        1:1 or 4:3; ``labels``: the day and place on each moment's first photo. For a
        draft: its cover's photos are not shown again, and its order breaks ties.
        ``draft_dir`` (a saved draft): its photos are read only as
        creator.drafts.media_file allows (with ``media_roots``, a server context, only
        from inside the draft folder or those folders); one it refuses is not chosen,
        and said in ``warnings`` when given.
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
        ctx = _context(x)
        if draft_dir is not None:
            from .drafts import readable_items

            items = readable_items(ctx.items, draft_dir, media_roots)
            if warnings is not None:
                warnings.extend(f"left out of the carousel: {i.error}" for i, was in zip(items, ctx.items)
                                if was.ok and not i.ok)
            ctx = ctx.model_copy(update={"items": items})
        request = CarouselRequest(context=ctx, n=n, ratio=ratio or "3:4", labels=labels,
                                  language=language or _language(x, self.settings), **fields)
        return stage(request).entries

    def post(self, draft_dir: str | Path, *, out_dir: str | Path | None = None,
             warnings: list[str] | None = None, media_roots: Sequence[str | Path] | None = None) -> Path:
        """Write a saved draft's image note, ready to post, into ``<draft_dir>/post/``
        (see pipelines.carousel.post): 01.jpg the cover, 02.jpg... the carousel, the
        texts, music.m4a, note.mp4. A draft without a carousel gets one first (not
        saved). A photo that cannot be read is left out and said in ``warnings``.
        ``media_roots`` marks a server context (the editor): photos only from inside
        the draft folder or those folders, the track only by its id in the library."""
        from pipelines.carousel import write_post

        from .drafts import draft_lock, load_draft

        draft = load_draft(draft_dir)
        if not draft.carousel and draft.ordered_items():
            draft.carousel = self.carousel(draft, draft_dir=draft_dir, media_roots=media_roots, warnings=warnings)
        library = self.music_index() if media_roots is not None and draft.track is not None else None
        with draft_lock(draft_dir):  # one export (or other writer) of a draft at a time
            return write_post(draft, draft_dir, out_dir, warnings=warnings, media_roots=media_roots,
                              library=library)

    # --- timeline export ---------------------------------------------------------------------
    def timeline(self, draft: Draft, out: str | Path, relative: bool = False, *,
                 draft_dir: str | Path | None = None, size: tuple[int, int] | None = None,
                 fps: int | None = None, length: float | None = None,
                 media_roots: Sequence[str | Path] | None = None):
        """The draft's video plan as an OpenTimelineIO timeline at ``out`` (.otio), with
        .fcpxml and .edl beside it when their adapters are installed; nothing is
        rendered (pipelines.video.timeline). The same plan as :meth:`video` (order,
        cover, track and excerpt, beat-grid cuts, transitions, captions); media named by
        absolute path, or relative to ``out``'s folder with ``relative``. ``draft_dir``
        (default: the folder of ``out``) and ``media_roots`` as for :meth:`video`.
        Returns a pipelines.video.timeline.TimelineExport; BackendUnavailable without the
        ``timeline`` extra."""
        from pipelines.video import VideoRequest
        from pipelines.video.timeline import export_timeline

        from .drafts import draft_folder, refuse_replacing_media

        if not draft.ordered_items():
            raise MediaError("draft: it has no usable photos or clips to put in a timeline")
        out = Path(os.path.abspath(out))
        folder = draft_folder(draft_dir) if draft_dir else out.parent
        refuse_replacing_media([out, *(out.with_suffix(x) for x in (".fcpxml", ".edl"))], draft, folder)
        overrides: dict = {"length": length}
        if size is not None:
            overrides["size"] = size
        if fps is not None:
            overrides["fps"] = fps
        library = self.music_index() if media_roots is not None and draft.track is not None else None
        request = VideoRequest.from_draft(draft, folder, output=folder / "note.mp4", media_roots=media_roots,
                                          library=library, **overrides)
        return export_timeline(request, out, settings=self._stage("video").settings, relative=relative)

    # --- for an editor (ui/): the stages' own data and edit helpers ---------------------
    # A front end imports only the SDK: what it shows or changes besides the stages is here.
    @staticmethod
    def caption_styles() -> dict[str, dict]:
        """The caption styles by id (prompts/caption/styles.yaml): ``aliases`` (攻略...),
        ``describe`` ({zh, en})."""
        from pipelines.caption.template import load_style, style_names

        return {name: load_style(name)[1] for name in style_names()}

    @staticmethod
    def cover_styles() -> dict[str, dict]:
        """The cover styles by id (prompts/cover/styles.yaml): ``label_zh``, ``label_en``..."""
        from pipelines.cover import styles

        return styles()

    @staticmethod
    def title_count(text: str) -> tuple[int, int]:
        """(length of a title as the platform counts it, the platform's limit)."""
        from pipelines.caption.checks import TITLE_MAX, title_length

        return title_length(text), TITLE_MAX

    @staticmethod
    def clean_hashtags(tags: Iterable[str]) -> list[str]:
        """Hashtags as a caption keeps them: no '#', no spaces, no empty ones, each once."""
        from pipelines.caption.checks import clean_hashtag

        return list(dict.fromkeys(h for h in (clean_hashtag(str(t)) for t in tags) if h))

    @staticmethod
    def video_changes(draft: Draft, draft_dir: str | Path | None = None) -> list[str]:
        """What changed since the draft's video was made (pipelines.video.video_changes)."""
        from pipelines.video.pipeline import video_changes

        return video_changes(draft, draft_dir)

    @staticmethod
    def cover_title_limit() -> int:
        """The most characters a cover title may have (longer is an InputError)."""
        from pipelines.cover.pipeline import MAX_TITLE

        return MAX_TITLE

    @staticmethod
    def carousel_options(draft: Draft | None = None) -> dict:
        """``ratios``, ``max_images`` (the cover counted), ``sizes`` (ratio → posted size)
        and the draft's posted ``ratio``."""
        from pipelines.carousel import MAX_IMAGES, RATIOS, SIZES, post_ratio

        return {"ratios": list(RATIOS), "max_images": MAX_IMAGES, "sizes": dict(SIZES),
                "ratio": post_ratio(draft) if draft is not None else RATIOS[0]}

    @staticmethod
    def carousel_edit(draft: Draft, entries: list, k: int | None = None, *, item_id: str | None = None,
                      crop: float | None = None, label: bool | None = None) -> list:
        """``entries`` (the draft's carousel, reordered or cut by the caller) with entry
        ``k`` changed: another photo (``item_id``, its label kept), its crop moved along
        the free axis (``crop`` 0..1) or its day-and-place label on or off; renumbered."""
        from pipelines.carousel import entry_for, label_for, number_entries, post_ratio, slide_crop

        entries = list(entries)
        if k is not None:
            e = entries[k]
            if item_id is not None:
                e = entry_for(draft.context.item(item_id), post_ratio(draft), label=e.label)
            if crop is not None:
                e = slide_crop(e, draft.context.item(e.item_id), crop)
            if label is not None:
                e = e.model_copy(update={"label": label_for(draft.context, e.item_id, draft.language)
                                         if label else None})
            entries[k] = e
        return number_entries(entries, cover=draft.cover is not None)

    @staticmethod
    def carousel_crop(entry, item) -> tuple[str | None, float]:
        """The axis ("x", "y" or None) a carousel entry's crop can move along, and where it is (0..1)."""
        from pipelines.carousel import crop_slack

        return crop_slack(entry, item)

    @staticmethod
    def carousel_image(entry, item, *, ratio: str, style: str | None = None, path: str | Path | None = None,
                       scale: int = 1):
        """One carousel picture as posted, at 1/``scale`` of the posted size (a PIL image);
        ``path``: the item's file as resolved for a server context."""
        from pipelines.carousel import SIZES, render_entry

        w, h = SIZES[ratio]
        return render_entry(entry, item, (w // scale, h // scale), style=style, path=path)

    @staticmethod
    def cover_image(draft: Draft, draft_dir: str | Path, *, ratio: str, scale: int = 1):
        """The chosen cover as the image note's first picture shows it (a PIL image), or None."""
        from pipelines.carousel import SIZES
        from pipelines.carousel.post import _cover_image

        w, h = SIZES[ratio]
        return _cover_image(draft, Path(draft_dir), (w // scale, h // scale))

    @staticmethod
    def post_zip(post_dir: str | Path) -> bytes:
        """The image note's folder (post/) as zip bytes, to download."""
        from pipelines.carousel import post_zip

        return post_zip(post_dir)


def _check_options(*, style: str | None, language: str | None) -> None:
    """The options of a run, checked before it starts: InputError naming the option."""
    if language is not None and language not in ("zh", "en"):
        raise InputError(f"language: {language!r} is not one of zh, en")
    if style is not None:
        from pipelines.caption.template import load_style, style_names

        try:
            load_style(style)
        except KeyError:
            raise InputError(f"style: unknown style {style!r}; choose one of {', '.join(style_names())}") from None


def _check_inputs(media: list, out: Path, *, overwrite: bool) -> list:
    """Before any work: the draft already in ``out`` (replaced only with ``overwrite``,
    never when newer or unreadable), and no output of the run may replace one of its
    inputs. The files of the draft being replaced are outputs, not inputs: they are left
    out of the media. Returns the media to read."""
    from pipelines.carousel.post import check_replaceable

    from .drafts import POST, check_existing_draft, input_collisions, own_file, own_files
    from .media import iter_media_files

    previous = check_existing_draft(out, overwrite=overwrite)
    check_replaceable(out / POST)  # the image note is swapped in whole at the end: say so now
    files = iter_media_files(media)
    if previous is not None:
        old = set()
        for field, value in own_files(previous):
            with contextlib.suppress(CreatorError):
                old.add(str(own_file(out, value, field=field)))
        kept = [f for f in files if os.path.realpath(f) not in old]
        if len(kept) != len(files):
            media, files = kept, kept
    hits = input_collisions(out, files)
    if hits:
        names = ", ".join(Path(h).name for h in hits[:3]) + (f" and {len(hits) - 3} more" if len(hits) > 3 else "")
        raise InputError(f"out: writing the draft into {out} would replace your own {names} "
                         "(given as media of this run); choose another output folder")
    return media


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
