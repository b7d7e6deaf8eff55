"""Understanding: what is in each photo and clip, where and when, how good it is.

``understand(paths) -> NoteContext`` is the stage every other stage starts from:

1. load: probe every file (creator.media), errors kept per item;
2. look: decode each photo small (and a few keyframes of each clip), in batches;
3. detect faces, tag with the configured backend (lite or clip), score quality;
4. place: reverse-geocode EXIF GPS offline;
5. summarise: moments, places, dates, top tags, mood → NoteContext.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..config import Settings
from ..errors import BackendUnavailable, Cancelled, CreatorError
from ..types import MediaItem, MediaKind, NoteContext, Tag

__all__ = ["understand", "understand_items", "look_item", "face_detector", "Progress"]

# progress(stage, done, total); stage is "load", "tag" or "place".
Progress = Callable[[str, int, int], None]

# A clip is looked at through at most this many keyframes (spread over its shots).
MAX_CLIP_KEYFRAMES = 4

def _clip_keyframe_times(item: MediaItem) -> list[float]:
    assert item.clip is not None
    times = [t for shot in item.clip.shots for t in shot.keyframes]
    if not times:
        times = [item.clip.duration / 2]
    if len(times) > MAX_CLIP_KEYFRAMES:
        step = len(times) / MAX_CLIP_KEYFRAMES
        times = [times[int(k * step)] for k in range(MAX_CLIP_KEYFRAMES)]
    return times


def _look(item: MediaItem, size: int, max_decode_mb: float | None = None):
    """Decoded images of an item (one for a photo, a few keyframes for a clip); a photo
    over the decode budget raises MediaError."""
    from .. import media

    if item.kind == MediaKind.clip:
        return media.read_frames(item.path, _clip_keyframe_times(item), max_side=size)
    return [media.open_photo(item.path, max_side=size, max_decode_mb=max_decode_mb)]


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """torch's intra-op thread count set to ``n`` for a block (None: leave it)."""
    if not n:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check(cancel: threading.Event | None, *futures) -> None:
    """Raise Cancelled when ``cancel`` is set (the futures not started yet are dropped)."""
    if cancel is not None and cancel.is_set():
        for f in futures:
            f.cancel()
        raise Cancelled("understanding cancelled")


def _naming(item: MediaItem, message: str) -> str:
    """``message`` as one line that starts with the item's file name (every per-item error
    names its file)."""
    name = Path(item.path).name
    line = " ".join(message.split())
    return line if line.startswith(name) else f"{name}: {line}"


def _merge_tags(per_frame: list[list[Tag]]) -> list[Tag]:
    best: dict[str, Tag] = {}
    for tags in per_frame:
        for t in tags:
            if t.id not in best or t.score > best[t.id].score:
                best[t.id] = t
    return sorted(best.values(), key=lambda t: -t.score)


def face_detector(settings: Settings) -> tuple[object | None, list[str]]:
    """The face detector ``settings.tagging.faces`` asks for (None when off), and the
    warning to carry when it is unavailable."""
    if not settings.tagging.faces:
        return None, []
    try:
        from .faces import get_face_detector

        return get_face_detector(), []
    except BackendUnavailable as e:
        return None, [f"face detection unavailable: {e}"]


def look_item(item: MediaItem, settings: Settings, detector=None) -> list[tuple]:
    """Step 2 for one item, before tagging: decode it (one image for a photo, a few
    keyframes for a clip), find faces, score quality — ``[(image, faces, quality)]``
    frame by frame. Raises MediaError (or the decoder's own error) for a file that can't
    be decoded. understand_items runs it in worker threads; ``creator tag --ray`` in
    Ray tasks, apart from the tagging actors."""
    from .quality import assess

    frames = _look(item, settings.tagging.image_size, settings.media.max_decode_mb)
    faces = [detector.detect(f) if detector else [] for f in frames]
    return [(f, b, assess(f, b, name=Path(item.path).name)) for f, b in zip(frames, faces)]


