"""Media loading: find a trip's photos and clips, read what they are, never change them.

``load_media(paths)`` gives one :class:`~creator.types.MediaItem` per file: its content
id, kind, displayed size, capture time with its UTC offset and GPS position (EXIF for
photos; a clip's creation time and ISO 6709 location), and for clips duration, fps,
rotation, audio and shots with keyframe times. A file that cannot be read gets
an item whose ``error`` says which file and what is wrong; the batch goes on.

Example
-------
>>> from creator.media import load_media, open_photo, read_frames
>>> items = load_media(["~/trip"])  # doctest: +SKIP
>>> img = open_photo(items[0].path, max_side=448)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from ..draft_store import DRAFT_FILE
from ..errors import BackendUnavailable, MediaError
from ..types import GPS, MediaItem, MediaKind
from .clips import clip_info, detect_shots, keyframe_times, read_frames
from .photos import open_photo, photo_meta, plausible_time, register_heif

__all__ = [
    "SUPPORTED_PHOTO",
    "SUPPORTED_CLIP",
    "OTHER_MEDIA",
    "other_media_text",
    "iter_media_files",
    "content_id",
    "load_media",
    "load_item",
    "open_photo",
    "photo_meta",
    "read_frames",
    "clip_info",
    "detect_shots",
    "keyframe_times",
    "register_heif",
]


class _Suffixes(frozenset):
    """File suffixes, stored lower-case with the dot (``".jpg"``). Membership also accepts
    ``"JPG"`` or ``"jpg"``, so ``path.suffix in SUPPORTED_PHOTO`` and ``ext in ...`` both work."""

    def __contains__(self, suffix: object) -> bool:
        if not isinstance(suffix, str) or not suffix.strip("."):
            return False
        return frozenset.__contains__(self, "." + suffix.lower().lstrip("."))


SUPPORTED_PHOTO: frozenset[str] = _Suffixes({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
SUPPORTED_CLIP: frozenset[str] = _Suffixes({".mp4", ".mov", ".webm", ".m4v"})
#: Photo and clip types a folder may hold that are not read here (camera RAW, TIFF, GIF,
#: other containers): a folder scan names them once instead of skipping them in silence.
OTHER_MEDIA = frozenset({".tif", ".tiff", ".bmp", ".gif", ".avif", ".jxl", ".dng", ".cr2", ".cr3", ".nef",
                         ".nrw", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw", ".avi", ".mkv", ".3gp",
                         ".mts", ".m2ts", ".wmv", ".flv", ".mpg", ".mpeg"})

_CHUNK = 1 << 20


def _kind(path: Path) -> MediaKind | None:
    if path.suffix in SUPPORTED_PHOTO:
        return MediaKind.photo
    if path.suffix in SUPPORTED_CLIP:
        return MediaKind.clip
    return None


#: In a folder holding a draft (draft.json), the assistant's own outputs: its cover,
#: video, candidates (assets/) and image note (post/). A folder walk leaves them out, so
#: that a trip folder made into a draft (`creator make trip -o trip`, or `-o trip/笔记`)
#: does not read its cover and post/01.jpg back as the user's photos the next time.
DRAFT_OUTPUT_FILES = frozenset({"note.mp4"})
DRAFT_OUTPUT_DIRS = frozenset({"assets", "post"})


def _walk(paths: Iterable[str | os.PathLike] | str | os.PathLike, *,
          recursive: bool = True) -> list[tuple[Path, str | None]]:
    """``(path, None)`` for each file to load and ``(folder, why)`` for each folder that
    could not be listed or holds photos and clips of types not read here
    (:data:`OTHER_MEDIA`), in :func:`iter_media_files` order."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[tuple[Path, str | None]] = []
    seen: set[str] = set()

    def add(p: Path, why: str | None = None) -> None:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            found.append((p, why))

    for given in paths:
        p = Path(os.path.expanduser(os.fspath(given)))
        if not p.is_dir():
            add(p)
            continue
        batch: list[tuple[Path, str | None]] = []

        def unlisted(e: OSError, top: Path = p, batch: list = batch) -> None:
            folder = Path(e.filename) if e.filename else top
            reason = ("permission denied" if isinstance(e, PermissionError)
                      else (e.strerror or str(e)).lower())
            batch.append((folder, f"{folder.name or folder}: folder cannot be read ({reason}); "
                                  "the photos and clips in it were skipped"))

        other: Counter[str] = Counter()  # photos and clips of types not read here, by suffix
        for root, dirs, files in os.walk(p, onerror=unlisted):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
            made = DRAFT_FILE in files  # a draft folder: what the assistant wrote there is not a photo
            if made:
                dirs[:] = [d for d in dirs if d not in DRAFT_OUTPUT_DIRS]
            for f in files:
                if f.startswith(".") or (made and (Path(f).stem == "cover" or f in DRAFT_OUTPUT_FILES)):
                    continue
                suffix = Path(f).suffix.lower()
                if _kind(Path(f)) is not None:
                    batch.append((Path(root, f), None))
                elif suffix in OTHER_MEDIA:
                    other[suffix] += 1
        for f, why in sorted(batch, key=lambda q: q[0].relative_to(p).parts):
            add(f, why)
        if other:  # said once for the folder, not once a file: RAW+JPEG shooters have hundreds
            n = sum(other.values())
            add(p, f"{p.name or p}: {n} {'file' if n == 1 else 'files'} of a type not read here "
                   f"skipped ({other_media_text(other)}); {_supported_text()}")
    return found


