"""Export: a preview of what is posted (the pictures as a phone shows them, the video),
the image note ready to post (post/ as a zip, each text block to copy), the caption to
copy, and one zip of caption.md, cover, video and draft.json. Every picture and the
video reach Streamlit as bytes read through the draft's resolvers, never as a path."""

from __future__ import annotations

import streamlit as st

from creator.drafts import own_file
from creator.errors import CreatorError
from ui import session
from ui.session import t

__all__ = ["render", "preview"]


def preview(draft) -> None:
    """The note as it will be posted: the cover and the carousel on a phone, and the video."""
    from ui.panels.carousel import phone_html, posted_pictures

    st.subheader(t("export_preview"))
    pictures = posted_pictures(draft)
    if pictures:
        st.html(phone_html(draft, pictures))
    else:
        st.info(t("export_no_pictures"))
    if draft.video is None:
        return
    try:
        data = own_file(session.draft_dir(), draft.video.path, field="video.path", must_exist=True).read_bytes()
    except (CreatorError, OSError) as e:
        st.warning(t("file_unusable", error=session.error_text(e)))
        return
    _, mid, _ = st.columns([1, 2, 1])
    mid.video(data, format="video/mp4")


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

    preview(draft)
    post_block(draft)  # post/ as a zip, and a copy button for each text block
    if draft.caption is not None:
        st.subheader(t("copy_text"))
        st.code(draft.caption.text(), language=None, wrap_lines=True)
    if st.button(t("make_zip"), type="primary", key=session.key("make_zip")):
        try:
            st.session_state["zip_path"] = str(session.assistant().export_zip(session.draft_dir()))
        except CreatorError as e:
            st.session_state.pop("zip_path", None)
            st.error(session.error_text(e))
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
