"""Video: one click to assemble (with a progress bar), preview, download."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from creator.errors import CreatorError
from creator.types import Draft
from ui import session
from ui.session import t

__all__ = ["render", "VIDEO_FILE"]

VIDEO_FILE = "note.mp4"


def _make(draft: Draft) -> None:
    out = session.draft_dir() / VIDEO_FILE
    result = session.run_with_progress(
        lambda progress, cancel: session.assistant().video(draft, out=out, progress=progress, cancel=cancel),
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
    label = t("remake_video") if draft.video else t("make_video")
    if st.button(label, type="primary", key=session.key("make_video")):
        try:
            _make(draft)
        except CreatorError as e:
            st.error(str(e))
            return
        draft = session.current_draft()
    video = draft.video
    if video is None or not Path(video.path).exists():
        return
    st.success(t("video_ready", seconds=video.duration, width=video.width, height=video.height))
    for w in video.warnings:
        st.warning(w)
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.video(video.path)
        with open(video.path, "rb") as f:
            st.download_button(t("download_video"), f.read(), file_name=Path(video.path).name,
                               mime="video/mp4", key=session.key("download_video"), width="stretch")