def other_media_text(counts: Counter[str]) -> str:
    """".cr2 ×2, .tiff ×1": the photos and clips of types not read here, counted by suffix."""
    return ", ".join(f"{ext} ×{k}" for ext, k in sorted(counts.items()))


def _supported_text() -> str:
    return (f"photos: {', '.join(sorted(s[1:] for s in SUPPORTED_PHOTO))}; "
            f"clips: {', '.join(sorted(s[1:] for s in SUPPORTED_CLIP))}")


def iter_media_files(paths: Iterable[str | os.PathLike] | str | os.PathLike, *,
                     recursive: bool = True, unreadable: list[tuple[Path, str]] | None = None) -> list[Path]:
    """The files to load, in a stable order.

    A file named explicitly is always kept (a non-media file then gets an error item from
    :func:`load_media`); a folder contributes its photos and clips (suffixes matched
    case-insensitively), searched recursively unless ``recursive=False``, sorted, hidden
    files and folders skipped. Duplicates are dropped, keeping the first. A folder that
    cannot be listed (permissions, a path too long) is not silently dropped, nor are the
    photos and clips of types not read here that a folder holds (RAW, TIFF, GIF...: one
    note a folder, counted by type): when ``unreadable`` is a list, ``(folder, reason)`` is
    appended to it (:func:`load_media` turns each into an error item).
    """
    out = []
    for p, why in _walk(paths, recursive=recursive):
        if why is None:
            out.append(p)
        elif unreadable is not None:
            unreadable.append((p, why))
    return out


