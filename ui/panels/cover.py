"""Cover: the candidates, choose one; edit the title and style and regenerate."""

from __future__ import annotations

import streamlit as st

from creator.assistant import Assistant
from creator.drafts import own_file
from creator.errors import CreatorError
from creator.text import names_only
from creator.types import Cover, Draft
from ui import session
from ui.session import t

__all__ = ["render", "style_labels", "chosen_index", "cover_title"]

COLUMNS = 4


def style_labels(lang: str) -> dict[str, str]:
    """Cover style id → its label in ``lang`` (prompts/cover/styles.yaml)."""
    from creator.assistant import Assistant

    return {sid: preset.get(f"label_{lang}") or sid for sid, preset in Assistant.cover_styles().items()}


def _same(a: Cover, b: Cover) -> bool:
    """The same cover whatever its file is called: the chosen cover is a copy
    (cover.png) of its candidate, and a regenerated candidate is a new file."""
    return a.model_dump(exclude={"path"}) == b.model_dump(exclude={"path"})


def chosen_index(draft: Draft) -> int | None:
    """Which candidate is the draft's chosen cover (its file first, else what it is)."""
    if draft.cover is None:
        return None
    for k, c in enumerate(draft.covers):
        if draft.cover.path and c.path == draft.cover.path:
            return k
    return next((k for k, c in enumerate(draft.covers) if _same(c, draft.cover)), None)


def _choose(index: int) -> None:
    def change(draft: Draft) -> None:
        draft.cover = draft.covers[index]

    session.edit(change)


def _regenerate(draft: Draft, title: str, style: str | None) -> None:
    s = session.settings().cover
    covers = session.assistant().cover(draft.context, title=title, style=style, n=s.n, ratio=s.ratio,
                                       out_dir=session.draft_dir() / "assets")
    # the choice stays when the new candidates still have it (same style, photo, title)
    kept = next((c for c in covers if draft.cover is not None and _same(c, draft.cover)), None)
    draft.covers = covers
    draft.cover = kept or (covers[0] if covers else None)
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
        return None, session.error_text(e)


def _candidates(draft: Draft, labels: dict[str, str]) -> None:
    if not draft.covers:
        st.info(t("no_covers"))
        return
    chosen_k = chosen_index(draft)
    for row in range(0, len(draft.covers), COLUMNS):
        cols = st.columns(COLUMNS)
        for k, (col, c) in enumerate(zip(cols, draft.covers[row:row + COLUMNS]), start=row):
            chosen = k == chosen_k
            with col, st.container(border=True):
                picture, problem = _picture(c.path, k)
                if picture is not None:
                    st.image(picture, width="stretch")
                elif problem:
                    st.warning(t("file_unusable", error=names_only(problem)))
                st.caption(f"{labels.get(c.style, c.style)} · {c.backend}" + (f" · ✅ {t('chosen')}" if chosen else ""))
                st.button(t("use_this"), key=session.key(f"cover-{k}"), disabled=chosen,
                          on_click=_choose, args=(k,), width="stretch")


def cover_title(draft: Draft) -> str:
    """The title field's value: the chosen cover's title, or the caption's once the
    caption was edited by hand (the covers then show an older title)."""
    caption = draft.caption.title if draft.caption else ""
    if draft.cover is None or (draft.caption is not None and draft.caption.edited and caption):
        return caption or (draft.cover.title if draft.cover else "")
    return draft.cover.title or caption


def render() -> None:
    st.header(t("page_cover"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("cover_intro"))
    labels = style_labels(session.lang())
    with st.form(session.key("cover_form"), border=True):
        c1, c2 = st.columns([3, 2])
        title = c1.text_input(t("cover_title"), value=cover_title(draft), max_chars=Assistant.cover_title_limit(),
                              # a new caption title starts the field again from it
                              key=session.key("cover_title:" + (draft.caption.title if draft.caption else "")))
        options = [None, *labels]
        style = c2.selectbox(t("cover_style"), options, key=session.key("cover_style"),
                             format_func=lambda s: t("all_styles") if s is None else labels[s])
        if st.form_submit_button(t("regenerate_covers"), type="primary"):
            try:
                with st.spinner(t("stage_cover")):
                    _regenerate(draft, title, style)
            except CreatorError as e:
                st.error(session.error_text(e))
            else:
                st.rerun()
    _candidates(draft, labels)