def understand_items(
    items: list[MediaItem],
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
    tagger=None,
    cancel: threading.Event | None = None,
    looked: dict[int, list[tuple] | BaseException] | None = None,
    warnings: Sequence[str] = (),
) -> list[MediaItem]:
    """Tag, score and place already-loaded items (steps 2–4). Returns new items; items
    with an error pass through unchanged, and an item that fails here gets an error.
    ``cancel`` (set by another thread) stops it between items: raises Cancelled.
    ``looked``: :func:`look_item`'s result (or the error it raised) for items already
    decoded elsewhere, by index; those are not decoded again (``warnings``: what that
    decoding had to say, e.g. no face detector)."""
    from concurrent.futures import Future

    from .backends import get_tagger
    from .places import locate
    from .sun import item_sun

    settings = settings or Settings()
    cfg = settings.tagging
    tagger = tagger or get_tagger(cfg)
    looked = looked or {}
    warnings = list(warnings)
    detector = None
    if any(k not in looked for k, i in enumerate(items) if i.ok):  # something to decode here
        detector, more = face_detector(settings)
        warnings += more

    out = list(items)
    todo = [k for k, i in enumerate(items) if i.ok]
    suns = {k: item_sun(items[k]) for k in todo}  # the sun's elevation, where place and instant are known
    total = len(todo)
    done = 0
    batch = cfg.batch_size

    def submit(pool, k: int) -> Future:
        if k not in looked:
            return pool.submit(look_item, items[k], settings, detector)
        ready: Future = Future()
        if isinstance(looked[k], BaseException):
            ready.set_exception(looked[k])
        else:
            ready.set_result(looked[k])
        return ready

    # Two workers look at items (decode + faces + quality) while this thread runs the
    # batched classifier on the chunk before: on two cores that keeps both busy. torch
    # runs single-threaded meanwhile — intra-op threads on top of these workers only
    # thrash (MTCNN went from ~65 ms to 400+ ms a photo with 2 intra-op threads here).
    with _torch_threads(cfg.torch_threads), ThreadPoolExecutor(max_workers=2) as pool:
        chunks = [todo[a:a + batch] for a in range(0, len(todo), batch)]
        pending = [submit(pool, k) for k in chunks[0]] if chunks else []
        for c, chunk in enumerate(chunks):
            current = pending
            if c + 1 < len(chunks):  # look at the next chunk while this one is tagged
                pending = [submit(pool, k) for k in chunks[c + 1]]
            looked: list[tuple] = []
            owners: list[int] = []
            for k, fut in zip(chunk, current):
                _check(cancel, *current, *pending)
                try:
                    frames = fut.result()
                except CreatorError as e:
                    out[k] = items[k].model_copy(update={"error": _naming(items[k], str(e))})
                    continue
                except Exception as e:  # a decoder crash on one file must not sink the batch
                    out[k] = items[k].model_copy(update={
                        "error": _naming(items[k], f"could not decode ({type(e).__name__}: {e})")})
                    continue
                looked.extend(frames)
                owners.extend([k] * len(frames))
            if looked:
                taken = [items[k].taken_at for k in owners]
                sun = [suns[k] for k in owners]
                tags = tagger.tag([f for f, _, _ in looked], faces=[b for _, b, _ in looked],
                                  taken_at=taken, sun=sun)
                for k in dict.fromkeys(owners):
                    idx = [j for j, o in enumerate(owners) if o == k]
                    best = max(idx, key=lambda j: looked[j][2].score)
                    out[k] = items[k].model_copy(update={
                        "tags": (facts := _merge_tags([tags[j] for j in idx])[: cfg.max_tags]),
                        # tags a backend was unsure of (lite: below its calibrated threshold)
                        "suggestions": [t for t in _merge_tags([getattr(tags[j], "suggestions", []) for j in idx])
                                        if t.id not in {f.id for f in facts}][: cfg.max_tags],
                        "quality": looked[best][2],
                        "warnings": items[k].warnings + warnings,
                    })
            done += len(chunk)
            if progress:
                progress("tag", done, total)

    for k in todo:
        if out[k].ok and out[k].gps is not None:
            out[k] = out[k].model_copy(update={"place": locate(out[k].gps)})
    if progress:
        progress("place", total, total)
    return out


def understand(
    paths: Iterable[str | Path] | str | Path,
    settings: Settings | None = None,
    *,
    hints: Sequence[str] | None = None,
    recursive: bool = True,
    progress: Progress | None = None,
    tagger=None,
    cancel: threading.Event | None = None,
) -> NoteContext:
    """Understand photos and clips (files or folders) and summarise the trip.

    Parameters
    ----------
    paths : files or folders (walked recursively for supported media).
    settings : Settings; default: the lite profile.
    hints : the user's own words about the trip, kept in the context for the captions.
    progress : called as ``progress(stage, done, total)``.
    tagger : a TaggingBackend to use instead of the configured one (tests, services).
    cancel : an Event another thread may set: the work stops between items and
        Cancelled is raised.

    Returns
    -------
    NoteContext with every item (failed ones carry ``error``), moments, places, dates,
    top tags and mood.
    """
    from .. import media
    from .moments import build_context

    if isinstance(paths, (str, Path)):
        paths = [paths]
    settings = settings or Settings()

    def load_progress(done: int, total: int) -> None:
        _check(cancel)  # raised here, load_media drops the files not read yet
        if progress:
            progress("load", done, total)

    # no trial decode at load: every photo is decoded next, and errors are caught there
    items = media.load_media(list(paths), recursive=recursive, progress=load_progress, verify=False)
    items = understand_items(items, settings, progress=progress, tagger=tagger, cancel=cancel)
    warnings = sorted({w for i in items for w in i.warnings})
    return build_context(items, hints=list(hints or []), warnings=warnings)
