"""Carousel: the image note's pictures as they will be posted (the cover first), to
reorder, swap, remove, re-crop along the free axis and label; and the export to post/.

Every change goes through the SDK (Assistant.carousel_edit and the other editor helpers,
Assistant.carousel and Assistant.post) and is saved in draft.json at once.
"""

from __future__ import annotations

import io
from pathlib import Path

import streamlit as st

from creator.assistant import Assistant
from creator.errors import CreatorError
from creator.types import Draft
from ui import session
from ui.session import t

__all__ = ["render", "post_block", "posted_pictures", "phone_html"]

COLUMNS = 3
PREVIEW = 4  # previews at a quarter of the posted size


@st.cache_data(show_spinner=False, max_entries=256)
def _preview(entry_json: str, item_json: str, ratio: str, style: str | None, path: str, mtime: float) -> bytes | None:
    """The entry rendered as posted (at a quarter size), as JPEG bytes."""
    from creator.types import CarouselEntry, MediaItem

    entry, item = CarouselEntry.model_validate_json(entry_json), MediaItem.model_validate_json(item_json)
    try:
        img = Assistant.carousel_image(entry, item, ratio=ratio, style=style, path=path, scale=PREVIEW)
    except CreatorError:
        return None
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _edit(change) -> None:
    """Apply ``change(entries, draft) -> entries`` and renumber the files."""
    def apply(draft: Draft) -> None:
        draft.carousel = Assistant.carousel_edit(draft, change(list(draft.carousel), draft))

    session.edit(apply)
    session.bump()


def _move(k: int, step: int) -> None:
    def change(e, _):
        j = k + step
        if 0 <= j < len(e):
            e[k], e[j] = e[j], e[k]
        return e

    _edit(change)


def _remove(k: int) -> None:
    _edit(lambda e, _: e[:k] + e[k + 1:])


def _swap(k: int, widget: str) -> None:
    item_id = st.session_state.get(widget)
    if not item_id:
        return
    _edit(lambda e, draft: Assistant.carousel_edit(draft, e, k, item_id=item_id))


def _slide(k: int, widget: str) -> None:
    _edit(lambda e, draft: Assistant.carousel_edit(draft, e, k, crop=st.session_state[widget]))


def _label(k: int, widget: str) -> None:
    _edit(lambda e, draft: Assistant.carousel_edit(draft, e, k, label=bool(st.session_state[widget])))


def _make(n: int, ratio: str, labels: bool) -> None:
    def apply(draft: Draft) -> None:
        draft.carousel = session.assistant().carousel(draft, n=n, ratio=ratio, labels=labels,
                                                      draft_dir=session.draft_dir(), media_roots=session.media_roots())

    session.edit(apply)
    session.bump()


def _entry_preview(e, item, ratio: str, style: str | None) -> bytes | None:
    """One entry as posted, at preview size, from the draft's own media only (the
    resolver, never the path in draft.json)."""
    path = session.media_path(item)
    if not path:
        return None
    return _preview(e.model_dump_json(), item.model_dump_json(), ratio, style, path, Path(path).stat().st_mtime)


def posted_pictures(draft: Draft) -> list[bytes]:
    """The image note's pictures as they will be posted (the cover first), at preview
    size, as JPEG bytes: what the phone preview shows."""
    ratio = Assistant.carousel_options(draft)["ratio"]
    style = draft.cover.style if draft.cover else None
    pictures = [p for p in [_cover_preview(draft, ratio)] if p is not None]
    for e in draft.carousel:
        try:
            item = draft.context.item(e.item_id)
        except (KeyError, LookupError, CreatorError):
            continue
        if (jpeg := _entry_preview(e, item, ratio, style)) is not None:
            pictures.append(jpeg)
    return pictures


