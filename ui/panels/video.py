"""Video: one click to assemble (with a progress bar), preview, download; a video made
before the draft's order, cover, track, excerpt, title or captions changed is marked
outdated, and the same one click re-renders it.

Only a video file resolved inside the draft folder (creator.drafts.own_file) is shown,
and it is handed to Streamlit as bytes: a path given to st.video would be served by
Streamlit's media server whatever it names."""

from __future__ import annotations

import streamlit as st

from creator.drafts import own_file
from creator.errors import CreatorError
from creator.types import Draft
from ui import session
from ui.session import t

__all__ = ["render", "VIDEO_FILE"]

VIDEO_FILE = "note.mp4"


def _make(draft: Draft) -> None:
    folder = session.draft_dir()
    out = folder / VIDEO_FILE
    roots = session.media_roots()
    result = session.run_with_progress(
        lambda progress, cancel: session.assistant().video(draft, out=out, progress=progress, cancel=cancel,
                                                           draft_dir=folder, media_roots=roots),
        label=t("stage_video"))
    # the video is written into the draft, reread so that edits made meanwhile stay
    session.edit(lambda d: setattr(d, "video", result))


def render() -> None:
    st.header(t("page_video"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("video_intro"))
    if draft.track is None:
        st.warning(t("no_track_for_video"))
    # a video made before the order, cover, track, excerpt, title or captions changed
    changes = session.assistant().video_changes(draft, session.draft_dir()) if draft.video else []
    note = st.empty()  # cleared once re-rendered
    if changes == ["unknown"]:
        note.warning(t("video_outdated_unknown"))
    elif changes:
        sep = "、" if session.lang() == "zh" else ", "
        note.warning(t("video_outdated", changes=sep.join(t(f"changed_{c}") for c in changes)))
    label = (t("rerender_outdated") if changes else t("remake_video")) if draft.video else t("make_video")
    if st.button(label, type="primary", key=session.key("make_video")):
        try:
            _make(draft)
        except CreatorError as e:
            st.error(session.error_text(e))
            return
        draft = session.current_draft()
        note.empty()
    video = draft.video
    if video is None:
        return
    try:
        path = own_file(session.draft_dir(), video.path, field="video.path", must_exist=True)
        data = path.read_bytes()
    except (CreatorError, OSError) as e:
        st.error(t("file_unusable", error=session.error_text(e)))
        return
    st.success(t("video_ready", seconds=video.duration, width=video.width, height=video.height))
    for w in video.warnings:
        st.warning(w)
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.video(data, format="video/mp4")
        st.download_button(t("download_video"), data, file_name=path.name,
                           mime="video/mp4", key=session.key("download_video"), width="stretch")
