"""Batch understanding on Ray Data: many photos and clips in, one Parquet row per item out.

    paths / manifest / Dataset ──► load tasks (probe, EXIF time and GPS, content hash;
    items already in the output dropped) ──► decode tasks (decode, faces, quality:
    :func:`creator.understanding.look_item`) ──► tagging actors (``map_batches`` with a
    callable class: the tagger loaded once per actor; tags and place through
    :func:`creator.understanding.understand_items`, the local path's own function, given
    what the decode tasks saw) ──► the driver writes each finished block as a part file,
    then one Parquet file.

Each row has the fields of ``creator tag --json``
(:func:`creator.understanding.records.item_record`). A file that cannot be read or
decoded is a row with its ``error``; a batch never fails the job. Results are kept as the
job goes (part files in ``.<out>.parts/``, each written atomically), and the output is
written to a temporary name and renamed when complete, so a re-run after an interruption
— or with new photos added — understands only the items whose content hash (the
``MediaItem.id`` of :func:`creator.media.content_id`) has no row without error yet.
Grouping into notes (moments) stays per note and runs after, locally.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import BackendUnavailable, InputError
from ..understanding.records import RECORD_FIELDS, item_record
from . import require_pyarrow, require_ray, ray_session

__all__ = ["understand_many", "ManyReport", "record_schema", "read_results", "MANIFEST_SUFFIXES"]

#: A single PATH with one of these suffixes is a manifest: a table with a ``path`` column.
MANIFEST_SUFFIXES = (".parquet", ".jsonl", ".ndjson")


@dataclass
class ManyReport:
    """What one :func:`understand_many` run did."""

    out: Path
    total: int  # items given (after folders were expanded)
    processed: int  # understood in this run (rows written now, errors included)
    skipped: int  # already in the output: not looked at again
    failed: int  # rows of this run with an error
    rows: int  # rows in the output now
    usable: int  # rows in the output without an error
    seconds: float

    def summary(self) -> str:
        return (f"{self.processed} understood ({self.failed} with an error), {self.skipped} already in "
                f"{self.out.name}; {self.rows} rows ({self.seconds:.1f} s)")


def record_schema():
    """The Arrow schema of one row: :func:`item_record`'s fields, nested as they are there."""
    pa = require_pyarrow()
    f64, s = pa.float64(), pa.string()
    box = pa.struct([("x0", f64), ("y0", f64), ("x1", f64), ("y1", f64), ("score", f64)])
    return pa.schema([
        ("path", s), ("id", s), ("kind", s), ("taken_at", s),
        ("place", pa.struct([("name_zh", s), ("name_en", s), ("country", s)])),
        ("tags", pa.list_(pa.struct([("id", s), ("label_zh", s), ("label_en", s),
                                     ("score", f64), ("source", s)]))),
        ("quality", pa.struct([("sharpness", f64), ("exposure", f64), ("colourfulness", f64),
                               ("faces", pa.list_(box)), ("subject", box), ("score", f64)])),
        ("error", s),
    ])


def _table(rows: list[dict]):
    pa = require_pyarrow()
    assert tuple(record_schema().names) == RECORD_FIELDS
    return pa.Table.from_pylist(rows, schema=record_schema())


def _parts_dir(out: Path) -> Path:
    return out.with_name(f".{out.name}.parts")


def _read_table(path: Path, what: str):
    pq = require_pyarrow().parquet
    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - not ours, or broken: never overwrite it
        raise InputError(f"{what}: {path} exists and is not a results file that can be read "
                         f"({type(e).__name__}); give another --out") from e
    missing = [f for f in RECORD_FIELDS if f not in table.column_names]
    if missing:
        raise InputError(f"{what}: {path} is a Parquet file without the columns {', '.join(missing)}: "
                         "not results of understand_many; give another --out")
    return table.select(list(RECORD_FIELDS)).cast(record_schema())


