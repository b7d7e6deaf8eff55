"""One-click video: the trip as a beat-synced vertical MP4.

``Pipeline()(VideoRequest(...)) -> VideoResult``. The cover opens, photos move (Ken
Burns toward their subject and faces), clips show their best segment, cuts fall on the
track's beats, the title and per-moment captions are overlaid inside the safe area
(clear of the feed's own buttons and caption: VideoSettings.safe_*), the music is faded,
ducked under the clips' sound and loudness-normalised. One ffmpeg process renders it
(or moviepy, the same plan: ``VideoSettings.backend``, moviepy_render.py).
``Pipeline.plan`` is the same plan unrendered (pipelines/video/timeline.py exports it).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from creator.config import VideoSettings
from creator.errors import BackendUnavailable, Cancelled, InputError, MediaError
from creator.media import open_photo, photo_meta
from creator.media.ffmpeg import part_name, work_folder
from creator.types import Draft, MediaItem, MediaKind, TrackMatch, VideoResult

from .plan import TRANSITIONS, Planned, PlanItem, Timeline, plan_timeline, safe_area  # noqa: F401 (Planned re-exported)
from .render import build_command, cover_box, fit_cover, probe_audio, run_render
from .text import render_text

__all__ = ["VideoRequest", "Pipeline", "made_from", "draft_made_from", "video_changes", "video_outdated"]

# Photos handed to ffmpeg as they are: 8-bit RGB or grey JPEGs, stored upright, in sRGB, at
# most _DIRECT_OVERSIZE times the size the video needs per side. Anything else (alpha,
# 16-bit, palette, CMYK, HEIC, WEBP, PNG, EXIF-rotated, a Display P3 or other colour
# profile ffmpeg would ignore, huge) is decoded once by the one photo loader
# (creator.media.open_photo: orientation, alpha over white, colour profile, memory budget) at the
# size the video needs and written as a temporary JPEG, so every stage shows it alike.
_DIRECT = {"JPEG": ("RGB", "L")}
_DIRECT_OVERSIZE = 2.0


class VideoRequest(BaseModel):
    """What to render.

    ``items`` in their order on screen; ``captions`` maps an item id to the line shown
    while that item is on screen (e.g. the first item of each moment); ``size`` is
    (width, height), both even; ``length`` in seconds (None: from the items and the
    excerpt); ``transitions`` are cycled between shots ("cut" or ffmpeg xfade names);
    ``progress`` receives fractions 0..1; setting ``cancel`` stops the render.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    items: list[MediaItem]
    output: Path
    cover_path: Path | None = None
    style: str | None = None  # the cover's style: the title cards and captions take its look
    title: str | None = None
    captions: dict[str, str] = Field(default_factory=dict)
    track: TrackMatch | None = None
    track_error: str | None = None  # why the draft's track was refused (from_draft): a warning, no music
    size: tuple[int, int] | None = None
    fps: int | None = None
    length: float | None = None
    transitions: list[str] | None = None
    progress: Callable[[float], None] | None = Field(default=None, exclude=True)
    cancel: threading.Event | None = Field(default=None, exclude=True)

    @classmethod
    def from_draft(cls, draft: Draft, draft_dir: Path | str, output: Path | str | None = None, *,
                   media_roots=None, library=None, **overrides) -> VideoRequest:
        """The request for a saved draft: its items in the user's order, its title, its
        chosen track and excerpt, the chosen cover's file (``draft.cover.path``: the one
        the creator picked or regenerated, never some other file left in the folder), one
        caption per moment ("第2天 · 杭州" / "Day 2 · Hangzhou") on the moment's first
        item. ``overrides`` are any other fields (size, length, progress...).

        Files go through creator.drafts: the cover must lie inside ``draft_dir``
        (DraftError otherwise); an item whose file is missing or refused is kept with an
        error, so the render reports it. ``media_roots`` and ``library`` mark a server
        context (see creator.drafts.media_file / track_file): items only from the draft
        folder and those roots, the track only by its id in ``library`` or from the
        draft folder."""
        from creator.drafts import own_file, readable_items, track_file
        from creator.errors import DraftError

        draft_dir = Path(draft_dir)
        ctx, order, captions, title = _draft_texts(draft)
        by_id = {i.id: i for i in ctx.items}
        # an id not among the items surfaces as a warning in the result, like any
        # unreadable item; a file media_file refuses becomes an item in error
        items = readable_items([by_id.get(i) or MediaItem(path=i, id=i, error="not among the draft's items")
                                for i in order], draft_dir, media_roots)
        cover = None
        if draft.cover is not None and draft.cover.path:
            cover = own_file(draft_dir, draft.cover.path, field="cover.path")
        track, track_error = draft.track, None
        if track is not None:
            try:
                track = track.model_copy(update={"path": str(track_file(track, draft_dir, library))})
            except DraftError as e:  # like a photo left out: the video is made, without music
                track, track_error = None, str(e)
        fields = dict(items=items, output=Path(output) if output else draft_dir / "note.mp4",
                      cover_path=cover, title=title, captions=captions, track=track, track_error=track_error,
                      style=draft.cover.style if draft.cover is not None else None)
        fields.update(overrides)
        return cls(**fields)