def content_id(path: str | os.PathLike) -> str:
    """Stable id of a file: the first 16 hex digits of the SHA-256 of its content (read in
    1 MiB chunks). Raises OSError when the file cannot be read."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()[:16]


# content ids already computed, by (real path, size, mtime): a render or an editor page
# checks that each file is still the one its draft was made from, and hashing a clip
# again for that would cost as much as reading it
_IDS: dict[tuple[str, int, int], str] = {}
_IDS_LOCK = threading.Lock()


def cached_content_id(path: str | os.PathLike) -> str:
    """:func:`content_id`, computed once per file version (real path, size, mtime) in
    this process. Raises OSError when the file cannot be read."""
    real = os.path.realpath(path)
    st = os.stat(real)
    key = (real, st.st_size, st.st_mtime_ns)
    with _IDS_LOCK:
        known = _IDS.get(key)
    if known is None:
        known = content_id(real)
        with _IDS_LOCK:
            if len(_IDS) > 4096:
                _IDS.clear()
            _IDS[key] = known
    return known


def _path_id(path: str) -> str:
    # An unreadable file has no content to hash; its absolute path keeps the id stable.
    return hashlib.sha256(("path:" + path).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _unreadable(path: Path) -> str | None:
    """Why a path cannot be read at all, or None."""
    name = path.name or str(path)
    if not path.exists():
        return f"{name}: file not found" if not path.is_symlink() else f"{name}: broken link"
    if path.is_dir():
        return f"{name}: is a folder, not a photo or clip"
    if not os.access(path, os.R_OK):
        return f"{name}: permission denied (the file cannot be read)"
    if not path.is_file():  # a FIFO or a device (a link to /dev/zero named .jpg): never opened
        return f"{name}: not a regular file (a pipe or a device), not a photo or clip"
    if path.stat().st_size == 0:
        return f"{name}: empty file (0 bytes)"
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 replaced by U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def load_item(path: str | os.PathLike, *, shots: bool = True, verify: bool = True) -> MediaItem:
    """One MediaItem for one file; never raises for a bad file (``error`` says what is
    wrong), only for a programming error. ``verify=False`` skips the small trial decode
    of photos (for callers that decode every photo next anyway and catch errors there)."""
    p = Path(path)
    shown = os.path.abspath(p)
    kind = _kind(p)
    why = _unreadable(p)
    if why is None and not _utf8(shown):
        # Such a name (bytes from another encoding, e.g. an old zip) cannot be written into
        # JSON, a draft or a terminal; say so instead of failing every stage after this one.
        why = f"{_shown(p.name)}: the file name is not valid UTF-8; rename the file to use it"
    if why is not None:
        shown = _shown(shown)
    try:
        item_id = cached_content_id(p) if why is None else _path_id(shown)
    except OSError as e:
        item_id = _path_id(shown)
        why = (f"{p.name}: permission denied (the file cannot be read)"
               if isinstance(e, PermissionError) else f"{p.name}: cannot be read ({e.strerror or e})")
    item = MediaItem(path=shown, id=item_id, kind=kind)
    if why is not None:
        item.error = _shown(why)
        return item
    if kind is None:
        item.error = f"{p.name}: unsupported file type '{p.suffix or '(none)'}' ({_supported_text()})"
        return item
    try:
        if kind is MediaKind.photo:
            meta = photo_meta(p)
            if verify:
                open_photo(p, max_side=64)  # decodes the data: catches truncated/corrupt files
            item.width, item.height = meta["width"], meta["height"]
            item.taken_at, item.utc_offset, item.gps = meta["taken_at"], meta["utc_offset"], meta["gps"]
            item.warnings = [w if w.startswith(p.name) else f"{p.name}: {w}" for w in meta["warnings"]]
        else:
            clip, info = clip_info(p, shots=shots)
            item.clip = clip
            item.width, item.height = clip.width, clip.height
            item.taken_at, warn = plausible_time(info.get("creation_time"))  # none in the future
            if warn:
                item.warnings.append(f"container {warn}")
            if item.taken_at is not None:
                item.utc_offset = info.get("utc_offset")
            if info.get("location") is not None:  # a phone's ISO 6709 position
                item.gps = GPS(lat=round(info["location"][0], 7), lon=round(info["location"][1], 7))
    except (MediaError, BackendUnavailable) as e:
        item.error = str(e)
    except OSError as e:  # e.g. the file vanished while being read
        item.error = f"{p.name}: cannot be read ({e.strerror or e})"
    return item


def load_media(paths: Iterable[str | os.PathLike] | str | os.PathLike, *, recursive: bool = True,
               progress: Callable[[int, int], None] | None = None,
               shots: bool = True, verify: bool = True, workers: int = 2) -> list[MediaItem]:
    """Load photos and clips from files and folders.

    Parameters
    ----------
    paths : files and/or folders (see :func:`iter_media_files`).
    recursive : search folders recursively.
    progress : called as ``progress(done, total)`` after each file.
    shots : find shots and keyframe times of clips (the slow part for long clips).
    verify : decode each photo once at a tiny size to catch truncated or corrupt data.
    workers : files read in parallel (hashing, decoding and ffmpeg release the GIL).

    Returns
    -------
    One MediaItem per file, in :func:`iter_media_files` order. Unreadable, corrupt,
    unsupported or missing files get ``error`` set (naming the file and the problem), and
    so does one item per folder that could not be listed or held photos and clips of
    types not read here; the others are loaded regardless. Originals are only read.
    """
    from concurrent.futures import ThreadPoolExecutor

    found = _walk(paths, recursive=recursive)
    files = [p for p, why in found if why is None]
    loaded: dict[int, MediaItem] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, item in enumerate(pool.map(lambda f: load_item(f, shots=shots, verify=verify), files)):
            loaded[i] = item
            if progress is not None:
                progress(i + 1, len(files))
    items: list[MediaItem] = []
    k = 0
    for p, why in found:
        if why is None:
            items.append(loaded[k])
            k += 1
        else:  # a folder that could not be listed, or its unread types: an error item, so that it is reported
            shown = os.path.abspath(p)
            items.append(MediaItem(path=_shown(shown), id=_path_id(shown), kind=None, error=_shown(why)))
    return items
