"""Plain helpers of the reliability suite (no pytest): run a command in-process the way a
terminal would see it, and fingerprint input folders before and after.

- :func:`run_cli` calls ``creator.cli.main(argv)`` in a worker thread with a timeout (a
  FIFO or a blocking read must fail the cell, not hang the suite), with stdout/stderr
  replaced by strict UTF-8 text streams like a real terminal's: a name that cannot be
  encoded (bytes that are not UTF-8) fails the same way it would in a shell. Any
  exception that escapes ``main`` is kept as ``traceback``.
- :func:`snapshot` records every entry under some folders — sha256 of each regular file,
  the target of each link, the type of anything else — without following links, without
  opening FIFOs for reading, and through file descriptors, so folders whose full path is
  too long to name are fingerprinted too.
- :func:`make_good_set` writes the small set of good photos that every run also gets.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = ["Run", "run_cli", "snapshot", "make_good_set", "name_forms", "mentions"]


@dataclass
class Run:
    argv: list[str]
    rc: int | None = None
    out: str = ""
    err: str = ""
    traceback: str | None = None
    timed_out: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err


def _stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)


def _value(stream: io.TextIOWrapper) -> str:
    with contextlib.suppress(ValueError):
        stream.flush()
    return stream.buffer.getvalue().decode("utf-8", "replace")


_RUN_LOCK = threading.Lock()


def run_cli(argv: list[str], *, timeout: float = 120.0) -> Run:
    """``creator <argv>`` in this process; see the module docstring."""
    from creator.cli import main

    run = Run(argv=list(argv))
    out, err = _stream(), _stream()

    def target() -> None:
        try:
            run.rc = int(main(list(argv)) or 0)
        except SystemExit as e:  # argparse
            run.rc = e.code if isinstance(e.code, int) else 2
        except BaseException:  # noqa: BLE001 - exactly what the suite looks for
            run.traceback = traceback.format_exc()
            run.rc = -1

    with _RUN_LOCK:
        start = time.perf_counter()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            worker = threading.Thread(target=target, daemon=True, name="creator-cli")
            worker.start()
            worker.join(timeout)
            run.timed_out = worker.is_alive()
        finally:
            sys.stdout, sys.stderr = old
        run.seconds = time.perf_counter() - start
    run.out, run.err = _value(out), _value(err)
    if run.traceback is None and "Traceback (most recent call last)" in run.err:
        run.traceback = run.err
    return run


def _digest_fd(fd: int) -> str:
    h = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        h.update(chunk)
    return h.hexdigest()


def _walk_fd(dir_fd: int, prefix: str, found: dict[str, str]) -> None:
    with os.scandir(dir_fd) as it:
        entries = sorted(it, key=lambda e: os.fsencode(e.name))
    for e in entries:
        rel = f"{prefix}/{e.name}" if prefix else e.name
        st = os.stat(e.name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            found[rel] = "link:" + os.readlink(e.name, dir_fd=dir_fd)
        elif stat.S_ISDIR(st.st_mode):
            found[rel] = f"dir:{stat.S_IMODE(st.st_mode):o}"
            sub = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            try:
                _walk_fd(sub, rel, found)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
            try:
                found[rel] = f"{st.st_size}:{_digest_fd(fd)}:{st.st_mtime_ns}"
            finally:
                os.close(fd)
        else:
            found[rel] = f"special:{stat.S_IFMT(st.st_mode):o}"


def snapshot(*roots: Path) -> dict[str, str]:
    """Fingerprint of every entry under ``roots`` (content, mtime, links, types); two
    snapshots are equal when nothing in those folders was changed, added or removed."""
    found: dict[str, str] = {}
    for root in roots:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            _walk_fd(fd, os.fsdecode(root), found)
        finally:
            os.close(fd)
    return found


def make_good_set(folder: Path) -> Path:
    """Two small good photos with a date and a place: every matrix run gets these, so that
    something usable is always left."""
    from tests.factories import make_photo

    for k, name in enumerate(("china", "coffee")):
        make_photo(folder / f"好照片_{name}.jpg", name, size=(320, 240),
                   taken_at=datetime(2024, 10, 3, 9 + k), gps=(30.25, 120.15))
    return folder


def name_forms(name: str) -> set[str]:
    """How a file name can legitimately appear in output: as is, JSON-escaped, or with
    bytes that are not UTF-8 replaced or escaped."""
    import json

    raw = name.encode("utf-8", "surrogateescape")
    return {name, json.dumps(name, ensure_ascii=False)[1:-1], raw.decode("utf-8", "replace"),
            raw.decode("utf-8", "backslashreplace"), repr(name)[1:-1]}


def mentions(text: str, name: str) -> bool:
    """True when ``text`` names ``name`` in one of its :func:`name_forms`."""
    return any(f and f in text for f in name_forms(name))
