"""Where a draft lives on disk: ``draft.json`` in its folder, written atomically under
the folder's lock, read back (older schemas upgraded) with its paths made absolute.

This is the part of draft storage that needs no stage and no type of this package: the
functions take the draft (a :class:`creator.types.Draft`, or its class when reading) as
an argument, so ``creator.types`` (``Draft.save`` / ``Draft.load``) builds on it and
``creator.drafts`` (resolvers, sharing, staging, checks) builds on both. Import these
names from ``creator.drafts``, which re-exports them.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import DraftError, InputError

__all__ = [
    "DRAFT_FILE",
    "DRAFT_SCHEMA_VERSION",
    "GPS_DECIMALS",
    "LOCK_FILE",
    "LOCK_TIMEOUT",
    "atomic_write_bytes",
    "atomic_write_text",
    "draft_folder",
    "draft_lock",
    "read_draft",
    "read_draft_json",
    "save_draft",
    "save_draft_unlocked",
]

M = TypeVar("M", bound=BaseModel)


DRAFT_FILE = "draft.json"
LOCK_FILE = ".draft.lock"
# The draft.json schema this version writes; older ones are upgraded by _MIGRATIONS.
DRAFT_SCHEMA_VERSION = 1

# Saved coordinates: 3 decimals is at most ~56 m off in latitude (and less in longitude),
# far inside the 5 km within which moments group (creator.understanding.moments) and
# finer than the towns places are named after, while no longer a street address.
GPS_DECIMALS = 3

# Upgrades from an older schema: version → function(dict) -> dict of the next version.
_MIGRATIONS: dict[int, callable] = {}


# -- atomic writes -----------------------------------------------------------------------

def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _read_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give what a plain open() would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


# -- paths -------------------------------------------------------------------------------

def draft_folder(directory: str | os.PathLike) -> Path:
    """The draft folder as an absolute path (a ``draft.json`` path names its folder)."""
    p = Path(os.path.abspath(os.fspath(directory)))
    return p.parent if p.name == DRAFT_FILE and not p.is_dir() else p


def _real(path: str | os.PathLike, field: str) -> str:
    try:
        return os.path.realpath(os.fspath(path))
    except (ValueError, OSError) as e:  # a NUL byte, a symlink loop
        raise DraftError(f"{field}: not a usable path ({e})") from None


def _inside(real: str, root_real: str) -> bool:
    return real != root_real and os.path.commonpath([real, root_real]) == root_real


def _disk_path(value: str | None, folder: Path, root_real: str) -> str | None:
    """An own file as saved: POSIX and relative when inside the draft folder, else absolute."""
    if not value:
        return value
    absolute = os.path.abspath(value)
    for base in (str(folder), root_real):
        if _inside(absolute, base):
            return PurePosixPath(*Path(os.path.relpath(absolute, base)).parts).as_posix()
    with contextlib.suppress(ValueError, OSError):
        real = os.path.realpath(absolute)
        if _inside(real, root_real):
            return PurePosixPath(*Path(os.path.relpath(real, root_real)).parts).as_posix()
    return absolute


def _memory_path(value: str | None, folder: Path) -> str | None:
    """A saved path as held in memory: absolute (a relative one is from the draft folder).

    Drafts saved before paths were relative to their folder hold them relative to the
    working directory of the run (``make_hz/assets/c.png`` for ``-o make_hz``): when the
    path is not in the folder, the shortest tail of it that is (``assets/c.png``) is
    taken."""
    if not value or os.path.isabs(value):
        return value
    parts = PurePosixPath(value.replace("\\", "/")).parts
    full = os.path.join(folder, *parts)
    if len(parts) > 1 and not os.path.exists(full):
        for k in range(1, len(parts)):
            tail = parts[k:]
            if ".." not in tail and os.path.isfile(os.path.join(folder, *tail)):
                return os.path.join(folder, *tail)
    return full


def _map_paths(draft: BaseModel, fn, item_fn=None) -> BaseModel:
    """A copy of ``draft`` with ``fn`` applied to every own-file and track path and
    ``item_fn`` (default ``fn``) to every item's path."""
    item_fn = item_fn or fn
    d = draft.model_copy(deep=True)
    if d.cover is not None:
        d.cover = d.cover.model_copy(update={"path": fn(d.cover.path)})
    d.covers = [c.model_copy(update={"path": fn(c.path)}) for c in d.covers]
    if d.video is not None:
        d.video = d.video.model_copy(update={"path": fn(d.video.path)})
    if d.track is not None:
        d.track = d.track.model_copy(update={"path": fn(d.track.path)})
    d.tracks = [t.model_copy(update={"path": fn(t.path)}) for t in d.tracks]
    d.context = d.context.model_copy(update={
        "items": [i.model_copy(update={"path": item_fn(i.path)}) for i in d.context.items]})
    return d


