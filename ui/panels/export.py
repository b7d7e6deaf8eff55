"""Export: the image note ready to post (post/ as a zip, each text block to copy), the
caption to copy, and one zip of caption.md, cover, video and draft.json."""

from __future__ import annotations

import streamlit as st

from creator.drafts import own_file
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
    from ui.panels.carousel import post_block

    post_block(draft)  # post/ as a zip, and a copy button for each text block
    if draft.caption is not None:
        st.subheader(t("copy_text"))
        st.code(draft.caption.text(), language=None, wrap_lines=True)
    if st.button(t("make_zip"), type="primary", key=session.key("make_zip")):
        try:
            st.session_state["zip_path"] = str(session.assistant().export_zip(session.draft_dir()))
        except CreatorError as e:
            st.session_state.pop("zip_path", None)
            st.error(t("file_unusable", error=e))
    zip_path = st.session_state.get("zip_path")
    if not zip_path:
        return
    try:  # only a zip inside the open draft's folder is offered
        path = own_file(session.draft_dir(), zip_path, field="note.zip", must_exist=True)
        data = path.read_bytes()
    except (CreatorError, OSError):
        st.session_state.pop("zip_path", None)
        return
    st.download_button(t("download_zip"), data, file_name=path.name,
                       mime="application/zip", key=session.key("download_zip"))
