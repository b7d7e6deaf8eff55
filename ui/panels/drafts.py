"""Drafts: every saved draft, newest first, with its cover: reopen, or delete (moved to
the drafts folder's .trash/, never erased)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import session
from ui.session import t

__all__ = ["render"]


def _open(did: str) -> None:
    session.open_draft(did)
    st.session_state["drafts_opened"] = did


def _ask_delete(did: str) -> None:
    st.session_state["drafts_delete"] = did


def _delete(did: str) -> None:
    from creator.drafts import delete_draft

    st.session_state.pop("drafts_delete", None)
    try:
        delete_draft(session.drafts_root(), did)
    except Exception as e:  # shown on the page; the folder stays where it was
        st.session_state["drafts_error"] = session.error_text(e)
        return
    if session.draft_id() == did:  # the open draft went: none is open now
        st.session_state.pop("draft_id", None)
        st.query_params.pop("draft", None)


def _cover(folder: Path) -> bytes | None:
    """A thumbnail of the draft's chosen cover (a file inside its folder), if any."""
    from creator.drafts import load_draft, own_file
    from creator.errors import CreatorError

    try:
        d = load_draft(folder)
        if d.cover is None or not d.cover.path:
            return None
        path = own_file(folder, d.cover.path, field="cover.path", must_exist=True)
    except CreatorError:
        return None
    return session.thumbnail(str(path), size=160)


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
    if (error := st.session_state.pop("drafts_error", None)):
        st.error(error)
    current = session.draft_id()
    asked = st.session_state.get("drafts_delete")
    for path, title, updated_at in rows:
        did = Path(path).name if Path(path).name != "draft.json" else Path(path).parent.name
        with st.container(border=True):
            c0, c1, c2 = st.columns([1, 4, 1], vertical_alignment="center")
            picture = _cover(Path(path))
            if picture is not None:
                c0.image(picture, width="stretch")
            else:
                c0.write("🗒️")
            mark = "✅ " if did == current else ""
            c1.markdown(f"{mark}**{title or t('untitled')}**")
            when = f"{t('updated')} {updated_at.strftime('%Y-%m-%d %H:%M')} · " if updated_at else ""
            c1.caption(f"{when}`{did}`")
            c2.button(t("open"), key=f"open-{did}", on_click=_open, args=(did,), width="stretch",
                      disabled=did == current)
            if asked == did:  # a second click, on a button that says what it does
                c2.button(t("delete_confirm"), key=f"del-yes-{did}", on_click=_delete, args=(did,),
                          type="primary", width="stretch")
            else:
                c2.button(t("delete"), key=f"del-{did}", on_click=_ask_delete, args=(did,), width="stretch")
