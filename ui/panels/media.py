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
        # a tag the user added (a suggestion taken, or any other) is certain: score 1, source "user"
        item.tags = [kept.get(tid) or vocabulary().tag(tid, 1.0, "user") for tid in chosen]
        item.suggestions = [tag for tag in item.suggestions if tag.id not in chosen]

    session.edit(change)


def move(item_id: str, step: int, occurrence: int = 0) -> None:
    """Move the item ``step`` places; ``occurrence``: which of its tiles, when the same
    content appears more than once (two identical files of a folder share one id)."""
    def change(draft: Draft) -> None:
        ids = [i.id for i in draft.ordered_items()]
        at = [k for k, i in enumerate(ids) if i == item_id]
        k = at[min(occurrence, len(at) - 1)]
        j = max(0, min(len(ids) - 1, k + step))
        ids.insert(j, ids.pop(k))
        draft.order = ids

    session.edit(change)


def remove(item_id: str) -> None:
    def change(draft: Draft) -> None:
        draft.remove_item(item_id)

    session.edit(change)


def _tile(item: MediaItem, index: int, count: int, occurrence: int = 0) -> None:
    """One item's tile. Its widgets are keyed by the item's id and, for a second tile of
    the same content (same id), its occurrence: keys stay unique and follow the item
    when it moves."""
    slot = item.id if occurrence == 0 else f"{item.id}~{occurrence}"
    lang = session.lang()
    path, why = session.media_file_or_why(item)  # never a path from draft.json taken at face value
    picture = session.thumbnail(path, item.kind.value if item.kind else None) if path else None
    if picture is not None:
        st.image(picture, width="stretch")
    else:
        st.write(f"🎞️ {t('clip')}" if item.kind and item.kind.value == "clip" else "🖼️")
    st.caption(item.path.replace("\\", "/").rsplit("/", 1)[-1])
    if why:  # not shown, and not used by the video or the carousel: say why
        st.warning(why)
    vocab = vocabulary()
    widget = session.key(f"tags-{slot}")
    chosen = [tag.id for tag in item.tags if tag.id in vocab]
    # the tagger's suggestions (tags it was not sure enough of to state) head the add menu
    suggested = [tag.id for tag in item.suggestions if tag.id in vocab and tag.id not in chosen]
    options = chosen + suggested + [tid for tid in vocab.ids if tid not in chosen and tid not in suggested]
    mark = t("suggested")
    st.multiselect(
        t("tags"), options=options, default=chosen,
        format_func=lambda tid: vocab[tid].label(lang) + (f" · {mark}" if tid in suggested else ""),
        key=widget, label_visibility="collapsed", wrap=True, on_change=set_tags, args=(item.id, widget))
    c1, c2, c3 = st.columns(3)
    c1.button("↑", key=session.key(f"up-{slot}"), help=t("move_up"), disabled=index == 0,
              on_click=move, args=(item.id, -1, occurrence), width="stretch")
    c2.button("↓", key=session.key(f"down-{slot}"), help=t("move_down"), disabled=index == count - 1,
              on_click=move, args=(item.id, 1, occurrence), width="stretch")
    c3.button("✕", key=session.key(f"rm-{slot}"), help=t("remove"),
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
    seen: dict[str, int] = {}
    for row in range(0, len(items), COLUMNS):
        cols = st.columns(COLUMNS)
        for k, (col, item) in enumerate(zip(cols, items[row:row + COLUMNS]), start=row):
            occurrence = seen.get(item.id, 0)
            seen[item.id] = occurrence + 1
            with col, st.container(border=True):
                _tile(item, k, len(items), occurrence)