def _draft_texts(draft: Draft):
    """(derived context, order of item ids, caption per item id, title) of a draft as it
    is now: what from_draft renders and draft_made_from compares."""
    from creator.understanding.moments import derive_context

    ctx = derive_context(draft.context)  # the moments as the items say now (after edits)
    order = draft.order or [i.id for i in ctx.items]
    captions: dict[str, str] = {}
    lang = draft.language
    several_days = (ctx.days or len({m.day for m in ctx.moments})) > 1
    position = {item_id: k for k, item_id in enumerate(order)}
    for m in ctx.moments:
        shown = sorted((i for i in m.item_ids if i in position), key=position.get)
        if not shown:
            continue
        parts = []
        if several_days:
            parts.append(f"第{m.day}天" if lang == "zh" else f"Day {m.day}")
        if m.place is not None:
            parts.append(m.place.name(lang))
        if parts:
            captions[shown[0]] = " · ".join(parts)
    title = draft.caption.title if draft.caption else (draft.cover.title if draft.cover else None)
    return ctx, list(order), captions, title


def made_from(order: list[str], cover: str | Path | None, track: TrackMatch | None,
              title: str | None, captions: dict[str, str]) -> str:
    """What a video is rendered from, as compact JSON (VideoResult.made_from): the item
    ids in order, the cover's content id (the picture, wherever it lies), the track's
    id and excerpt, the title and the captions. No path, no coordinates: it may be shared."""
    import json

    from creator.media import content_id

    cover_id = None
    if cover is not None:
        try:
            cover_id = content_id(cover)
        except OSError:
            cover_id = "unreadable"
    excerpt = None
    if track is not None and track.excerpt is not None:
        excerpt = [round(track.excerpt.start, 3), round(track.excerpt.end, 3)]
    data = {"order": list(order), "cover": cover_id, "track": track.track_id if track else None,
            "excerpt": excerpt, "title": title, "captions": dict(sorted(captions.items()))}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def draft_made_from(draft: Draft, draft_dir: str | Path | None = None) -> str:
    """made_from() of the draft as it is now. The chosen cover is resolved inside
    ``draft_dir`` (creator.drafts.own_file); without it, as the draft names it (a loaded
    draft's own paths are absolute)."""
    _, order, captions, title = _draft_texts(draft)
    cover = None
    if draft.cover is not None and draft.cover.path:
        cover = draft.cover.path
        if draft_dir is not None:
            from creator.drafts import own_file
            from creator.errors import DraftError

            try:
                cover = own_file(draft_dir, cover, field="cover.path")
            except DraftError:
                cover = None
        elif not os.path.isabs(cover):
            cover = None
    return made_from(order, cover, draft.track, title, captions)


def video_changes(draft: Draft, draft_dir: str | Path | None = None) -> list[str]:
    """What changed in the draft since its video was rendered: some of "order", "cover",
    "track", "excerpt", "title", "captions"; ["unknown"] for a video that did not record
    what it was made from; [] when it is up to date or there is no video."""
    import json

    if draft.video is None:
        return []
    if not draft.video.made_from:
        return ["unknown"]
    try:
        then = json.loads(draft.video.made_from)
    except ValueError:
        return ["unknown"]
    now = json.loads(draft_made_from(draft, draft_dir))
    return [k for k in ("order", "cover", "track", "excerpt", "title", "captions") if then.get(k) != now.get(k)]