def _trim_gps(gps):
    """A GPS position rounded to GPS_DECIMALS, without altitude (None stays None)."""
    if gps is None:
        return None
    return type(gps)(lat=round(gps.lat, GPS_DECIMALS), lon=round(gps.lon, GPS_DECIMALS))


def _for_disk(draft: BaseModel, folder: Path) -> BaseModel:
    root_real = _real(folder, "draft folder")
    d = _map_paths(draft, lambda v: _disk_path(v, folder, root_real),
                   item_fn=lambda v: os.path.abspath(v) if v else v)
    d.context = d.context.model_copy(update={
        "items": [i.model_copy(update={"gps": _trim_gps(i.gps)}) for i in d.context.items]})
    return d


# -- draft.json ----------------------------------------------------------------------------

def save_draft(draft: BaseModel, directory: str | Path) -> Path:
    """Write ``draft.json`` (and ``caption.md`` when there is a caption) into ``directory``,
    under the draft folder's lock. Own files are saved relative to the folder, the
    user's media by absolute path, coordinates rounded and without altitude."""
    folder = draft_folder(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with draft_lock(folder):
        return save_draft_unlocked(draft, folder)


def save_draft_unlocked(draft: BaseModel, directory: str | Path) -> Path:
    """:func:`save_draft` without taking the lock: for a staging folder, or a caller that
    holds the draft's lock already."""
    folder = draft_folder(directory)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    draft = _for_disk(draft, folder).model_copy(update={"updated_at": now, "created_at": draft.created_at or now})
    if draft.caption is not None:
        atomic_write_text(folder / "caption.md", draft.caption.markdown())
    atomic_write_text(folder / DRAFT_FILE, draft.model_dump_json(indent=2))
    return folder / DRAFT_FILE


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a draft may hold")


def read_draft_json(path: Path) -> dict:
    """The JSON of a draft file, upgraded to this schema; DraftError when unreadable,
    not a draft, or newer."""
    try:
        # NaN and Infinity are read by Python's json but written by no draft (pydantic
        # saves them as null, which the types then refuse): a hand-made one is refused here
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise DraftError(f"no draft at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DraftError(f"{path} is not a readable draft: {e}") from None
    except ValueError as e:
        raise DraftError(f"{path} is damaged: {e}") from None
    except RecursionError:  # "[[[[..." nested past the parser's stack: no draft is that deep
        raise DraftError(f"{path} is not a readable draft: nested too deeply") from None
    if not isinstance(data, dict):
        raise DraftError(f"{path} is not a draft (expected a JSON object)")
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DraftError(f"{path} is damaged: schema_version must be a whole number from 1, got {version!r}")
    if version > DRAFT_SCHEMA_VERSION:
        raise DraftError(
            f"{path} was written by a newer version of the assistant (draft schema {version}, "
            f"this version reads up to {DRAFT_SCHEMA_VERSION}); upgrade travel-note-creator"
        )
    while version < DRAFT_SCHEMA_VERSION:
        data = _MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


def read_draft(directory: str | Path, model: type[M]) -> M:
    """Read a draft folder (or a draft.json path) into ``model`` (creator.types.Draft);
    older schemas are upgraded, and the paths come back absolute (own files from the
    draft folder).

    Raises DraftError with a readable message for a missing, corrupt or newer draft.
    """
    path = Path(os.path.abspath(os.fspath(directory)))
    if path.is_dir():
        path = path / DRAFT_FILE
    data = read_draft_json(path)
    try:
        draft = model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise DraftError(f"{path} is damaged: {where}: {first['msg']} ({e.error_count()} problems)") from None
    try:
        return _map_paths(draft, lambda v: _memory_path(v, path.parent))
    except (ValueError, TypeError) as e:
        raise DraftError(f"{path} is damaged: a path cannot be read ({e})") from None


# -- the folder lock ---------------------------------------------------------------------

_LOCKS: dict[str, object] = {}
_LOCKS_GUARD = threading.Lock()
LOCK_TIMEOUT = 30.0


def _file_lock(folder: Path):
    from filelock import FileLock

    key = _real(folder, "draft folder")
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            # thread-local: re-entrant in one thread, exclusive between threads and processes
            lock = _LOCKS[key] = FileLock(os.path.join(key, LOCK_FILE), thread_local=True)
        return lock


@contextlib.contextmanager
def draft_lock(directory: str | os.PathLike, *, timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold the draft folder's lock (``<folder>/.draft.lock``) for a block; re-entrant in
    one thread. ``timeout=0``: fail at once if another writer holds it. DraftError when
    the lock can't be had, InputError when the folder can't be written."""
    from filelock import Timeout

    folder = draft_folder(directory)
    lock = _file_lock(folder)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise DraftError(f"{folder}: another process is writing this draft; "
                         "try again when it has finished", code="draft_busy") from None
    except OSError as e:
        raise InputError(f"{folder}: cannot write into this folder ({e.strerror or e})") from None
    try:
        yield folder
    finally:
        lock.release()
