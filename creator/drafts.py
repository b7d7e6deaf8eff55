"""Saving and reopening drafts: ``draft.json`` plus the files beside it.

A draft folder holds ``draft.json`` (the :class:`~creator.types.Draft`), and what the
stages rendered: ``caption.md``, ``cover.png`` (and other candidates under
``assets/``), ``note.mp4``. Every file is written to a temporary name in the same
folder and renamed when complete, so a crash never leaves a half-written draft.

Paths. On disk a draft names its *own* files (cover, covers, video, and tracks the user
uploaded into it) relative to the draft folder, in POSIX form, and the user's media by
absolute path; :func:`load_draft` turns them back into absolute paths, so a draft opened
from any working directory (or moved as a whole) finds its files. Whoever reads a file
a draft names goes through one of three resolvers: :func:`own_file` (inside the draft
folder, symlinks followed, else refused), :func:`media_file` (an item's photo or clip:
in a server context only inside the draft folder or configured roots, with its content
id checked) and :func:`track_file` (a track by its id in the music library, or a file
inside the draft folder). Nothing else opens a path taken from a draft.json.

Sharing. :func:`shareable_draft` is the copy of a draft that may leave the machine: no
GPS, no altitude, no absolute local path anywhere. The local draft keeps coordinates
rounded to :data:`GPS_DECIMALS` decimals and no altitude.

Storage. ``draft.json``, its lock and the atomic writers live in :mod:`creator.draft_store`
(below :mod:`creator.types`, so that ``Draft.save`` / ``Draft.load`` need nothing above
them); this module re-exports them and adds everything that needs the types.

Writers. :func:`draft_lock` locks a draft folder (``filelock``) across threads and
processes; :func:`save_draft` takes it, and ``Assistant.create`` holds it for a whole
run, rendering into a staging folder inside the draft folder and moving the files into
place (``draft.json`` last) with :func:`commit_staging`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .draft_store import (DRAFT_FILE, DRAFT_SCHEMA_VERSION, GPS_DECIMALS, LOCK_FILE,  # noqa: F401 (re-exported)
                          LOCK_TIMEOUT, _UMASK, atomic_write_bytes, atomic_write_text, draft_folder, draft_lock,
                          read_draft, read_draft_json, save_draft, save_draft_unlocked)
from .draft_store import _disk_path, _inside, _map_paths, _real
from .errors import DraftError, InputError
from .types import Draft, MediaItem, TrackMatch

__all__ = [
    "save_draft",
    "save_draft_unlocked",
    "load_draft",
    "list_drafts",
    "atomic_write_bytes",
    "atomic_write_text",
    "DRAFT_FILE",
    "GPS_DECIMALS",
    "check_draft_id",
    "draft_folder",
    "own_file",
    "own_files",
    "media_file",
    "track_file",
    "shareable_draft",
    "shareable_json",
    "draft_lock",
    "edit_draft",
    "delete_draft",
    "staging_folder",
    "commit_staging",
    "check_output_dir",
    "check_output_file",
    "check_existing_draft",
    "input_collisions",
    "clean_stale_staging",
    "read_draft_json",
]

STAGING_PREFIX = ".staging-"
# Names a run writes into a draft folder (besides assets/ and cover.<ext>).
OUTPUT_NAMES = (DRAFT_FILE, "caption.md", "note.mp4", "note.zip")
ASSETS = "assets"
POST = "post"  # the image note ready to post, replaced whole by each export


MAX_ID_LENGTH = 80
# letters and digits of any script (草稿, été), '_', '-', '.', and spaces inside; no leading
# dot, no separator, no trailing space or dot (Windows drops them)
_ID = re.compile(r"[\w-](?:[\w. -]*[\w-])?")


# -- ids and folders ---------------------------------------------------------------------

def check_draft_id(value: object) -> str:
    """``value`` if it is a valid draft id (a plain folder name: letters and digits of any
    script, ``._-`` and spaces inside, not starting with a dot, at most 80 characters),
    else InputError."""
    if not isinstance(value, str) or not value:
        raise InputError("draft id: empty")
    if len(value) > MAX_ID_LENGTH:
        raise InputError(f"draft id: longer than {MAX_ID_LENGTH} characters")
    if not _ID.fullmatch(value):
        raise InputError(f"draft id: {value[:40]!r} is not a plain name (letters, digits, '.', '_', '-', "
                         "spaces inside; no leading dot, no slash)", code="bad_draft_id")
    return value


def own_file(draft_dir: str | os.PathLike, value: str | os.PathLike | None, *, field: str,
             must_exist: bool = False) -> Path:
    """One of the draft's own files (cover, covers[k], video, assets/, post/...): ``value``
    relative to the draft folder, or absolute inside it; symlinks followed. DraftError
    naming ``field`` when it points outside the draft folder (or, with ``must_exist``,
    when the file is missing)."""
    if value is None or not os.fspath(value):
        raise DraftError(f"{field}: no file")
    value = os.fspath(value)
    if "\0" in value:
        raise DraftError(f"{field}: not a usable path (NUL byte)")
    folder = draft_folder(draft_dir)
    root = _real(folder, "draft folder")
    real = _real(value if os.path.isabs(value) else os.path.join(folder, value), field)
    if not _inside(real, root):
        raise DraftError(f"{field}: points outside the draft folder")
    if must_exist and not os.path.isfile(real):
        name = PurePosixPath(value.replace(os.sep, '/')).name
        raise DraftError(f"{field}: file not found ({name})", code="file_not_found", name=name)
    return Path(real)


def own_files(draft: Draft) -> list[tuple[str, str]]:
    """(field, path) of every own file a draft names: the chosen cover, the candidates,
    the video."""
    out = []
    if draft.cover is not None and draft.cover.path:
        out.append(("cover.path", draft.cover.path))
    for k, c in enumerate(draft.covers):
        if c.path:
            out.append((f"covers.{k}.path", c.path))
    if draft.video is not None and draft.video.path:
        out.append(("video.path", draft.video.path))
    return out


def _content_id(real: str) -> str:
    from .media import cached_content_id

    return cached_content_id(real)


def media_file(item: MediaItem, draft_dir: str | os.PathLike, roots: Sequence[str | os.PathLike] | None = None,
               *, check_id: bool = True) -> Path:
    """The file of one of the user's photos or clips, for reading.

    ``roots=None``: a local context (the CLI, the SDK on the user's own machine): the
    recorded path (absolute, or relative to the draft folder). In a server context (the
    editor, an API) pass ``roots``, the folders media may come from besides the draft
    folder (uploads live in ``<draft>/media``): a path outside all of them is refused.
    In both, with ``check_id`` (the default), the file's content must still be what the
    draft was made from (``item.id``, the content hash; checked once per file version
    and cached), so a draft.json edited by hand or crafted can't name a file its author
    never had: whoever writes one can't know a private file's hash. DraftError when
    refused."""
    field = f"item {item.id}"
    if not item.path:
        raise DraftError(f"{field}: no file")
    folder = draft_folder(draft_dir)
    path = item.path if os.path.isabs(item.path) else os.path.join(folder, item.path)
    if "\0" in path:
        raise DraftError(f"{field}: not a usable path (NUL byte)")
    name = PurePosixPath(item.path.replace("\\", "/")).name
    real = _real(path, field)
    if roots is not None:
        allowed = [_real(folder, "draft folder")] + [_real(r, "media root") for r in roots]
        if not any(_inside(real, r) for r in allowed):
            raise DraftError(f"{field} ({name}): not among the draft's media (outside the draft folder "
                             "and the allowed media folders)", code="media_outside", name=name)
    if check_id:
        return _same_content(real, item.id, f"{field} ({name})", name,
                             "the file is no longer the one the draft was made from")
    if not os.path.isfile(real):
        raise DraftError(f"{field} ({name}): file not found", code="file_not_found", name=name)
    return Path(real)


def _same_content(real: str, want: str, field: str, name: str, changed: str) -> Path:
    """``real`` when it is a file whose content id is ``want``; else DraftError naming
    ``field`` (file not found, cannot be read, or ``changed``)."""
    if not os.path.isfile(real):
        raise DraftError(f"{field}: file not found", code="file_not_found", name=name)
    try:
        same = _content_id(real) == want
    except OSError as e:
        raise DraftError(f"{field}: cannot be read ({e.strerror or e})") from None
    if not same:
        raise DraftError(f"{field}: {changed}", code="file_changed", name=name)
    return Path(real)


def readable_items(items: Iterable[MediaItem], draft_dir: str | os.PathLike,
                   roots: Sequence[str | os.PathLike] | None = None) -> list[MediaItem]:
    """``items`` as a stage may read them: each with the file :func:`media_file` resolves
    as its path, or, when it is refused (moved, changed since, outside the allowed
    folders, a made-up id), marked with the reason in ``error`` (so ``ok`` is False and
    no stage opens it). An item already in error stays as it is."""
    out = []
    for item in items:
        if not item.ok:
            out.append(item)
            continue
        try:
            out.append(item.model_copy(update={"path": str(media_file(item, draft_dir, roots))}))
        except DraftError as e:
            out.append(item.model_copy(update={"error": str(e)}))
    return out


def track_file(track: TrackMatch, draft_dir: str | os.PathLike, library=None) -> Path:
    """The audio file of a track, for reading.

    ``library=None``: a local context, the recorded path (absolute, or relative to the
    draft folder): a file inside the draft folder (an upload), or one whose content is
    the track the draft chose (``track_id``, the content hash its library gave it), so
    a crafted draft.json can't make a render read any other audio file. In a server
    context pass the music library's index
    (:class:`creator.music.library.LibraryIndex`, or a mapping track id → path): the
    track is found by its ``track_id`` there, or is a file inside the draft folder (an
    upload); ``track.path`` is never taken at face value. DraftError when refused."""
    folder = draft_folder(draft_dir)
    value = track.path or ""
    if library is None:
        if not value:
            raise DraftError("track.path: no file")
        if "\0" in value:
            raise DraftError("track.path: not a usable path (NUL byte)")
        with contextlib.suppress(DraftError):
            return own_file(folder, value, field="track.path", must_exist=True)
        name = PurePosixPath(value.replace("\\", "/")).name
        real = _real(value if os.path.isabs(value) else os.path.join(folder, value), "track.path")
        return _same_content(real, track.track_id, f"track {track.track_id} ({name})", name,
                             "the file is not the track the draft chose")
    if value:
        with contextlib.suppress(DraftError):
            real = own_file(folder, value, field="track.path")
            if os.path.isfile(real):
                return real
    paths = library if isinstance(library, dict) else {t.id: t.path for t in library.tracks}
    found = paths.get(track.track_id)
    if found is None:
        raise DraftError(f"track {track.track_id}: not in the music library nor in the draft folder")
    if not os.path.isfile(found):
        raise DraftError(f"track {track.track_id} ({Path(found).name}): file not found")
    return Path(found)


# -- on disk -----------------------------------------------------------------------------


TRASH = ".trash"


def delete_draft(root: str | Path, draft_id: str) -> Path:
    """Take the draft ``draft_id`` out of ``root``'s list: its folder is moved (under
    its lock) into ``root/.trash/`` with the time appended, never erased, so a click in
    the wrong place loses nothing. Returns where it went; DraftError when there is none."""
    did = check_draft_id(draft_id)
    folder = Path(root) / did
    if not (folder / DRAFT_FILE).is_file():
        raise DraftError(f"draft {did}: not found")
    trash = Path(root) / TRASH
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / f"{did}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
    with draft_lock(folder):
        os.replace(folder, target)
    return target


def load_draft(directory: str | Path) -> Draft:
    """Read a draft folder (or a draft.json path); older schemas are upgraded, and the
    paths come back absolute (own files from the draft folder).

    Raises DraftError with a readable message for a missing, corrupt or newer draft.
    """
    return read_draft(directory, Draft)


def edit_draft(directory: str | Path, change) -> Draft:
    """Read the draft in ``directory``, apply ``change(draft)`` and save it, all under the
    folder's lock: two editors (two browser tabs, two processes) each see the other's
    last edit and neither loses theirs. Returns the saved draft."""
    folder = draft_folder(directory)
    with draft_lock(folder):
        draft = load_draft(folder)
        change(draft)
        save_draft_unlocked(draft, folder)
    return draft


# -- sharing -----------------------------------------------------------------------------

# an absolute POSIX or Windows folder prefix inside a message ("/home/u/trip/" of
# "/home/u/trip/a.jpg: file not found"), dropped so that only the file name stays
_ABS_PREFIX = re.compile(r"(?<![\w.~])(?:~|/(?=[^\s/]))(?:/?[^\s/\"'()\[\]<>]+)*/(?=[^\s/])"
                         r"|\b[A-Za-z]:\\(?:[^\s\\\"'<>]+\\)*")


def _scrub(text: str, known: Sequence[str]) -> str:
    for p in known:
        if p and p in text:
            text = text.replace(p, os.path.basename(p.rstrip("/\\")) or "")
    return _ABS_PREFIX.sub("", text)


def shareable_draft(draft: Draft, draft_dir: str | os.PathLike | None = None) -> Draft:
    """The copy of ``draft`` that may leave the machine (the export zip, post/, an API):
    no GPS, no altitude, no absolute local path anywhere. Items and tracks keep only
    their file names; own files are relative to the draft folder (the chosen cover
    only among the candidates); messages lose the folders of the paths they name."""
    folder = draft_folder(draft_dir) if draft_dir is not None else None
    root_real = _real(folder, "draft folder") if folder is not None else None
    known = sorted({p for p in [i.path for i in draft.context.items] + [t.path for t in draft.tracks]
                    + ([draft.track.path] if draft.track else []) + [v for _, v in own_files(draft)]
                    + ([str(folder), root_real] if folder else []) + [os.path.expanduser("~")] if p},
                   key=len, reverse=True)

    def own(v):
        if not v:
            return v
        if folder is not None:
            rel = _disk_path(v, folder, root_real)
            if not os.path.isabs(rel):
                return rel
        return PurePosixPath(v.replace("\\", "/")).name

    def name(v):
        return PurePosixPath(v.replace("\\", "/")).name if v else v

    d = _map_paths(draft, own, item_fn=name)
    d.tracks = [t.model_copy(update={"path": name(t.path)}) for t in d.tracks]
    if d.track is not None:
        d.track = d.track.model_copy(update={"path": name(d.track.path)})
    d.covers = [c for c in d.covers if d.cover is not None and c == d.cover] or ([d.cover] if d.cover else [])

    def clean(msgs):
        return [_scrub(m, known) for m in msgs]

    ctx = d.context
    items = [i.model_copy(update={"gps": None, "warnings": clean(i.warnings),
                                  "error": _scrub(i.error, known) if i.error else None}) for i in ctx.items]
    d.context = ctx.model_copy(update={"items": items, "warnings": clean(ctx.warnings)})
    d.warnings = clean(d.warnings)
    if d.video is not None:
        d.video = d.video.model_copy(update={"warnings": clean(d.video.warnings)})
    if d.caption is not None:
        d.caption = d.caption.model_copy(update={"notes": clean(d.caption.notes)})
    d.alternatives = [c.model_copy(update={"notes": clean(c.notes)}) for c in d.alternatives]
    return d


def shareable_json(draft: Draft, draft_dir: str | os.PathLike | None = None) -> str:
    """:func:`shareable_draft` as the JSON of a draft.json."""
    return shareable_draft(draft, draft_dir).model_dump_json(indent=2)


# -- writers -----------------------------------------------------------------------------


def staging_folder(directory: str | os.PathLike) -> Path:
    """A fresh staging folder inside the draft folder (hidden, so never taken for media)."""
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=draft_folder(directory)))


def clean_stale_staging(directory: str | os.PathLike) -> None:
    """Remove staging folders left by a run that died (call with the lock held)."""
    folder = draft_folder(directory)
    for p in folder.glob(STAGING_PREFIX + "*") if folder.is_dir() else []:
        shutil.rmtree(p, ignore_errors=True)


def commit_staging(staging: str | os.PathLike, directory: str | os.PathLike) -> None:
    """Move every file of ``staging`` to the same place in the draft folder, ``draft.json``
    last, then remove ``staging``. Call with the draft's lock held; each move is a
    rename within one file system."""
    staging, folder = Path(staging), draft_folder(directory)
    files = sorted((p for p in staging.rglob("*") if p.is_file()),
                   key=lambda p: (p.name == DRAFT_FILE, len(p.relative_to(staging).parts), str(p)))
    for f in files:
        target = folder / f.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f, target)
    shutil.rmtree(staging, ignore_errors=True)


def _writable_dir(path: Path, field: str) -> None:
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{field}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{field}: {probe} is not writable")


def check_output_dir(path: str | os.PathLike, *, field: str = "out") -> Path:
    """An output folder, checked before any work: not a file, creatable and writable.
    Returns it absolute; InputError naming ``field`` otherwise."""
    p = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if p.exists() and not p.is_dir():
        raise InputError(f"{field}: {p} is a file, not a folder")
    _writable_dir(p, field)
    return p


def check_output_file(path: str | os.PathLike, *, field: str = "output", suffix: str | None = None) -> Path:
    """An output file, checked before any work: not a folder, in a writable folder, with
    ``suffix`` when given. Returns it absolute; InputError naming ``field`` otherwise."""
    p = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if p.is_dir():
        raise InputError(f"{field}: {p} is a folder; give a file name")
    if suffix and p.suffix.lower() != suffix:
        raise InputError(f"{field}: {p.name} must end in {suffix}")
    _writable_dir(p.parent, field)
    return p


def refuse_replacing_media(outs: Iterable[str | os.PathLike], draft: Draft, draft_dir: str | os.PathLike, *,
                           field: str = "out") -> None:
    """InputError, before any work, when an output would replace one of the draft's own
    photos, clips or its track (``creator video DRAFT -o trip/clip.mp4``): the user's
    originals are never written. Paths compared with symlinks followed."""
    folder = draft_folder(draft_dir)
    named = {}
    for value in [i.path for i in draft.context.items] + [draft.track.path if draft.track else None]:
        if value and "\0" not in value:
            path = value if os.path.isabs(value) else os.path.join(folder, value)
            named[os.path.realpath(path)] = PurePosixPath(value.replace("\\", "/")).name
    for out in outs:
        hit = named.get(os.path.realpath(os.fspath(out)))
        if hit is not None:
            raise InputError(f"{field} {os.fspath(out)}: is one of the draft's own photos, clips or its track "
                             f"({hit}); give another file name")


def media_inside(draft: Draft, draft_dir: str | os.PathLike, folder: str | os.PathLike) -> list[str]:
    """The names of the draft's own photos, clips and track whose files lie inside
    ``folder`` (symlinks followed): an output that replaces ``folder`` whole (post/)
    would take them with it."""
    base = os.path.realpath(os.fspath(folder))
    own = draft_folder(draft_dir)
    hits = []
    for value in [i.path for i in draft.context.items] + [draft.track.path if draft.track else None]:
        if not value or "\0" in value:
            continue
        path = value if os.path.isabs(value) else os.path.join(own, value)
        real = os.path.realpath(path)
        if real != base and os.path.commonpath([real, base]) == base:
            hits.append(PurePosixPath(value.replace("\\", "/")).name)
    return hits


def _is_output_name(rel: PurePosixPath) -> bool:
    parts = rel.parts
    if not parts:
        return False
    if parts[0] in (ASSETS, POST) or parts[0].startswith(STAGING_PREFIX):
        return True  # post/ is replaced whole by each export
    return len(parts) == 1 and (parts[0] in OUTPUT_NAMES or PurePosixPath(parts[0]).stem == "cover")


def input_collisions(out_dir: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> list[str]:
    """The input files a draft written into ``out_dir`` would replace: anything named
    like an output (draft.json, caption.md, cover.*, note.mp4, note.zip) directly in the
    folder, or under assets/; symlinks followed both ways."""
    out = Path(os.path.abspath(os.fspath(out_dir)))
    bases = {str(out), os.path.realpath(out)}
    hits = []
    for f in inputs:
        for cand in {os.path.abspath(f), os.path.realpath(f)}:
            hit = next((b for b in bases if _inside(cand, b)
                        and _is_output_name(PurePosixPath(*Path(os.path.relpath(cand, b)).parts))), None)
            if hit:
                hits.append(os.fspath(f))
                break
    return hits


def check_existing_draft(out_dir: str | os.PathLike, *, overwrite: bool) -> Draft | None:
    """The draft already in ``out_dir`` (None when there is none). An existing draft is
    replaced only with ``overwrite``; a newer or unreadable one never is. InputError /
    DraftError saying so."""
    path = Path(out_dir) / DRAFT_FILE
    if not path.exists() and not path.is_symlink():
        return None
    if not overwrite:
        raise InputError(f"out: {path.parent} already holds a draft ({DRAFT_FILE}); "
                         "use --force (SDK: overwrite=True) to replace it, or choose another folder")
    try:
        return load_draft(path.parent)
    except DraftError as e:
        raise DraftError(f"out: {e}; it is not replaced, even with --force") from None


def list_drafts(root: str | Path) -> list[tuple[Path, str, datetime | None]]:
    """Saved drafts under ``root`` (one folder each), newest first: (folder, title, updated_at).

    A folder whose draft cannot be read is listed with its problem as the title, so the
    user sees it rather than losing it silently.
    """
    root = Path(root)
    out = []
    for f in root.glob(f"*/{DRAFT_FILE}") if root.is_dir() else []:
        try:
            d = load_draft(f.parent)
            title = d.caption.title if d.caption else f.parent.name
            out.append((f.parent, title, d.updated_at))
        except DraftError as e:  # its folder's name, not where the drafts are kept on the server
            out.append((f.parent, f"(unreadable: {str(e).replace(str(f.parent), f.parent.name)})", None))
    out.sort(key=lambda r: r[2] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return out
