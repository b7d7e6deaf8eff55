"""The Streamlit editor: `creator ui` runs ``streamlit run`` on this file.

This file only wires the pages (one module each under ui/panels/) and the sidebar:
the interface language and the open draft. Everything a page shows or changes goes
through the SDK (creator.assistant) and the draft on disk (ui/session.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# `streamlit run .../ui/app.py` puts ui/ itself on sys.path, not the folder holding the
# `ui` package; from an installed wheel `ui` is importable anyway, from a bare checkout
# it is found next to this file.
if importlib.util.find_spec("ui") is None:  # pragma: no cover - depends on how it is run
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from ui import session  # noqa: E402
from ui.panels import caption, cover, drafts, export, media, music, start, video  # noqa: E402
from ui.panels import carousel  # noqa: E402


def _sidebar() -> None:
    with st.sidebar:
        st.segmented_control(
            "🌐 " + session.t("language"),
            options=["zh", "en"],
            format_func=lambda code: {"zh": "中文", "en": "English"}[code],
            default=session.lang(),
            key="ui_lang",
            selection_mode="single",
            required=True,
        )
        draft = session.current_draft()
        if draft is None:
            st.caption(session.t("no_draft"))
        else:
            title = draft.caption.title if draft.caption else session.t("untitled")
            st.caption(session.t("current_draft", title=title))
            st.caption(session.t("autosaved"))


def main() -> None:
    st.set_page_config(page_title=session.t("app_title"), page_icon="🧳", layout="wide")
    session.sync_url()
    session.translate_frontend()
    pages = [
        st.Page(start.render, title=session.t("page_start"), icon="✨", url_path="start", default=True),
        st.Page(media.render, title=session.t("page_media"), icon="🖼️", url_path="media"),
        st.Page(caption.render, title=session.t("page_caption"), icon="✍️", url_path="caption"),
        st.Page(music.render, title=session.t("page_music"), icon="🎵", url_path="music"),
        st.Page(cover.render, title=session.t("page_cover"), icon="📕", url_path="cover"),
        st.Page(carousel.render, title=session.t("page_carousel"), icon="🖼", url_path="carousel"),
        st.Page(video.render, title=session.t("page_video"), icon="🎬", url_path="video"),
        st.Page(export.render, title=session.t("page_export"), icon="📦", url_path="export"),
        st.Page(drafts.render, title=session.t("page_drafts"), icon="🗂️", url_path="drafts"),
    ]
    page = st.navigation(pages)
    # A field that loses its focus to a click on another page in the sidebar commits
    # only after that click has opened the page: its edit is saved (its on_change ran),
    # then the user is taken on to the page they clicked, which would otherwise be lost.
    back = session.page_left(page.url_path)
    if back is not None:
        st.switch_page(next(p for p in pages if p.url_path == back),
                       query_params={k: v for k, v in (("draft", session.draft_id()), ("lang", session.lang())) if v})
    _sidebar()
    page.run()


main()
