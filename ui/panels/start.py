"""Start: drop in photos and clips (or give a folder), generate a draft with progress.

What a browser can make the server do here is bounded by Settings.ui (creator.config
.UISettings): uploads by a size and a pixel budget (per file and in total), stored under
a sanitised name inside the new draft's media folder; the "folder on this computer"
field only where the editor serves this computer alone (or a setting allows it), only
inside the configured roots, and only up to a number of files.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import re
import shutil
import time
import unicodedata
from pathlib import Path

import streamlit as st

from creator.config import Settings, UISettings
from creator.drafts import atomic_write_bytes
from creator.errors import CreatorError, InputError
from ui import session
from ui.launch import HOST_ENV
from ui.session import t

__all__ = ["render", "MEDIA_TYPES", "ui_settings", "local_folders_allowed", "local_folder",
           "folder_media", "check_uploads", "safe_name"]

# What the uploader accepts; the SDK decides what it can read and reports the rest.
MEDIA_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif", "tif", "tiff", "bmp",
               "mp4", "mov", "m4v", "avi", "mkv", "webm"]

_MB = 1024 * 1024
_NAME_BYTES = 180  # an upload's stored name, in UTF-8 bytes (file systems allow 255)


def ui_settings() -> UISettings:
    """Settings.ui, read from the environment on every call (cheap; tests change it)."""
    return Settings.for_profile(os.environ.get("CREATOR_UI_PROFILE", "lite")).ui


# -- the folder on this computer ---------------------------------------------------------

def _server_host() -> str | None:
    """The address the editor serves on: Streamlit's server.address (what `creator ui
    --host` gave it), else what `creator ui` put in CREATOR_UI_HOST; None when neither
    says (a server with no address listens on every interface)."""
    return st.get_option("server.address") or os.environ.get(HOST_ENV) or None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # another host name: it may resolve anywhere
        return False


def local_folders_allowed(ui: UISettings | None = None) -> bool:
    """Whether the folder field is shown: Settings.ui.local_folders, or (None) whether the
    editor serves on a loopback address only; never with no roots configured."""
    ui = ui or ui_settings()
    on = ui.local_folders if ui.local_folders is not None else _is_loopback(_server_host())
    return bool(on and ui.local_roots)


def _roots(ui: UISettings) -> list[Path]:
    roots = []
    for r in ui.local_roots:
        try:
            roots.append(Path(r).expanduser().resolve())
        except (OSError, ValueError):
            continue
    return roots


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def local_folder(text: str, ui: UISettings | None = None) -> Path:
    """The folder typed in the field, resolved (links followed) and checked to be inside
    one of Settings.ui.local_roots. Anything else, missing or not, raises the same
    InputError: the message never tells whether a path outside the roots exists."""
    ui = ui or ui_settings()
    refused = InputError(t("folder_refused", path=text))
    try:
        given = Path(text).expanduser()
        if not given.is_absolute():  # relative to the server's working folder: never
            raise refused
        real = given.resolve(strict=True)
        if not _inside(real, _roots(ui)) or not real.is_dir():
            raise refused
    except (OSError, ValueError, RuntimeError):  # missing, unreadable, NUL byte, link loop
        raise refused from None
    return real


def folder_media(root: Path, ui: UISettings | None = None) -> tuple[list[Path], list[str]]:
    """The photos and clips under ``root`` by the rules of creator.media.iter_media_files
    (hidden files and folders skipped, suffixes case-insensitive, sorted), but bounded:
    at most Settings.ui.folder_max_files of them, and at most folder_max_entries files
    looked at, else InputError. A link leading outside the roots is left out. Returns
    the files and a note per subfolder that could not be read, and one for the photos and
    clips of types not read here (RAW, TIFF, GIF..., counted by type)."""
    from collections import Counter

    from creator.media import OTHER_MEDIA, SUPPORTED_CLIP, SUPPORTED_PHOTO, other_media_text

    ui = ui or ui_settings()
    roots = _roots(ui)
    too_big = InputError(t("folder_too_big", path=str(root), files=ui.folder_max_files,
                           entries=ui.folder_max_entries))
    found: list[Path] = []
    notes: list[str] = []
    other: Counter[str] = Counter()  # photos and clips of types not read here (RAW, TIFF...), by suffix
    seen = 0

    def unreadable(e: OSError) -> None:
        notes.append(t("folder_unreadable", path=str(e.filename)))

    for dirpath, dirs, files in os.walk(root, onerror=unreadable):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        seen += len(files) + len(dirs)
        if seen > ui.folder_max_entries:
            raise too_big
        for name in files:
            suffix = Path(name).suffix
            if not name.startswith(".") and suffix.lower() in OTHER_MEDIA:
                other[suffix.lower()] += 1
            if name.startswith(".") or not (suffix in SUPPORTED_PHOTO or suffix in SUPPORTED_CLIP):
                continue
            path = Path(dirpath, name)
            if path.is_symlink():
                try:
                    if not _inside(path.resolve(strict=True), roots):
                        continue
                except (OSError, RuntimeError):
                    continue
            found.append(path)
            if len(found) > ui.folder_max_files:
                raise too_big
    if other:  # said once, as the SDK's load_media does
        notes.append(t("folder_other_types", types=other_media_text(other),
                       supported=", ".join(sorted(x[1:] for x in SUPPORTED_PHOTO | SUPPORTED_CLIP))))
    return sorted(found, key=lambda q: q.relative_to(root).parts), notes


# -- uploads -----------------------------------------------------------------------------

def safe_name(name: str) -> str:
    """An upload's name as a plain file name: its last path part (either separator), no
    control characters (NUL included), no leading dots or spaces, at most _NAME_BYTES in
    UTF-8 with the suffix kept; ``upload`` when nothing is left."""
    name = name.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip()
    suffix = "" if name in ("", ".", "..") else Path(name).suffix[:16]
    stem = name[: len(name) - len(suffix)].lstrip(". ") or "upload"
    while len((stem + suffix).encode("utf-8")) > _NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


def _pixels(data) -> tuple[int, str] | None:
    """(pixel count, "W×H") from the image header, never decoding the pixels; None when
    it isn't an image PIL can open (a clip: the SDK reads it)."""
    from PIL import Image

    try:
        from creator.media import register_heif

        register_heif()
    except Exception:  # HEIF support is optional
        pass
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0] * im.size[1], f"{im.size[0]}×{im.size[1]}"
    except Image.DecompressionBombError as e:  # Image.open refuses past its own limit
        found = re.search(r"\((\d+) pixels\)", str(e))
        count = int(found.group(1)) if found else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
        return count, str(count)
    except Exception:
        return None


def check_uploads(files, ui: UISettings | None = None) -> list[str]:
    """What is wrong with the uploads against Settings.ui's budgets, one line per file
    (its name first); empty when they are all within them."""
    ui = ui or ui_settings()
    problems: list[str] = []
    total_bytes = total_pixels = 0
    for f in files:
        name = safe_name(f.name)
        size = f.size
        if size > ui.upload_max_mb * _MB:
            problems.append(t("upload_too_big", name=name, mb=size / _MB, limit=ui.upload_max_mb))
            continue
        total_bytes += size
        if total_bytes > ui.upload_total_mb * _MB:
            problems.append(t("upload_total_too_big", name=name, limit=ui.upload_total_mb))
            continue
        pixels = _pixels(f.getbuffer())
        if pixels is None:
            continue
        if pixels[0] > ui.upload_max_pixels:
            problems.append(t("upload_too_many_pixels", name=name, size=pixels[1],
                              limit=ui.upload_max_pixels / 1e6))
            continue
        total_pixels += pixels[0]
        if total_pixels > ui.upload_total_pixels:
            problems.append(t("upload_total_too_many_pixels", name=name, limit=ui.upload_total_pixels / 1e6))
    return problems


def _keep_uploads(files, folder: Path) -> tuple[list[Path], list[str]]:
    """Copy the uploads into the draft's media folder: under a sanitised name (clashes
    numbered), written atomically; an upload with the same content as an earlier one is
    kept once. Returns the paths and a note per upload left out."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    notes: list[str] = []
    kept: dict[str, Path] = {}
    for f in files:
        data = f.getbuffer()
        digest = hashlib.sha256(data).hexdigest()
        name = safe_name(f.name)
        if digest in kept:
            notes.append(t("upload_duplicate", name=name, same=kept[digest].name))
            continue
        target = folder / name
        n = 1
        while target.exists():
            target = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        atomic_write_bytes(target, bytes(data))
        kept[digest] = target
        paths.append(target)
    return paths, notes


# -- the page ----------------------------------------------------------------------------

def render() -> None:
    st.header(t("page_start"))
    st.write(t("start_intro"))
    ui = ui_settings()
    # `type` also makes Streamlit refuse, before this script runs, a crafted upload whose
    # name holds a NUL byte or another suffix; what gets here is sanitised by safe_name
    files = list(session.file_uploader(t("upload"), types=MEDIA_TYPES, accept_multiple_files=True, key="uploads",
                                       max_mb=ui.upload_max_mb) or [])
    files += session.file_uploader(t("upload_folder"), types=MEDIA_TYPES, accept_multiple_files="directory",
                                   key="upload_folder", max_mb=ui.upload_max_mb) or []
    folder = ""
    if local_folders_allowed(ui):
        with st.expander(t("folder")):
            roots = ", ".join(str(r) for r in ui.local_roots)
            folder = st.text_input(t("folder"), help=t("folder_help", roots=roots), key="folder").strip()
    hint = st.text_input(t("hint"), help=t("hint_help"), key="hint")
    c1, c2 = st.columns(2)
    language = c1.radio(t("note_language"), ["zh", "en"], horizontal=True, key="note_language",
                        index=0 if session.lang() == "zh" else 1,
                        format_func=lambda c: {"zh": "中文", "en": "English"}[c])
    with_video = c2.checkbox(t("with_video"), key="with_video")

    clicked = st.button(t("generate"), type="primary", key="generate")
    st.caption(t("generate_time"))
    if not clicked:
        return

    # 1. what to read: the uploads (copied into the new draft's folder) and/or a folder
    if not files and not folder:
        st.warning(t("nothing_given"))
        return
    problems = check_uploads(files, ui)
    for p in problems:
        st.error(p)
    if problems:
        st.info(t("upload_refused"))
    try:
        found, skipped = folder_media(local_folder(folder, ui), ui) if folder else ([], [])
    except InputError as e:  # said by this page in the interface language already
        st.error(str(e))
        return
    if problems:
        return
    did = session.new_draft_id()
    out = session.draft_dir(did)
    paths, notes = _keep_uploads(files, out / "media") if files else ([], [])
    paths += found
    notes += skipped

    # 2. run every stage through the SDK, with progress; when the script is stopped
    # (the browser left, a rerun) `cancel` is set and the SDK stops between items
    def work(progress, cancel):
        try:
            return session.assistant().create(
                paths, language=language, hints=[hint] if hint.strip() else None,
                video=with_video, out_dir=out, progress=progress, cancel=cancel)
        except BaseException:
            if not (out / "draft.json").exists():  # no draft: don't keep its uploads
                shutil.rmtree(out, ignore_errors=True)
            raise

    started = time.monotonic()
    from ui.panels import music

    music.indexing_notice()  # the first soundtrack call on a new machine indexes the library
    try:
        draft = session.run_with_progress(work, label=t("generating"))
    except CreatorError as e:
        st.error(session.error_text(e))
        return

    # 3. save it and open it: the id goes in the URL so a reload comes back here
    draft.warnings = draft.warnings + notes
    session.save(draft, did)
    session.open_draft(did)
    st.session_state["last_generation_s"] = time.monotonic() - started
    from ui.panels import caption

    st.switch_page(st.Page(caption.render, url_path="caption"),
                   query_params={"draft": did, "lang": session.lang()})