def read_results(out: Path | str) -> list[dict]:
    """The rows of a results file (and of the part files of an unfinished run), later rows
    for a path replacing earlier ones."""
    out = Path(out)
    tables = ([_read_table(out, "out")] if out.exists() else [])
    parts = _parts_dir(out)
    if parts.is_dir():
        for p in sorted(parts.glob("part-*.parquet"), key=lambda q: (q.stat().st_mtime_ns, q.name)):
            try:
                tables.append(_read_table(p, "part"))
            except InputError:
                continue  # a part cut short by a crash: its items are simply done again
    rows: dict[str, dict] = {}
    for t in tables:
        for r in t.to_pylist():
            rows[r["path"]] = r
    return list(rows.values())


def _manifest_paths(path: Path) -> list[str]:
    """The ``path`` column of a Parquet or JSON-lines manifest (relative paths are taken
    from the manifest's folder)."""
    pa = require_pyarrow()
    try:
        if path.suffix.lower() == ".parquet":
            table = pa.parquet.read_table(path, columns=["path"])
        else:
            import pyarrow.json as pj

            table = pj.read_json(path)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"manifest: {path} cannot be read as {path.suffix[1:]} with a 'path' column: {e}") from e
    if "path" not in table.column_names:
        raise InputError(f"manifest: {path} has no 'path' column (it has: {', '.join(table.column_names)})")
    base = path.resolve().parent
    return [str(p if os.path.isabs(p) else base / p) for p in table.column("path").to_pylist() if p]


def _expand(source) -> tuple[list[str], list[dict]]:
    """Files to understand, and error rows for folders that could not be listed (the same
    walk as :func:`creator.understanding.understand`: creator.media)."""
    from .. import media
    from ..types import MediaItem

    if isinstance(source, (str, os.PathLike)):
        source = [source]
    source = list(source)
    if len(source) == 1 and Path(source[0]).suffix.lower() in MANIFEST_SUFFIXES and Path(source[0]).is_file():
        return _manifest_paths(Path(source[0])), []
    files, problems = [], []
    for p, why in media._walk(source):
        if why is None:  # absolute: a worker's folder is not the caller's
            files.append(os.path.abspath(p))
        else:  # the same error item load_media makes of a folder it cannot list
            shown = os.path.abspath(p)
            problems.append(item_record(MediaItem(path=media._shown(shown), id=media._path_id(shown),
                                                  error=media._shown(why))))
    return files, problems


def _load_batch(batch, done: frozenset) -> dict:
    """Load task: probe each file (time, GPS, content hash; no decode yet) and keep those
    whose content is not in the output yet. Returns the items as JSON text."""
    from ..media import load_item
    from ..types import MediaItem

    kept = []
    for path in batch["path"]:
        path = str(path)
        try:
            item = load_item(path, verify=False)
        except Exception as e:  # noqa: BLE001 - one file, never the batch
            from ..media import _path_id

            item = MediaItem(path=os.path.abspath(path), id=_path_id(os.path.abspath(path)),
                             error=f"{Path(path).name}: cannot be read ({type(e).__name__}: {e})")
        if item.id in done and item.error is None:
            continue
        kept.append(item.model_dump_json())
    return {"item": kept}


def _decode_batch(batch, settings: Settings) -> dict:
    """Decode task: :func:`look_item` (decode, faces, quality) for each item, apart from
    the tagging actors, so decoding scales with the tasks a cluster can run. What it saw
    (or the error decoding raised, which the actor words as the local path does) travels
    pickled beside the item."""
    import pickle

    from ..errors import MediaError
    from ..types import MediaItem
    from ..understanding import face_detector, look_item

    detector, warnings = face_detector(settings)
    seen = []
    for text in batch["item"]:
        item = MediaItem.model_validate_json(text)
        result = None
        if item.ok:
            try:
                result = look_item(item, settings, detector)
            except Exception as e:  # noqa: BLE001 - this item's row says it
                result = e
        try:
            seen.append(pickle.dumps((result, warnings)))
        except Exception as e:  # noqa: BLE001 - an error that does not pickle, said in words
            seen.append(pickle.dumps((MediaError(f"could not decode ({type(e).__name__}: {e})"), warnings)))
    return {"item": list(batch["item"]), "seen": seen}


