"""A music library on disk and its persistent index.

:func:`index_library` scans a folder recursively for audio files, reads their metadata
(tags with mutagen, an optional sidecar ``<track>.json``/``.yaml`` next to each file),
decodes and analyses each new track once, and keeps the results in an index keyed by
content hash (``<index_dir>/<library key>.json``). Re-indexing skips files whose size
and modification time did not change, recognises moved or renamed files by their hash,
drops deleted ones, and reports corrupt or silent files without stopping. Folders reached
through symlinks are walked once (a loop is not followed), and the index is saved as the
scan goes, so an interrupted run keeps every track analysed until then.

Sidecar fields (all optional): ``title``, ``artist``, ``license``, ``moods`` (a list of
mood names, or a mapping mood -> weight), ``genre``, ``comment``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field

from ..drafts import atomic_write_bytes  # re-exported: fsync'd, ordinary permissions
from ..errors import InputError, MediaError
from .analysis import ANALYSIS_VERSION, TrackAnalysis
from .decode import AUDIO_SUFFIXES, DEFAULT_SR

__all__ = [
    "TrackRecord",
    "LibraryIndex",
    "IndexReport",
    "index_library",
    "load_index",
    "default_library_dir",
    "default_index_dir",
    "index_path",
    "content_hash",
    "read_metadata",
    "analyse_file",
    "analyse_track",
    "local_analyser",
    "atomic_write_bytes",
]

INDEX_VERSION = 1

Progress = Callable[[int, int, str], None]


class TrackRecord(BaseModel):
    """One track of the library: where it is, what its metadata says, what it sounds like."""

    model_config = ConfigDict(extra="forbid")

    id: str  # content hash: first 16 hex chars of the file's sha256
    path: str
    size: int
    mtime_ns: int
    sidecar_mtime_ns: int | None = None
    title: str
    artist: str | None = None
    album: str | None = None
    genre: str | None = None
    comment: str | None = None
    license: str | None = None
    declared_moods: dict[str, float] = Field(default_factory=dict)  # from tags or sidecar
    analysis: TrackAnalysis | None = None
    error: str | None = None

    @property
    def usable(self) -> bool:
        """Analysed, not corrupt, not silent: can be matched."""
        return self.error is None and self.analysis is not None and not self.analysis.silent


class LibraryIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = INDEX_VERSION
    analysis_version: int = ANALYSIS_VERSION
    library: str
    updated_at: float = 0.0
    tracks: list[TrackRecord] = Field(default_factory=list)

    @property
    def usable(self) -> list[TrackRecord]:
        return [t for t in self.tracks if t.usable]

    def by_id(self) -> dict[str, TrackRecord]:
        return {t.id: t for t in self.tracks}


@dataclass
class IndexReport:
    """What one :func:`index_library` run did."""

    index: LibraryIndex
    path: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # moved/renamed, or metadata changed
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    silent: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the index itself (e.g. it cannot be saved)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{len(self.index.usable)} usable tracks: {len(self.added)} added, "
                f"{len(self.updated)} updated, {self.unchanged} unchanged, {len(self.removed)} removed, "
                f"{len(self.failed)} failed, {len(self.silent)} silent ({self.seconds:.2f} s)")


def default_library_dir() -> Path:
    """The demo tracks of the ``immich-memories-music`` package (MIT)."""
    from ..resources import package_file

    return package_file("immich_memories_music", "tracks", pip_name="immich-memories-music")


def default_index_dir(settings=None) -> Path:
    """``settings.music.index_dir``, else ``<cache_dir>/music``."""
    if settings is None:
        from ..config import Settings

        settings = Settings()
    return Path(settings.music.index_dir or (Path(settings.cache_dir) / "music"))


def _library_license(root: Path) -> str | None:
    """The license of a whole folder: the demo library is MIT; else a LICENSE file's first line."""
    try:
        if root.resolve() == default_library_dir().resolve():
            return "MIT"
    except Exception:  # noqa: BLE001 - the demo package is optional here
        pass
    for name in ("LICENSE", "LICENSE.txt", "license.txt"):
        f = root / name
        try:
            if f.is_file():
                first = f.read_text("utf-8", "replace").strip().splitlines()
                return first[0].strip()[:80] if first else None
        except OSError:  # an unreadable LICENSE tells nothing; the tracks still index
            return None
    return None


