"""Saving and reopening drafts: ``draft.json`` plus the assets beside it.

A draft folder holds ``draft.json`` (the :class:`~creator.types.Draft`), and what the
stages rendered: ``caption.md``, ``cover.png`` (and other candidates under
``assets/``), ``note.mp4``. Every file is written to a temporary name in the same
folder and renamed when complete, so a crash never leaves a half-written draft.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from .errors import DraftError
from .types import DRAFT_SCHEMA_VERSION, Draft

__all__ = ["save_draft", "load_draft", "list_drafts", "atomic_write_bytes", "atomic_write_text", "DRAFT_FILE"]

DRAFT_FILE = "draft.json"

# Upgrades from an older schema: version → function(dict) -> dict of the next version.
_MIGRATIONS: dict[int, callable] = {}


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


def save_draft(draft: Draft, directory: str | Path) -> Path:
    """Write ``draft.json`` (and ``caption.md`` when there is a caption) into ``directory``."""
    directory = Path(directory)
    now = datetime.now(timezone.utc)
    draft = draft.model_copy(update={"updated_at": now, "created_at": draft.created_at or now})
    atomic_write_text(directory / DRAFT_FILE, draft.model_dump_json(indent=2))
    if draft.caption is not None:
        atomic_write_text(directory / "caption.md", draft.caption.markdown())
    return directory / DRAFT_FILE


def load_draft(directory: str | Path) -> Draft:
    """Read a draft folder (or a draft.json path); older schemas are upgraded.

    Raises DraftError with a readable message for a missing, corrupt or newer draft.
    """
    path = Path(directory)
    if path.is_dir():
        path = path / DRAFT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DraftError(f"no draft at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DraftError(f"{path} is not a readable draft: {e}") from None
    if not isinstance(data, dict):
        raise DraftError(f"{path} is not a draft (expected a JSON object)")
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > DRAFT_SCHEMA_VERSION:
        raise DraftError(
            f"{path} was written by a newer version of the assistant (draft schema {version}, "
            f"this version reads up to {DRAFT_SCHEMA_VERSION}); upgrade travel-note-creator"
        )
    while version < DRAFT_SCHEMA_VERSION:
        data = _MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    try:
        return Draft.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise DraftError(f"{path} is damaged: {where}: {first['msg']} ({e.error_count()} problems)") from None


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
        except DraftError as e:
            out.append((f.parent, f"(unreadable: {e})", None))
    out.sort(key=lambda r: r[2] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return out