def _seen(batch) -> tuple[dict[int, object], list[str]]:
    import pickle

    looked, warnings = {}, []
    for k, blob in enumerate(batch["seen"]):
        result, warnings = pickle.loads(blob)
        if result is not None:
            looked[k] = result
    return looked, list(warnings)


class _Understand:
    """A tagging actor: the tagger loaded once, then batch after batch through the local
    path's :func:`understand_items`, given what the decode tasks saw."""

    def __init__(self, settings: Settings):
        from ..understanding.backends import get_tagger

        self.settings = settings
        self.tagger = get_tagger(settings.tagging)

    def _one_by_one(self, items, looked, warnings):
        from ..understanding import understand_items

        out = []
        for k, item in enumerate(items):
            try:
                out += understand_items([item], self.settings, tagger=self.tagger,
                                        looked={0: looked[k]} if k in looked else {}, warnings=warnings)
            except Exception as e:  # noqa: BLE001 - this file's row says what went wrong
                out.append(item.model_copy(update={
                    "error": f"{Path(item.path).name}: cannot be understood ({type(e).__name__}: {e})"}))
        return out

    def __call__(self, batch):
        from ..types import MediaItem
        from ..understanding import understand_items

        items = [MediaItem.model_validate_json(s) for s in batch["item"]]
        looked, warnings = _seen(batch)
        try:
            done = understand_items(items, self.settings, tagger=self.tagger, looked=looked, warnings=warnings)
        except Exception:  # noqa: BLE001 - find the one that failed; the others still get rows
            done = self._one_by_one(items, looked, warnings)
        return _table([item_record(i) for i in done])