def index_path(library: Path | str, index_dir: Path | str) -> Path:
    """Where the index of ``library`` lives: one JSON file per library folder."""
    root = Path(library).expanduser().resolve()
    key = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:12]
    slug = "".join(c if c.isalnum() else "-" for c in root.name)[:40] or "library"
    return Path(index_dir) / f"{slug}-{key}.json"


def content_hash(path: Path | str, *, chunk: int = 1 << 20) -> str:
    """First 16 hex chars of the sha256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()[:16]


def _sidecar(path: Path) -> Path | None:
    for suffix in (".json", ".yaml", ".yml"):
        for cand in (path.with_suffix(suffix), path.with_name(path.name + suffix)):
            if cand.is_file():
                return cand
    return None


def _first(tags, *keys) -> str | None:
    for k in keys:
        try:
            v = tags.get(k)
        except Exception:  # noqa: BLE001 - odd tag containers
            v = None
        if v:
            v = v[0] if isinstance(v, (list, tuple)) else v
            v = str(getattr(v, "text", [v])[0] if hasattr(v, "text") else v).strip()
            if v:
                return v
    return None


def _parse_moods(value) -> dict[str, float]:
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k).strip().lower(): float(v) for k, v in value.items()}
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    return {str(v).strip().lower(): 1.0 for v in value if str(v).strip()}


def read_metadata(path: Path | str) -> dict:
    """Title, artist, album, genre, comment, license and moods of one audio file.

    Tags (mutagen) first, then the sidecar overrides them; the title falls back to the
    file name. Unreadable tags are ignored (the audio may still be fine).
    """
    path = Path(path)
    meta: dict = {}
    try:
        import mutagen

        f = mutagen.File(str(path), easy=True)
        tags = f.tags if f is not None else None
        if tags is not None:
            meta["title"] = _first(tags, "title")
            meta["artist"] = _first(tags, "artist", "albumartist")
            meta["album"] = _first(tags, "album")
            meta["genre"] = _first(tags, "genre")
            meta["comment"] = _first(tags, "comment", "description")
            meta["license"] = _first(tags, "license", "copyright")
            mood = _first(tags, "mood")
            if mood:
                meta["declared_moods"] = _parse_moods(mood)
        if meta.get("comment") is None and f is not None and path.suffix.lower() == ".mp3":
            raw = mutagen.File(str(path))  # EasyID3 has no comment key: read COMM frames
            comms = [fr for k, fr in (raw.tags or {}).items() if k.startswith("COMM")]
            if comms:
                meta["comment"] = str(comms[0].text[0]).strip() or None
    except Exception:  # noqa: BLE001 - tags are optional; a bad tag block is not fatal
        pass
    side = _sidecar(path)
    if side is not None:
        try:
            if side.suffix == ".json":
                data = json.loads(side.read_text("utf-8"))
            else:
                import yaml

                data = yaml.safe_load(side.read_text("utf-8"))
        except Exception as e:  # noqa: BLE001
            raise MediaError(f"sidecar {side} is not valid JSON/YAML: {e}") from e
        if isinstance(data, dict):
            for k in ("title", "artist", "album", "genre", "comment", "license"):
                if data.get(k):
                    meta[k] = str(data[k])
            if data.get("moods"):
                meta["declared_moods"] = _parse_moods(data["moods"])
    meta = {k: v for k, v in meta.items() if v}
    meta.setdefault("title", path.stem.replace("_", " ").strip() or path.name)
    return meta


def analyse_file(path: Path | str, *, sr: int = DEFAULT_SR, mood_model=None) -> TrackAnalysis:
    """Decode and analyse one file, moods included. Raises MediaError if it cannot be decoded.

    A track up to LONG_TRACK_S long is decoded and analysed whole; a longer one only in
    N_WINDOWS evenly spaced windows of WINDOW_S seconds, decoded one at a time (see
    :mod:`creator.music.analysis`), so memory does not grow with the track's length.
    """
    from .analysis import LONG_TRACK_S, WINDOW_S, analyse, analyse_windows, window_starts
    from .decode import decode, decode_windows, probe_duration
    from .mood import apply_moods

    duration = probe_duration(path)
    if duration is None or duration <= LONG_TRACK_S:
        # capped: a header that understates the length cannot make this unbounded
        y = decode(path, sr=sr, max_seconds=LONG_TRACK_S + 1.0)
        if y.size / sr <= LONG_TRACK_S + 0.5:
            return apply_moods(analyse(y, sr), mood_model)
        del y
        duration = probe_duration(path, exact=True)  # longer than its header said
        if duration is None:
            raise MediaError(f"cannot tell the length of {Path(path).name}")
    starts = window_starts(duration)
    a = analyse_windows(decode_windows(path, starts, WINDOW_S, sr=sr), sr, duration)
    return apply_moods(a, mood_model)


def load_index(library: Path | str, index_dir: Path | str) -> LibraryIndex | None:
    """The saved index of ``library``, or None when there is none (or it is unreadable or
    was written by another version: it is then rebuilt by the next :func:`index_library`)."""
    p = index_path(library, index_dir)
    if not p.is_file():
        return None
    try:
        idx = LibraryIndex.model_validate_json(p.read_bytes())
    except Exception:  # noqa: BLE001 - a broken cache is rebuilt, never fatal
        return None
    if idx.version != INDEX_VERSION or idx.analysis_version != ANALYSIS_VERSION:
        return None
    return idx


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of a file name (surrogate escapes)
        return False
    return True


def _shown(path) -> str:
    """A path as it can be printed and stored: undecodable bytes become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _scan(root: Path) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Audio files under ``root``, sorted, as (path, resolved path); and what could not be
    read, as (path, reason). Folders reached through symlinks are followed once each: a
    folder whose real path was already walked (a symlink loop, or two links to one
    folder) is not walked again. A file seen twice through links is listed once."""
    files: list[tuple[Path, str]] = []
    problems: list[tuple[str, str]] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()

    def walk(folder: Path) -> None:
        if not _utf8(str(folder)):
            problems.append((_shown(folder), "the folder name is not valid UTF-8: rename it to index it"))
            return
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen_dirs:
                return  # a loop, or a folder already walked through another link
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            problems.append((str(folder), f"cannot read this folder: {e.strerror or e}"))
            return
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows links; False for a broken one or a loop
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(path)
                continue
            if not name.lower().endswith(AUDIO_SUFFIXES):
                continue
            if not _utf8(name):
                problems.append((_shown(path), "the file name is not valid UTF-8: rename it to index it"))
                continue
            try:
                real = os.path.realpath(path, strict=True)
                if not stat.S_ISREG(os.stat(real).st_mode):
                    problems.append((str(path), "not a regular file"))
                    continue
            except (OSError, RuntimeError) as e:
                why = ("a symlink loop" if isinstance(e, RuntimeError) or getattr(e, "errno", None) == 40
                       else f"cannot read: {getattr(e, 'strerror', None) or e}")
                problems.append((str(path), why))
                continue
            if not _utf8(real):
                problems.append((_shown(path), "its real path is not valid UTF-8"))
                continue
            if real not in seen_files:
                seen_files.add(real)
                files.append((path, real))
        for d in subdirs:
            walk(d)

    walk(root)
    return files, problems


#: While indexing, the index is saved at most this often (seconds), so that an
#: interrupted run (a crash, kill -9, Ctrl-C) keeps every track analysed until then.
SAVE_EVERY = 10.0


#: How the tracks that need it are analysed: ``analyser(jobs, mood_model)`` takes an
#: iterable of ``(slot, path)`` and yields ``(slot, analysis, error)`` for each, in any
#: order, each from :func:`analyse_track`. The default runs them here, one after the
#: other, as the jobs come; creator.distributed.index.ray_analyser runs them as Ray tasks.
Analyser = Callable[[Iterable[tuple[int, str]], object], Iterator[tuple[int, "TrackAnalysis | None", "str | None"]]]


def local_analyser(jobs: Iterable[tuple[int, str]], mood_model=None):
    """The default :data:`Analyser`: each track analysed here, in order."""
    for slot, key in jobs:
        yield (slot, *analyse_track(key, mood_model=mood_model))


def analyse_track(key: str, mood_model=None) -> tuple[TrackAnalysis | None, str | None]:
    """One track's analysis, or the one-line reason it has none (never raises for a bad
    file): the unit of work of every :data:`Analyser`, local or distributed."""
    name = Path(key).name
    try:
        return analyse_file(key, mood_model=mood_model), None
    except MediaError as e:
        return None, str(e)
    except MemoryError:
        return None, f"cannot analyse {name}: out of memory"
    except Exception as e:  # noqa: BLE001 - one bad file never stops the scan
        return None, f"cannot analyse {name}: {type(e).__name__}: {e}"


def index_library(library: Path | str | None = None, index_dir: Path | str | None = None, *,
                  progress: Progress | None = None, mood_model=None, force: bool = False,
                  analyser: Analyser | None = None) -> IndexReport:
    """Scan ``library`` and bring its index up to date.

    Parameters
    ----------
    library : the music folder (None: the demo tracks).
    index_dir : where indexes are kept (None: ``<cache>/music``).
    progress : called as ``progress(done, total, path)`` after each file.
    mood_model : a :class:`~creator.music.mood.MoodModel` (None: the shipped one).
    force : re-analyse every file.
    analyser : how new tracks are analysed (None: here, one after the other;
        ``creator.distributed.index.ray_analyser(address)``: as Ray tasks). Either way the
        same per-track function, cache and index file.

    Returns
    -------
    IndexReport, with the updated :class:`LibraryIndex` (also saved atomically). A file
    that cannot be read or analysed (unreadable, a symlink loop, not a regular file, an
    undecodable name, corrupt audio) is one ``failed`` entry naming it; the rest go on.
    The index is saved every SAVE_EVERY seconds while new tracks are analysed, and when
    the run stops on an exception, so what was analysed is kept. When the index cannot
    be saved, ``warnings`` says why and the index is returned all the same.
    """
    t0 = time.perf_counter()
    root = Path(library) if library is not None else default_library_dir()
    root = root.expanduser()
    if not root.is_dir():
        raise MediaError(f"library: {_shown(root)} is not a folder")
    if not _utf8(str(root.resolve())):
        raise InputError(f"library: the name of {_shown(root)} is not valid UTF-8")
    index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
    target = index_path(root, index_dir)
    previous = load_index(root, index_dir)
    old = None if force else previous
    by_path = {t.path: t for t in old.tracks} if old else {}
    by_hash = {t.id: t for t in old.tracks if t.error is None} if old else {}
    folder_license = _library_license(root)
    report = IndexReport(index=LibraryIndex(library=str(root.resolve())), path=target)
    can_save = _writable(target, report)

    files, problems = _scan(root)
    report.failed.extend(problems)
    slots: list[TrackRecord | None] = [None] * len(files)  # file order, whatever order work ends in
    waiting: dict[int, TrackRecord] = {}  # planned, their analysis not back yet
    finished = 0
    last_save = time.monotonic()
    dirty = False

    def records() -> list[TrackRecord]:
        return [r for r in slots if r is not None]

    def save(final: bool) -> None:
        """Write the index: every record so far and, before the end, the previous
        index's records of the files not reached yet (so an interrupted run loses nothing)."""
        tracks = records()
        if not final and previous is not None:
            done = {r.path for r in tracks}
            tracks += [t for t in previous.tracks if t.path not in done]
        report.index.tracks = tracks
        report.index.updated_at = time.time()
        if not can_save:
            return
        try:
            atomic_write_bytes(target, report.index.model_dump_json().encode("utf-8"))
        except OSError as e:
            report.warnings.append(f"cannot save the index {target}: {e.strerror or e}")
            report.index.tracks = records()

    def finish(i: int, rec: TrackRecord | None, analysed: bool) -> None:
        nonlocal finished, last_save, dirty
        if rec is not None:
            if rec.error:
                report.failed.append((rec.path, rec.error))
            elif rec.analysis is not None and rec.analysis.silent:
                report.silent.append(rec.path)
            slots[i] = rec  # the same content twice keeps both paths: the matcher de-duplicates by id
        finished += 1
        dirty = dirty or analysed
        if dirty and time.monotonic() - last_save >= SAVE_EVERY:
            save(final=False)
            last_save, dirty = time.monotonic(), False
        if progress is not None:
            progress(finished, len(files), files[i][1])

    def jobs():
        """Plan each file (unchanged, moved, or new content); yield those to analyse."""
        for i, (f, key) in enumerate(files):
            rec, needs = _plan_one(f, key, by_path, by_hash, folder_license, report)
            if needs:
                waiting[i] = rec
                yield i, key
            else:
                finish(i, rec, False)

    try:
        for i, analysis, error in (analyser or local_analyser)(jobs(), mood_model):
            rec = waiting.pop(i)
            rec.analysis, rec.error = analysis, error
            finish(i, rec, True)
    except BaseException:
        save(final=False)  # Ctrl-C, a cancelled progress callback, a bug: keep what was done
        raise

    done = records()
    present = {r.path for r in done}
    report.removed = sorted(p for p in by_path if p not in present)
    report.index.tracks = done
    changed = (old is None or report.added or report.updated or report.removed
               or len(done) != len(old.tracks))
    if changed or not target.is_file():
        save(final=True)
    else:
        report.index.updated_at = time.time()
    report.seconds = time.perf_counter() - t0
    return report