def _grid(draft: Draft) -> list[bytes]:
    """The tiles to edit; returns the pictures as posted (previews), in order."""
    ratio = Assistant.carousel_options(draft)["ratio"]
    style = draft.cover.style if draft.cover else None
    names = {i.id: Path(i.path).name for i in draft.context.items}
    used = {e.item_id for e in draft.carousel}
    spare = [i.id for i in draft.ordered_items() if i.id not in used
             and (draft.cover is None or i.id not in draft.cover.source.split(","))]
    tiles: list = []
    cover_path = _own_cover(draft)  # only a file inside the draft folder, never a crafted path
    if cover_path is not None:
        tiles.append(("cover", None))
    tiles += [("entry", k) for k in range(len(draft.carousel))]
    n = len(draft.carousel)
    pictures: list[bytes] = []
    for row in range(0, len(tiles), COLUMNS):
        for col, (kind, k) in zip(st.columns(COLUMNS), tiles[row:row + COLUMNS]):
            with col, st.container(border=True):
                if kind == "cover":
                    if (jpeg := _cover_preview(draft, ratio)) is not None:
                        st.image(jpeg, width="stretch")
                        pictures.append(jpeg)
                    st.caption(f"01.jpg · {t('carousel_cover')}")
                    continue
                e = draft.carousel[k]
                try:
                    item = draft.context.item(e.item_id)
                except KeyError:  # a hand-edited draft's entry for a photo it no longer has
                    st.warning(t("carousel_gone", name=e.file or e.item_id[:16]))
                    st.button("✕", key=session.key(f"car-remove-{k}"), on_click=_remove, args=(k,),
                              help=t("carousel_remove"), width="stretch")
                    continue
                jpeg = _entry_preview(e, item, ratio, style)
                if jpeg:
                    st.image(jpeg, width="stretch")
                    pictures.append(jpeg)
                st.caption(f"{e.file} · {names.get(e.item_id, e.item_id)}" + (f" · {e.label}" if e.label else ""))
                b = st.columns(3)
                b[0].button("◀", key=session.key(f"car-left-{k}"), disabled=k == 0, on_click=_move, args=(k, -1),
                            help=t("carousel_earlier"), width="stretch")
                b[1].button("▶", key=session.key(f"car-right-{k}"), disabled=k == n - 1, on_click=_move,
                            args=(k, 1), help=t("carousel_later"), width="stretch")
                b[2].button("✕", key=session.key(f"car-remove-{k}"), on_click=_remove, args=(k,),
                            help=t("carousel_remove"), width="stretch")
                axis, where = Assistant.carousel_crop(e, item)
                if axis is not None:
                    w = session.key(f"car-crop-{k}")
                    st.slider(t("carousel_crop_x") if axis == "x" else t("carousel_crop_y"), 0.0, 1.0,
                              value=round(where, 2), step=0.05, key=w, on_change=_slide, args=(k, w))
                w = session.key(f"car-label-{k}")
                st.toggle(t("carousel_label"), value=e.label is not None, key=w, on_change=_label, args=(k, w))
                if spare:
                    w = session.key(f"car-swap-{k}")
                    st.selectbox(t("carousel_swap"), [None, *spare], key=w, on_change=_swap, args=(k, w),
                                 format_func=lambda i: "—" if i is None else names.get(i, i))
    return pictures


def post_block(draft: Draft) -> None:
    """The image note ready to post: write post/, download it as a zip, and the title,
    body and hashtags each in a block with its own copy button (the carousel and the
    export pages show the same)."""
    st.subheader(t("carousel_post"))
    if st.button(t("carousel_write_post"), type="primary", key=session.key("car-post")):
        try:
            with st.spinner(t("carousel_post")):
                out = session.assistant().post(session.draft_dir(), media_roots=session.media_roots())
        except CreatorError as e:
            st.error(session.error_text(e))
        else:
            st.success(t("carousel_posted", path=str(out), count=len(list(out.glob("*.jpg")))))
    post = session.draft_dir() / "post"
    if post.is_dir():
        try:
            data = Assistant.post_zip(post)
        except CreatorError as e:  # a crafted draft's post/ that links elsewhere: never served
            st.warning(session.error_text(e))
        else:
            st.download_button(t("carousel_zip"), data, file_name="post.zip", mime="application/zip",
                               key=session.key("car-zip"))
    if draft.caption is not None:  # each block with its own copy button (st.code's)
        c = draft.caption
        for label, text in ((t("carousel_title"), c.title), (t("carousel_body"), c.body.strip()),
                            (t("carousel_hashtags"), " ".join(f"#{h}" for h in c.hashtags))):
            st.caption(label)
            st.code(text, language=None, wrap_lines=True)


def _own_cover(draft: Draft):
    """The chosen cover's file inside the draft folder, or None."""
    from creator.drafts import own_file

    if draft.cover is None or not draft.cover.path:
        return None
    try:
        return own_file(session.draft_dir(), draft.cover.path, field="cover.path", must_exist=True)
    except CreatorError:
        return None


def _cover_preview(draft: Draft, ratio: str) -> bytes | None:
    """The cover as 01.jpg shows it (the posting code's own), at preview size."""
    try:
        out = Assistant.cover_image(draft, session.draft_dir(), ratio=ratio, scale=PREVIEW)
    except CreatorError:
        return None
    if out is None:
        return None
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