def video_outdated(draft: Draft, draft_dir: str | Path | None = None) -> bool:
    """True when the draft has a video made before its order, cover, track, excerpt,
    title or captions last changed (or one that did not record what it was made from)."""
    return bool(video_changes(draft, draft_dir))


def _needed_side(size: tuple[int, int], frame: tuple[int, int], zoom: float) -> int:
    """The longest side a photo of ``size`` (as displayed) needs in a video of ``frame``:
    the render scales it to cover the frame (pans too), and the Ken Burns ``zoom``
    magnifies that; more pixels are never shown. At most the photo's own size."""
    (w, h), (fw, fh) = size, frame
    scale = max(fw / w, fh / h) * max(1.0, zoom)
    return max(16, min(max(w, h), math.ceil(max(w, h) * scale)))


def _aim(item: MediaItem) -> tuple[float, float]:
    """Where the motion heads: the faces (all of them), else the subject, else the centre."""
    q = item.quality
    if q is not None and q.faces:
        x0 = min(f.x0 for f in q.faces)
        x1 = max(f.x1 for f in q.faces)
        y0 = min(f.y0 for f in q.faces)
        y1 = max(f.y1 for f in q.faces)
        return ((x0 + x1) / 2, (y0 + y1) / 2)
    if q is not None and q.subject is not None:
        return q.subject.center
    return (0.5, 0.5)


#: the largest frame side: 4K (2160x3840) fits; larger frames are past what H.264 levels and
#: phones play, and would take the frames' memory past a desktop's (100000x100000 was
#: killed for memory rather than refused)
MAX_SIDE = 4096