def _writable(target: Path, report: IndexReport) -> bool:
    """Whether the index can be saved at ``target``; if not, a warning says why (the
    library is still indexed, in memory, for this run)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        report.warnings.append(f"cannot save the index in {target.parent}: {e.strerror or e}")
        return False
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK | os.X_OK):
        report.warnings.append(f"cannot save the index in {target.parent}: not a writable folder")
        return False
    return True


def _plan_one(f: Path, key: str, by_path: dict, by_hash: dict, folder_license: str | None,
              report: IndexReport) -> tuple[TrackRecord | None, bool]:
    """The record of one file (None when it cannot be read at all: the reason goes into
    ``report.failed``), and whether its content still has to be analysed
    (:func:`analyse_track`; the record then has no analysis yet)."""
    try:
        st = os.stat(key)
        side = _sidecar(f)
        side_m = side.stat().st_mtime_ns if side else None
        prev = by_path.get(key)
        if (prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns
                and prev.sidecar_mtime_ns == side_m):
            report.unchanged += 1  # 1. unchanged: no hashing, no decoding
            return prev, False
        digest = content_hash(key)
        meta = read_metadata(f)
        meta.setdefault("license", folder_license)
        same = by_hash.get(digest)
        if same is not None and same.analysis is not None:
            analysis = same.analysis  # 2. moved, renamed or re-tagged: keep the analysis
            report.updated.append(key)
        else:
            analysis = None  # 3. new content: to decode and analyse
        rec = TrackRecord(id=digest, path=key, size=st.st_size, mtime_ns=st.st_mtime_ns,
                          sidecar_mtime_ns=side_m, analysis=analysis,
                          **{k: v for k, v in meta.items() if k in TrackRecord.model_fields})
        if analysis is not None:
            return rec, False
        if prev is not None and prev.id != digest:
            report.updated.append(key)
        else:
            report.added.append(key)
        return rec, True
    except OSError as e:
        report.failed.append((key, f"cannot read: {e.strerror or e}"))
    except MediaError as e:  # a broken sidecar
        report.failed.append((key, str(e)))
    except Exception as e:  # noqa: BLE001 - odd metadata, a bug: this file only
        report.failed.append((key, f"cannot index: {type(e).__name__}: {e}"))
    return None, False
