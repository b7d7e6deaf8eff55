"""Caption: title with a live length count, body, hashtags; regenerate; alternatives."""

from __future__ import annotations

import streamlit as st

from creator.assistant import Assistant
from creator.errors import CreatorError
from creator.text import names_only
from creator.types import Caption, Draft
from ui import session
from ui.session import t

__all__ = ["render", "styles", "style_label", "title_count"]


def title_count(text: str) -> tuple[int, int]:
    """(length of ``text`` as the platform counts it, the limit): the SDK's own count."""
    return Assistant.title_count(text)


def styles() -> list[str]:
    """The caption styles the SDK offers (prompts/caption/styles.yaml)."""
    return list(Assistant.caption_styles())


def style_label(name: str, lang: str) -> str:
    """A style's name for the interface: its first Chinese alias in zh ("攻略"), its id in en."""
    preset = Assistant.caption_styles().get(name)
    if preset is None:
        return name
    if lang == "zh":
        return next((a for a in preset.get("aliases", []) if not a.isascii()), name)
    return name.capitalize()


def style_help(name: str, lang: str) -> str:
    return (Assistant.caption_styles().get(name) or {}).get("describe", {}).get(lang, "")


# -- edits: each one saves the draft --------------------------------------------------

def _set_caption_field(field: str, widget_key: str) -> None:
    value = st.session_state[widget_key]
    if field == "hashtags":
        value = Assistant.clean_hashtags(value)  # the SDK's rule, as the caption stage keeps them

    added = []

    def change(draft: Draft) -> None:
        if draft.caption is not None and getattr(draft.caption, field) != value:
            if field == "hashtags":
                added.extend(h for h in value if h not in draft.caption.hashtags)
            setattr(draft.caption, field, value)
            draft.caption.edited = True

    session.committed_on("caption")
    session.edit(change)
    if added:  # a typed chip shows as typed until the widget is built again from the draft ("#" and all)
        session.bump()


def _use_alternative(index: int) -> None:
    def change(draft: Draft) -> None:
        chosen = draft.alternatives[index]
        rest = [c for k, c in enumerate(draft.alternatives) if k != index]
        draft.alternatives = ([draft.caption] if draft.caption else []) + rest
        draft.caption = chosen

    session.edit(change)
    session.bump()


def _regenerate(draft: Draft, language: str, style: str, hint: str) -> bool:
    """New drafts (a new seed each time, so never the same text again) from the note's
    facts as they are now; a caption edited by hand is kept first among the
    alternatives. Returns whether an edited caption was kept."""
    import secrets

    captions: list[Caption] = session.assistant().caption(
        draft, language=language, style=style, n=3, seed=secrets.randbelow(2**31),
        hints=[hint] if hint.strip() else None)
    old = [c for c in [draft.caption, *draft.alternatives] if c is not None]
    seen = {c.text() for c in old}
    fresh = [c for c in captions if c.text() not in seen] or captions
    kept = list({c.text(): c for c in old if c.edited}.values())  # each edited text once (the last of it)
    draft.caption = fresh[0]
    draft.alternatives = kept + [c for c in fresh[1:]]
    draft.language = language
    session.save(draft)
    session.bump()
    return bool(kept)


# -- page -----------------------------------------------------------------------------

@st.fragment
def _title(draft: Draft) -> None:
    # A fragment: typing reruns only this part, so the count follows the typing.
    widget = session.key("title")
    value = st.text_input(t("title"), value=draft.caption.title, key=widget, live=True,
                          on_change=_set_caption_field, args=("title", widget))
    n, limit = title_count(value or "")
    if n > limit:
        st.error(t("title_count", n=n, limit=limit) + " · " + t("title_too_long", limit=limit, over=n - limit))
    else:
        st.caption(t("title_count", n=n, limit=limit))


def _body(draft: Draft) -> None:
    body_key = session.key("body")
    st.text_area(t("body"), value=draft.caption.body, height=320, key=body_key,
                 on_change=_set_caption_field, args=("body", body_key))


def _editor(draft: Draft) -> None:
    caption = draft.caption
    _title(draft)
    _body(draft)
    tags_key = session.key("hashtags")
    st.multiselect(t("hashtags"), options=caption.hashtags, default=caption.hashtags,
                   accept_new_options=True, help=t("hashtags_help"), key=tags_key, wrap=True,
                   format_func=lambda h: f"#{h}", on_change=_set_caption_field, args=("hashtags", tags_key))
    if caption.notes:
        with st.expander(t("caption_notes")):
            for note in caption.notes:
                st.write("· " + note)


def _regenerate_form(draft: Draft) -> None:
    with st.form(session.key("regen"), border=True):
        st.subheader(t("regenerate"))
        names = styles()
        current = draft.caption.style if draft.caption and draft.caption.style in names else names[0]
        c1, c2 = st.columns(2)
        lang = session.lang()
        style = c1.selectbox(t("style"), names, index=names.index(current), key=session.key("style"),
                             format_func=lambda n: style_label(n, lang),
                             help="\n\n".join(style_help(n, lang) for n in names))
        language = c2.radio(t("regen_language"), ["zh", "en"], horizontal=True, key=session.key("language"),
                            index=0 if draft.language == "zh" else 1,
                            format_func=lambda c: {"zh": "中文", "en": "English"}[c])
        hint = st.text_input(t("regen_hint"), key=session.key("regen_hint"), help=t("hint_help"))
        if st.form_submit_button(t("regenerate"), type="primary"):
            try:
                with st.spinner(t("stage_caption")):
                    if _regenerate(draft, language, style, hint):
                        st.session_state["edited_caption_kept"] = True
            except CreatorError as e:
                st.error(session.error_text(e))
                return
            st.rerun()


def _alternatives(draft: Draft) -> None:
    if not draft.alternatives:
        return
    st.subheader(t("alternatives"))
    # three to a row: every regenerate keeps the edited versions, and six columns were
    # about 80 px wide each
    per_row = 3
    cols = [c for row in range(0, len(draft.alternatives), per_row)
            for c in st.columns(per_row)][:len(draft.alternatives)]
    for k, (col, alt) in enumerate(zip(cols, draft.alternatives)):
        with col, st.container(border=True):
            st.markdown(f"**{alt.title}**")
            if alt.edited:
                st.caption("✏️ " + t("edited_by_you"))
            st.caption(f"{style_label(alt.style, session.lang())} · {'中文' if alt.language == 'zh' else 'English'}")
            st.text(alt.body)
            st.caption(" ".join(f"#{h}" for h in alt.hashtags))
            st.button(t("use_this"), key=session.key(f"alt-{k}"), on_click=_use_alternative, args=(k,))


def render() -> None:
    st.header(t("page_caption"))
    seconds = st.session_state.pop("last_generation_s", None)
    draft = session.require_draft()
    if draft is None:
        return
    if seconds is not None:
        st.success(t("generated", n=len(draft.ordered_items()), seconds=seconds))
    if st.session_state.pop("edited_caption_kept", False):
        st.info(t("edited_caption_kept"))
    for warning in [*draft.warnings, *draft.context.warnings]:
        st.warning(names_only(warning))  # file names, not the server's folders
    left, right = st.columns([3, 2])
    with left:
        if draft.caption is None:
            st.info(t("no_caption"))
        else:
            _editor(draft)
    with right:
        _regenerate_form(draft)
    _alternatives(draft)
