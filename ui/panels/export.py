"""Export: the caption to copy, and one zip of caption.md, cover, video and draft.json."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from creator.errors import CreatorError
from ui import session
from ui.session import t

__all__ = ["render"]


def render() -> None:
    st.header(t("page_export"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("export_intro"))
    missing = [t(name) for name, part in (("page_caption", draft.caption), ("page_cover", draft.cover),
                                          ("page_video", draft.video), ("page_music", draft.track)) if part is None]
    if missing:
        st.info(t("missing_parts", parts=", ".join(missing)))
    if draft.caption is not None:
        st.subheader(t("copy_text"))
        st.code(draft.caption.text(), language=None, wrap_lines=True)
    if st.button(t("make_zip"), type="primary", key=session.key("make_zip")):
        try:
            st.session_state["zip_path"] = str(session.assistant().export_zip(session.draft_dir()))
        except CreatorError as e:
            st.error(str(e))
    zip_path = st.session_state.get("zip_path")
    if zip_path and Path(zip_path).exists() and Path(zip_path).is_relative_to(session.draft_dir()):
        with open(zip_path, "rb") as f:
            st.download_button(t("download_zip"), f.read(), file_name=Path(zip_path).name,
                               mime="application/zip", key=session.key("download_zip"))
