"""Cover: the candidates, choose one; edit the title and style and regenerate."""

from __future__ import annotations

import streamlit as st

from creator.drafts import own_file
from creator.errors import CreatorError
from creator.types import Draft
from ui import session
from ui.session import t

__all__ = ["render", "style_labels"]

COLUMNS = 4


def style_labels(lang: str) -> dict[str, str]:
    """Cover style id → its label in ``lang`` (prompts/cover/styles.yaml)."""
    from pipelines.cover import styles

    return {sid: preset.get(f"label_{lang}") or sid for sid, preset in styles().items()}


def _choose(index: int) -> None:
    def change(draft: Draft) -> None:
        draft.cover = draft.covers[index]

    session.edit(change)


def _regenerate(draft: Draft, title: str, style: str | None) -> None:
    s = session.settings().cover
    covers = session.assistant().cover(draft.context, title=title, style=style, n=s.n, ratio=s.ratio,
                                       out_dir=session.draft_dir() / "assets")
    draft.covers = covers
    draft.cover = covers[0] if covers else None
    session.save(draft)
    session.bump()


def _picture(path: str | None, k: int) -> tuple[bytes | None, str | None]:
    """The bytes of a cover candidate resolved inside the draft folder
    (creator.drafts.own_file), or why not: a path handed to st.image would be served
    whatever it names."""
    if not path:
        return None, None
    try:
        return own_file(session.draft_dir(), path, field=f"covers.{k}.path", must_exist=True).read_bytes(), None
    except (CreatorError, OSError) as e:
        return None, str(e)


def _candidates(draft: Draft, labels: dict[str, str]) -> None:
    if not draft.covers:
        st.info(t("no_covers"))
        return
    for row in range(0, len(draft.covers), COLUMNS):
        cols = st.columns(COLUMNS)
        for k, (col, c) in enumerate(zip(cols, draft.covers[row:row + COLUMNS]), start=row):
            chosen = draft.cover is not None and draft.cover.path == c.path
            with col, st.container(border=True):
                picture, problem = _picture(c.path, k)
                if picture is not None:
                    st.image(picture, width="stretch")
                elif problem:
                    st.warning(t("file_unusable", error=problem))
                st.caption(f"{labels.get(c.style, c.style)} · {c.backend}" + (f" · ✅ {t('chosen')}" if chosen else ""))
                st.button(t("use_this"), key=session.key(f"cover-{k}"), disabled=chosen,
                          on_click=_choose, args=(k,), width="stretch")


def render() -> None:
    st.header(t("page_cover"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("cover_intro"))
    labels = style_labels(session.lang())
    with st.form(session.key("cover_form"), border=True):
        c1, c2 = st.columns([3, 2])
        default_title = (draft.cover.title if draft.cover else None) or (draft.caption.title if draft.caption else "")
        title = c1.text_input(t("cover_title"), value=default_title, key=session.key("cover_title"))
        options = [None, *labels]
        style = c2.selectbox(t("cover_style"), options, key=session.key("cover_style"),
                             format_func=lambda s: t("all_styles") if s is None else labels[s])
        if st.form_submit_button(t("regenerate_covers"), type="primary"):
            try:
                with st.spinner(t("stage_cover")):
                    _regenerate(draft, title, style)
            except CreatorError as e:
                st.error(str(e))
            else:
                st.rerun()
    _candidates(draft, labels)
