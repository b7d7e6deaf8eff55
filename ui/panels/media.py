"""Media: thumbnails in the note's order, tags as editable chips, reorder and remove."""

from __future__ import annotations

import streamlit as st

from creator.types import Draft, MediaItem
from creator.vocabulary import vocabulary
from ui import session
from ui.session import t

__all__ = ["render", "set_tags", "move", "remove"]

COLUMNS = 4


# Each edit replaces a list in the draft and saves it (session.edit): the user's tags
# replace the item's tag list; a removed item leaves the draft (its file stays in the
# draft's media folder, and the original is never touched).
def set_tags(item_id: str, widget_key: str) -> None:
    chosen: list[str] = st.session_state[widget_key]

    def change(draft: Draft) -> None:
        item = draft.context.item(item_id)
        kept = {tag.id: tag for tag in item.tags}
        # a tag the user added is certain: score 1, source "user"
        item.tags = [kept.get(tid) or vocabulary().tag(tid, 1.0, "user") for tid in chosen]

    session.edit(change)


def move(item_id: str, step: int) -> None:
    def change(draft: Draft) -> None:
        ids = [i.id for i in draft.ordered_items()]
        k = ids.index(item_id)
        j = max(0, min(len(ids) - 1, k + step))
        ids.insert(j, ids.pop(k))
        draft.order = ids

    session.edit(change)


def remove(item_id: str) -> None:
    def change(draft: Draft) -> None:
        draft.remove_item(item_id)

    session.edit(change)


def _tile(item: MediaItem, index: int, count: int) -> None:
    lang = session.lang()
    picture = session.thumbnail(item.path, item.kind.value if item.kind else None)
    if picture is not None:
        st.image(picture, width="stretch")
    else:
        st.write(f"🎞️ {t('clip')}" if item.kind and item.kind.value == "clip" else "🖼️")
    st.caption(item.path.replace("\\", "/").rsplit("/", 1)[-1])
    vocab = vocabulary()
    widget = session.key(f"tags-{item.id}")
    st.multiselect(
        t("tags"), options=vocab.ids, default=[tag.id for tag in item.tags if tag.id in vocab],
        format_func=lambda tid: vocab[tid].label(lang), key=widget, label_visibility="collapsed", wrap=True,
        on_change=set_tags, args=(item.id, widget))
    c1, c2, c3 = st.columns(3)
    c1.button("↑", key=session.key(f"up-{item.id}"), help=t("move_up"), disabled=index == 0,
              on_click=move, args=(item.id, -1), width="stretch")
    c2.button("↓", key=session.key(f"down-{item.id}"), help=t("move_down"), disabled=index == count - 1,
              on_click=move, args=(item.id, 1), width="stretch")
    c3.button("✕", key=session.key(f"rm-{item.id}"), help=t("remove"),
              on_click=remove, args=(item.id,), width="stretch")


def render() -> None:
    st.header(t("page_media"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("media_intro"))
    bad = [i for i in draft.context.items if not i.ok]
    if bad:
        st.warning(t("unreadable", n=len(bad)) + ": " + ", ".join(
            f"{i.path.rsplit('/', 1)[-1]} ({i.error})" for i in bad))
    items = draft.ordered_items()
    for row in range(0, len(items), COLUMNS):
        cols = st.columns(COLUMNS)
        for col, item in zip(cols, items[row:row + COLUMNS]):
            with col, st.container(border=True):
                _tile(item, items.index(item), len(items))
