"""Drafts: every saved draft, newest first, to reopen."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import session
from ui.session import t

__all__ = ["render"]


def _open(did: str) -> None:
    session.open_draft(did)
    st.session_state["drafts_opened"] = did


def render() -> None:
    opened = st.session_state.pop("drafts_opened", None)
    if opened:  # a draft was just opened: show it
        from ui.panels import caption

        st.switch_page(st.Page(caption.render, url_path="caption"),
                       query_params={"draft": opened, "lang": session.lang()})
    st.header(t("page_drafts"))
    root = session.drafts_root()
    st.caption(t("drafts_intro", path=root))
    from creator.drafts import list_drafts

    rows = list_drafts(root)
    if not rows:
        st.info(t("no_drafts"))
        return
    current = session.draft_id()
    for path, title, updated_at in rows:
        did = Path(path).name if Path(path).name != "draft.json" else Path(path).parent.name
        with st.container(border=True):
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            mark = "✅ " if did == current else ""
            c1.markdown(f"{mark}**{title or t('untitled')}**")
            when = updated_at.strftime("%Y-%m-%d %H:%M") if updated_at else ""
            c1.caption(f"{t('updated')} {when} · `{did}`")
            c2.button(t("open"), key=f"open-{did}", on_click=_open, args=(did,), width="stretch",
                      disabled=did == current)