def _resources(ray, cfg) -> tuple[float, int, float, float | None]:
    """CPUs of a load task; tagging actors, CPUs and GPUs of each — as asked in
    ``settings.distributed``, but never more than the cluster has: a pool that cannot all
    be placed, or that leaves no CPU for the load tasks, would wait for ever."""
    have = ray.cluster_resources()
    cpus, gpus = float(have.get("CPU", 1.0)), float(have.get("GPU", 0.0))
    # load tasks ask for less CPU than an actor: Ray then does not fuse them into the
    # actors, and loading (I/O, hashing) scales apart from tagging
    load_cpus = min(0.5, cfg.understand_cpus_per_actor / 2, cpus / 4)
    room = cpus - load_cpus
    # an actor may get down to half the CPUs it asks for (they are Ray's bookkeeping, not a
    # limit), never less: each one holds its own copy of the models
    actors = max(1, min(cfg.understand_actors, int(room // (cfg.understand_cpus_per_actor / 2))))
    actor_cpus = min(cfg.understand_cpus_per_actor, room / actors)
    actor_gpus = cfg.understand_gpus_per_actor or None
    if actor_gpus:
        if gpus < actor_gpus:
            raise BackendUnavailable(
                f"distributed.understand_gpus_per_actor is {actor_gpus:g} but the Ray cluster has "
                f"{gpus:g} GPUs: set it to 0 to tag on CPUs")
        actors = min(actors, int(gpus // actor_gpus))
    return load_cpus, actors, actor_cpus, actor_gpus


def _write_atomic(table, target: Path) -> None:
    pq = require_pyarrow().parquet
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def understand_many(source, *, out: Path | str, settings: Settings | None = None,
                    ray_address: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ManyReport:
    """Understand many photos and clips on Ray; one Parquet row per item in ``out``.

    Parameters
    ----------
    source : files and folders (walked as :func:`creator.understanding.understand` walks
        them), one Parquet / JSON-lines manifest with a ``path`` column (relative paths:
        from the manifest's folder), or a Ray Dataset with a ``path`` column of absolute
        paths that every worker can read.
    out : the results file (``.parquet``). Rows already in it are kept; items whose
        content is in it without an error are not looked at again.
    settings : Settings (``settings.distributed``: batch size, actors, CPUs/GPUs per
        actor; ``settings.tagging``: the backend, as locally).
    ray_address : None: a Ray the caller started, else a local one for this call;
        "auto" or "ray://host:10001": that cluster.
    progress : called as ``progress(done, total)`` as items are finished.
    """
    t0 = time.perf_counter()
    require_pyarrow()
    settings = settings or Settings()
    cfg = settings.distributed
    out = Path(out).expanduser()
    if out.suffix.lower() != ".parquet":
        raise InputError(f"out: {out} must be a .parquet file")
    if out.is_dir():
        raise InputError(f"out: {out} is a folder; give a .parquet file name")
    if not out.parent.is_dir():
        raise InputError(f"out: the folder {out.parent} does not exist")
    previous = read_results(out)  # refuses a file that is not ours, before any work
    done = frozenset(r["id"] for r in previous if r["error"] is None)

    ray = require_ray()
    dataset_source = hasattr(source, "map_batches") and hasattr(source, "schema")
    if dataset_source:
        files, problems = None, []
    else:
        files, problems = _expand(source)
        given = {os.path.abspath(f) for f in files}
        if os.path.abspath(out) in given:
            raise InputError(f"out: {out} is one of the inputs")
    parts = _parts_dir(out)
    parts.mkdir(exist_ok=True)
    rows_now: list[dict] = list(problems)
    with ray_session(ray_address):
        from ray.data import DataContext

        DataContext.get_current().enable_progress_bars = False  # ours is the caller's progress
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # not an INFO line per run on stderr
        if dataset_source:
            if "path" not in source.schema().names:
                raise InputError("source: the Dataset has no 'path' column")
            ds = source.select_columns(["path"])
            total = ds.count()
        else:
            total = len(files) + len(problems)
            # blocks of about one load batch: the load tasks and the actors all get work
            ds = (ray.data.from_items([{"path": f} for f in files],
                                      override_num_blocks=-(-len(files) // cfg.load_batch_size))
                  if files else None)
        finished = len(problems)
        if ds is not None:
            load_cpus, actors, actor_cpus, actor_gpus = _resources(ray, cfg)
            ds = ds.map_batches(_load_batch, batch_size=cfg.load_batch_size, fn_kwargs={"done": done},
                                batch_format="numpy", num_cpus=load_cpus)
            ds = ds.map_batches(_decode_batch, batch_size=cfg.load_batch_size, fn_kwargs={"settings": settings},
                                batch_format="numpy", num_cpus=load_cpus)
            ds = ds.map_batches(_Understand, fn_constructor_kwargs={"settings": settings},
                                batch_size=cfg.understand_batch_size, batch_format="numpy",
                                compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=actor_cpus,
                                num_gpus=actor_gpus)
            for block in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                if block.num_rows == 0:
                    continue
                table = block.select(list(RECORD_FIELDS)).cast(record_schema())
                _write_atomic(table, parts / f"part-{time.time_ns()}-{uuid.uuid4().hex[:6]}.parquet")
                rows_now += table.to_pylist()
                if progress is not None:
                    progress(min(total, finished + len(rows_now) - len(problems)), total)
    processed = len(rows_now)
    merged: dict[str, dict] = {r["path"]: r for r in previous}
    merged.update({r["path"]: r for r in rows_now})
    rows = sorted(merged.values(), key=lambda r: r["path"])
    _write_atomic(_table(rows), out)
    shutil.rmtree(parts, ignore_errors=True)
    if progress is not None:
        progress(total, total)
    return ManyReport(out=out, total=total, processed=processed,
                      skipped=max(0, total - processed), failed=sum(1 for r in rows_now if r["error"]),
                      rows=len(rows), usable=sum(1 for r in rows if r["error"] is None), seconds=time.perf_counter() - t0)