class Pipeline:
    """Renders a VideoRequest to an MP4. ``settings`` gives every default."""

    def __init__(self, settings: VideoSettings | None = None):
        self.settings = settings or VideoSettings()

    def check(self, request: VideoRequest, *, output: bool = True) -> tuple[int, int, int]:
        """(width, height, fps) of the request; InputError naming the field when a value is
        out of range (``output``: the .mp4 name too)."""
        s = self.settings
        width, height = request.size or (s.width, s.height)
        if not (64 <= width <= MAX_SIDE and 64 <= height <= MAX_SIDE) or width % 2 or height % 2:
            raise InputError(f"size: {width}x{height} must be even, from 64x64 to {MAX_SIDE}x{MAX_SIDE}")
        fps = s.fps if request.fps is None else request.fps  # 0 is a value (refused), not "unset"
        if not 1 <= fps <= 120:
            raise InputError(f"fps: {fps} is out of range 1..120")
        if request.length is not None and not 1 <= request.length <= 600:
            raise InputError(f"length: {request.length} s is out of range 1..600")
        for t in request.transitions or []:
            if t not in TRANSITIONS:
                raise InputError(f"transitions: unknown transition {t!r}; known: {sorted(TRANSITIONS)}")
        if output and Path(request.output).suffix.lower() != ".mp4":
            raise InputError(f"output: {request.output} must end in .mp4")
        try:
            safe_area(s, (width, height))
        except ValueError as e:
            raise InputError(str(e)) from e
        return width, height, fps

    def plan(self, request: VideoRequest, work: Path | None = None) -> Planned:
        """The timeline of a request, as the render will show it.

        With ``work`` (the render's temporary folder) the cover is fitted into a frame
        there and photos ffmpeg would not show alike are converted there (PlanItem.origin
        keeps the user's file); without it (a timeline export) every PlanItem names the
        original file, the cover included. Unreadable items are left out with a warning."""
        s = self.settings
        width, height, fps = self.check(request, output=work is not None)
        area = safe_area(s, (width, height))
        warnings: list[str] = []
        if request.track_error:
            warnings.append(f"music: {request.track_error}; the video has no music")
        plan_items: list[PlanItem] = []
        if request.cover_path is not None:
            try:
                # whole inside the safe area (its title clear of the feed's buttons);
                # the intro's push-in is centred there
                bx0, by0, bx1, by1 = cover_box((width, height), area)
                aim = ((bx0 + bx1) / 2 / width, (by0 + by1) / 2 / height)
                if work is not None:
                    fitted = fit_cover(request.cover_path, work / "cover.png", (width, height), area)
                    plan_items.append(PlanItem(kind="cover", path=str(fitted), width=width, height=height,
                                               aim=aim, origin=str(request.cover_path)))
                else:
                    meta = photo_meta(request.cover_path)
                    plan_items.append(PlanItem(kind="cover", path=str(request.cover_path), width=meta["width"],
                                               height=meta["height"], aim=aim))
            except (OSError, ValueError, MediaError) as e:
                warnings.append(f"cover {request.cover_path}: cannot be read ({e}); no intro")
        for n, item in enumerate(request.items):
            if request.cancel is not None and request.cancel.is_set():  # a big photo takes seconds each
                raise Cancelled("render cancelled")
            try:
                plan_items.append(self._plan_item(item, request.captions.get(item.id), work, n,
                                                  frame=(width, height)))
            except MediaError as e:
                warnings.append(f"{item.path}: left out ({e})")
        if not any(p.kind != "cover" for p in plan_items):
            raise MediaError("items: none of the photos or clips could be read; nothing to render")

        music, beats, excerpt_len = self._music(request.track, warnings)
        try:
            downbeats = list(request.track.downbeats) if request.track is not None else []
            tl = plan_timeline(plan_items, settings=s, size=(width, height), fps=fps, beats=beats,
                               downbeats=downbeats,
                               excerpt_duration=excerpt_len, length=request.length or s.length,
                               title=request.title, transitions=request.transitions)
        except ValueError as e:
            raise InputError(str(e)) from e
        warnings += tl.warnings
        if music is not None and excerpt_len is not None and excerpt_len < tl.duration - 0.05:
            warnings.append(f"the music excerpt ({excerpt_len:.1f} s) is shorter than the video "
                            f"({tl.duration:.1f} s); the end is silent")
        made = made_from([i.id for i in request.items], request.cover_path, request.track, request.title,
                         request.captions)
        return Planned(timeline=tl, music=music, warnings=warnings, made_from=made)

    def __call__(self, request: VideoRequest) -> VideoResult:
        s = self.settings
        report = request.progress or (lambda f: None)

        # 1. check the request
        width, height, fps = self.check(request)
        output = Path(request.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        report(0.0)

        # temporaries live beside the output (never /tmp), and what a killed run left
        # there is removed first
        try:
            work = work_folder(output.parent)
        except OSError as e:
            raise InputError(f"output: cannot write in {output.parent} ({e.strerror or e})") from e
        with work as tmp_name:
            tmp = Path(tmp_name)

            # 2.-3. the media checked (unreadable items left out with a warning), the timeline
            planned = self.plan(request, tmp)
            tl, music, warnings, made = planned.timeline, planned.music, planned.warnings, planned.made_from

            # 4. text overlays as PNGs
            texts = self.texts(tl, tmp, request.style)
            report(0.02)

            # 5. render to a temporary name next to the output, rename when complete
            part = part_name(output)
            try:
                if s.backend == "moviepy":  # the same plan, composed with moviepy
                    from .moviepy_render import render as render_moviepy

                    for slot in tl.slots:  # moviepy's reader has no filter to tone-map with
                        if slot.item.hdr:
                            warnings.append(f"{slot.item.origin or slot.item.path}: an HDR clip, shown without "
                                            "tone mapping by the moviepy backend (its colours look flat); "
                                            "the default ffmpeg backend tone-maps it")

                    render_moviepy(planned, texts, settings=s, output=part, work=tmp, cancel=request.cancel,
                                   progress=lambda f: report(0.02 + 0.97 * f))
                else:
                    cmd = build_command(tl, texts=texts, music=music, settings=s, output=part)
                    run_render(cmd, duration=tl.duration, cancel=request.cancel, stderr_path=tmp / "ffmpeg.log",
                               progress=lambda f: report(0.02 + 0.97 * f))
                os.replace(part, output)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
        report(1.0)
        return VideoResult(path=str(output), duration=tl.duration, width=width, height=height, fps=fps,
                           cuts=tl.cuts, warnings=warnings, made_from=made)

    def texts(self, tl: Timeline, work: Path, style: str | None = None) -> list:
        """The timeline's title and captions as PNGs in ``work`` (text.render_text, inside
        the safe area), each with its (start, end) seconds."""
        return [(render_text(ov.text, work / f"text{j}.png", frame=(tl.width, tl.height), role=ov.role,
                             area=tl.safe_box, style=style), ov.start, ov.end)
                for j, ov in enumerate(tl.overlays)]

    # -- helpers ---------------------------------------------------------------------------

    def _plan_item(self, item: MediaItem, caption: str | None, tmp: Path | None, n: int,
                   frame: tuple[int, int] | None = None) -> PlanItem:
        """A readable item as a PlanItem; raises MediaError when it cannot be used.

        ``frame`` is the video's (width, height) (default: the settings'); a photo
        ffmpeg would not show as the other stages do is converted into ``tmp`` first
        (not when ``tmp`` is None: a timeline export names the user's file)."""
        if not item.ok:
            raise MediaError(item.error or "it could not be read")
        path = Path(item.path)
        if not path.is_file():
            raise MediaError("file not found")
        kind = item.kind or (MediaKind.clip if item.clip is not None else MediaKind.photo)
        score = item.quality.score if item.quality else 0.5
        if kind == MediaKind.clip:
            from creator.media.ffmpeg import probe

            meta = probe(path)  # MediaError when unreadable or without video
            info = item.clip
            duration = meta["duration"] or (info.duration if info else None)
            if not duration or duration <= 0:
                raise MediaError("its duration is unknown")
            if info is None:
                from creator.types import ClipInfo

                info = ClipInfo(duration=duration, fps=meta["fps"] or 30.0, width=meta["width"],
                                height=meta["height"], has_audio=meta["has_audio"])
            return PlanItem(kind="clip", path=str(path), width=meta["width"], height=meta["height"],
                            item_id=item.id, aim=_aim(item), clip=info, has_audio=meta["has_audio"],
                            caption=caption, score=score, hdr=meta.get("hdr"))
        try:
            meta = photo_meta(path)  # the header only; MediaError names the file
            w, h = meta["width"], meta["height"]  # as displayed
            if w < 16 or h < 16:
                raise MediaError(f"too small ({w}x{h})")
            pi = PlanItem(kind="photo", path=str(path), width=w, height=h, item_id=item.id,
                          aim=_aim(item), caption=caption, score=score)
            side = _needed_side((w, h), frame or (self.settings.width, self.settings.height),
                                self.settings.zoom)
            direct = (meta["mode"] in _DIRECT.get(meta["format"] or "", ()) and meta["orientation"] == 1
                      and not meta["colour_profile"] and max(w, h) <= _DIRECT_OVERSIZE * side)
            if not direct and tmp is not None:
                conv = tmp / f"photo{n}.jpg"
                open_photo(path, max_side=side).save(conv, quality=92)
                pi.origin, pi.path = pi.path, str(conv)
        except BackendUnavailable as e:  # e.g. a HEIC photo without pillow-heif
            raise MediaError(str(e)) from e
        except OSError as e:  # the temporary JPEG could not be written
            raise MediaError(f"cannot be converted for the video ({e})") from e
        return pi

    def _music(self, track: TrackMatch | None, warnings: list[str]
               ) -> tuple[tuple[str, float, float] | None, list[float], float | None]:
        """(path, excerpt start, seconds available), the beats, the excerpt length."""
        if track is None:
            return None, [], None
        if not Path(track.path).is_file():
            warnings.append(f"music {track.path}: file not found; the video has no music")
            return None, [], None
        try:
            total, has_audio = probe_audio(track.path)
        except MediaError as e:
            warnings.append(f"music {track.path}: {e}; the video has no music")
            return None, [], None
        if not has_audio:
            warnings.append(f"music {track.path}: no audio stream; the video has no music")
            return None, [], None
        start = track.excerpt.start if track.excerpt else 0.0
        total = total or 0.0
        avail = max(0.0, total - start) if total else None
        if track.excerpt:
            avail = min(avail, track.excerpt.duration) if avail is not None else track.excerpt.duration
        if avail is not None and avail < 1.0:
            warnings.append(f"music {track.path}: the excerpt is {avail:.1f} s long; the video has no music")
            return None, [], None
        return (str(track.path), start, avail or 0.0), list(track.beats), avail