_PHONE_CSS = """
<style>
.tn-phones{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.tn-phone{width:360px;max-width:100%;border:1px solid #ddd;border-radius:28px;padding:14px 10px;background:#fff;
  box-shadow:0 4px 18px rgba(0,0,0,.08);font-family:-apple-system,"PingFang SC","Noto Sans SC",sans-serif;color:#222}
.tn-bar{font-size:13px;color:#999;text-align:center;margin:0 0 8px}
.tn-feed{display:grid;grid-template-columns:1fr 1fr;gap:6px}
.tn-card{background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.tn-card img{display:block;width:100%;height:auto}
.tn-card .tn-t{font-size:13px;font-weight:600;line-height:1.35;margin:6px 7px 2px;display:-webkit-box;
  -webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.tn-card .tn-m{font-size:11px;color:#999;margin:2px 7px 7px;display:flex;justify-content:space-between}
.tn-ghost{background:linear-gradient(#eee,#f6f6f6);border-radius:8px;margin-bottom:6px}
.tn-feed .tn-card{margin-bottom:6px}
.tn-track{display:flex;overflow-x:auto;scroll-snap-type:x mandatory;border-radius:6px;background:#f4f4f4;
  scrollbar-width:none}
.tn-track::-webkit-scrollbar{display:none}
.tn-track img{flex:0 0 100%;width:100%;scroll-snap-align:center;object-fit:contain}
.tn-count{font-size:11px;color:#999;text-align:center;margin:4px 0 8px}
.tn-title{font-size:17px;font-weight:700;margin:6px 4px}
.tn-body{font-size:14px;line-height:1.6;white-space:pre-wrap;margin:4px}
.tn-tags{font-size:14px;color:#13386c;margin:6px 4px}
</style>
"""


def phone_html(draft: Draft, pictures: list[bytes]) -> str:
    """The note as a phone shows it: its card in the two-column feed, and its page
    (the pictures to swipe through, the title, the body, the hashtags)."""
    import base64
    import html

    def img(data: bytes) -> str:
        return f'<img src="data:image/jpeg;base64,{base64.b64encode(data).decode()}" alt="">'

    c = draft.caption
    title = html.escape(c.title if c else (draft.cover.title if draft.cover else ""))
    body = html.escape(c.body.strip() if c else "")
    tags = html.escape(" ".join(f"#{h}" for h in c.hashtags) if c else "")
    first = img(pictures[0]) if pictures else ""
    ghost = '<div class="tn-ghost" style="height:{}px"></div>'
    feed = (f'<div class="tn-feed"><div><div class="tn-card">{first}<div class="tn-t">{title}</div>'
            f'<div class="tn-m"><span>● {html.escape(t("carousel_me"))}</span><span>♡ 0</span></div></div>'
            f'{ghost.format(150)}</div><div>{ghost.format(210)}{ghost.format(120)}</div></div>')
    page = (f'<div class="tn-track">{"".join(img(p) for p in pictures)}</div>'
            f'<div class="tn-count">{html.escape(t("carousel_swipe", count=len(pictures)))}</div>'
            f'<div class="tn-title">{title}</div><div class="tn-body">{body}</div><div class="tn-tags">{tags}</div>')
    return (_PHONE_CSS + f'<div class="tn-phones"><div class="tn-phone"><div class="tn-bar">{html.escape(t("carousel_feed"))}</div>{feed}</div>'
            f'<div class="tn-phone"><div class="tn-bar">{html.escape(t("carousel_note"))}</div>{page}</div></div>')


def render() -> None:
    st.header(t("page_carousel"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("carousel_intro"))
    with st.form(session.key("car-form"), border=True):
        c1, c2, c3 = st.columns(3)
        shown = len(draft.carousel) + (1 if draft.cover is not None else 0)
        options = Assistant.carousel_options(draft)
        top, ratios = options["max_images"], options["ratios"]
        n = c1.number_input(t("carousel_n"), 1, top, value=min(top, shown or 9), key=session.key("car-n"))
        ratio = c2.selectbox(t("carousel_ratio"), ratios, index=ratios.index(options["ratio"]),
                             key=session.key("car-ratio"))
        labels = c3.toggle(t("carousel_labels"), value=any(e.label for e in draft.carousel),
                           key=session.key("car-labels"))
        if st.form_submit_button(t("carousel_make"), type="primary"):
            try:
                with st.spinner(t("carousel_make")):
                    _make(int(n), ratio, labels)
            except CreatorError as e:
                st.error(session.error_text(e))
            else:
                st.rerun()
    if not draft.carousel:
        # a collage cover of every photo leaves none to follow it: say so, not "press the button"
        in_cover = set(draft.cover.source.split(",")) if draft.cover is not None else set()
        items = draft.ordered_items()
        all_in_cover = bool(items) and all(i.id in in_cover for i in items)
        st.info(t("carousel_all_in_cover") if all_in_cover else t("carousel_none"))
        return
    pictures = _grid(draft)
    st.subheader(t("carousel_phone"))
    st.html(phone_html(draft, pictures))
    post_block(draft)
