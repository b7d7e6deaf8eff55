"""Start: drop in photos and clips (or give a folder), generate a draft with progress."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from creator.errors import CreatorError
from ui import session
from ui.session import t

__all__ = ["render", "MEDIA_TYPES"]

# What the uploader accepts; the SDK decides what it can read and reports the rest.
MEDIA_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif", "tif", "tiff", "bmp",
               "mp4", "mov", "m4v", "avi", "mkv", "webm"]


def _keep_uploads(files, folder: Path) -> list[Path]:
    """Copy the uploaded files into the draft's media folder (names kept, clashes numbered)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        name = Path(f.name).name or "upload"
        target = folder / name
        n = 1
        while target.exists():
            target = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        target.write_bytes(f.getbuffer())
        paths.append(target)
    return paths


def render() -> None:
    st.header(t("page_start"))
    st.write(t("start_intro"))
    files = list(st.file_uploader(t("upload"), type=MEDIA_TYPES, accept_multiple_files=True, key="uploads") or [])
    files += st.file_uploader(t("upload_folder"), type=MEDIA_TYPES, accept_multiple_files="directory",
                              key="upload_folder") or []
    with st.expander(t("folder")):
        folder = st.text_input(t("folder"), help=t("folder_help"), key="folder")
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
    if folder.strip() and not Path(folder.strip()).expanduser().is_dir():
        st.error(t("folder_missing", path=folder.strip()))
        return
    if not files and not folder.strip():
        st.warning(t("nothing_given"))
        return
    did = session.new_draft_id()
    out = session.draft_dir(did)
    paths: list[Path] = _keep_uploads(files, out / "media") if files else []
    if folder.strip():
        paths.append(Path(folder.strip()).expanduser())

    # 2. run every stage through the SDK, with progress
    started = time.monotonic()
    try:
        draft = session.run_with_progress(
            lambda progress, cancel: session.assistant().create(
                paths, language=language, hints=[hint] if hint.strip() else None,
                video=with_video, out_dir=out, progress=progress),
            label=t("generating"))
    except CreatorError as e:
        st.error(str(e))
        return

    # 3. save it and open it: the id goes in the URL so a reload comes back here
    session.save(draft, did)
    session.open_draft(did)
    st.session_state["last_generation_s"] = time.monotonic() - started
    from ui.panels import caption

    st.switch_page(st.Page(caption.render, url_path="caption"),
                   query_params={"draft": did, "lang": session.lang()})
