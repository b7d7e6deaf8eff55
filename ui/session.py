"""What every page of the editor shares: the Assistant, the open draft, strings, progress.

The open draft lives on disk, not in the browser session: its id is in the page's
query string (``?draft=<id>``), every page reads it from ``<drafts>/<id>/draft.json``
and every edit writes it back at once (:func:`edit`). A reload, a second tab or a
crashed server therefore loses nothing. Nothing here decides anything about a note;
that is the SDK's job (creator.assistant).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from creator.config import Settings
from creator.errors import CreatorError
from creator.resources import load_prompt
from creator.types import Draft

__all__ = [
    "t",
    "error_text",
    "lang",
    "settings",
    "assistant",
    "drafts_root",
    "draft_id",
    "sync_url",
    "draft_dir",
    "open_draft",
    "current_draft",
    "new_draft_id",
    "save",
    "edit",
    "rev",
    "bump",
    "committed_on",
    "page_left",
    "key",
    "stage_label",
    "run_with_progress",
    "thumbnail",
    "file_uploader",
    "media_roots",
    "media_path",
    "require_draft",
]

T = TypeVar("T")


def _valid_id(value) -> str | None:
    """``value`` when it is a draft id (creator.drafts.check_draft_id: a plain folder name,
    so a query string like ``?draft=..`` can't point elsewhere), else None."""
    from creator.drafts import check_draft_id

    try:
        return check_draft_id(value)
    except CreatorError:
        return None


# -- strings -------------------------------------------------------------------------

def lang() -> str:
    """The interface language: ``zh`` or ``en`` (the sidebar toggle, kept in the URL)."""
    value = st.session_state.get("ui_lang") or st.query_params.get("lang") or "zh"
    return value if value in ("zh", "en") else "zh"


def t(key: str, **fields: Any) -> str:
    """The interface string ``key`` in the current language (prompts/ui/strings.yaml)."""
    entry = load_prompt("ui/strings.yaml")["strings"].get(key)
    if entry is None:
        return key.format(**fields) if fields else key
    text = entry.get(lang()) or entry.get("en") or key
    return text.format(**fields) if fields else text


def error_text(error: BaseException) -> str:
    """What went wrong, in the interface language, for every error the editor shows.

    An SDK error (creator.errors) with a ``code`` is said by the string
    ``error_<code>`` filled with its ``details`` (lists joined); any other by its kind
    (``error_kind_<class>``, e.g. "文件读不了：…") around the SDK's own message, with file
    names only, never the server's folders. Never by parsing the English message."""
    from creator.errors import Cancelled
    from creator.text import names_only

    strings = load_prompt("ui/strings.yaml")["strings"]
    sep = "、" if lang() == "zh" else ", "
    code = getattr(error, "code", None)
    if isinstance(error, Cancelled) and not code:
        code = "cancelled"
    if code and f"error_{code}" in strings:
        fields = {k: sep.join(map(str, v)) if isinstance(v, (list, tuple)) else v
                  for k, v in (getattr(error, "details", None) or {}).items()}
        try:
            return names_only(t(f"error_{code}", **fields))
        except (KeyError, IndexError):  # a detail the string needs is missing: say it by kind
            pass
    kind = next((f"error_kind_{c.__name__}" for c in type(error).__mro__ if f"error_kind_{c.__name__}" in strings),
                "error_kind_Exception")
    return t(kind, message=names_only(str(error)))


# -- the SDK, once per process -------------------------------------------------------

@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Settings of the profile ``creator ui --profile`` asked for (env CREATOR_UI_PROFILE)."""
    return Settings.for_profile(os.environ.get("CREATOR_UI_PROFILE", "lite"))


@st.cache_resource(show_spinner=False)
def assistant():
    """The one Assistant of this server process; it loads its models lazily and is
    shared by every browser session (the SDK makes that thread-safe)."""
    from creator.assistant import Assistant

    return Assistant(settings=settings())


def drafts_root() -> Path:
    """Where drafts are kept: env CREATOR_DRAFTS_DIR (read on every call: `creator ui
    --drafts` and tests set it), else Settings.drafts_root."""
    env = os.environ.get("CREATOR_DRAFTS_DIR")
    return Path(env) if env else settings().drafts_root


# -- the open draft ------------------------------------------------------------------

def draft_id() -> str | None:
    """The open draft's id: from the URL, else from this browser session (Streamlit
    drops query parameters when the user switches pages; :func:`sync_url` puts it back)."""
    value = st.query_params.get("draft") or st.session_state.get("draft_id")
    return _valid_id(value) if value else None


def sync_url() -> None:
    """Keep the open draft and the interface language both in this session and in the
    URL, so that a reload of any page reopens the same draft in the same language."""
    did = draft_id()
    if did:
        st.session_state["draft_id"] = did
        if st.query_params.get("draft") != did:
            st.query_params["draft"] = did
    if st.query_params.get("lang") != lang():
        st.query_params["lang"] = lang()


def draft_dir(did: str | None = None) -> Path:
    did = did or draft_id()
    if not did:
        raise LookupError("no draft is open")
    if _valid_id(did) is None:
        raise LookupError(f"not a draft id: {did[:40]!r}")
    return drafts_root() / did


def new_draft_id() -> str:
    """A fresh folder name under :func:`drafts_root`: time first, so folders sort by age."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def open_draft(did: str) -> None:
    """Make ``did`` the open draft (in the URL, so a reload reopens it)."""
    st.session_state["draft_id"] = did
    st.query_params["draft"] = did
    bump()


def current_draft() -> Draft | None:
    """The open draft, read from disk; ``None`` when none is open or it can't be read
    (the reason is shown)."""
    did = draft_id()
    if did is None:
        return None
    path = draft_dir(did)
    if not (path / "draft.json").exists():
        return None
    try:
        return Draft.load(path)
    except CreatorError as e:
        st.error(t("draft_error", error=error_text(e)))
        return None


def require_draft() -> Draft | None:
    """The open draft, or a note pointing to the Start and Drafts pages."""
    draft = current_draft()
    if draft is None:
        st.info(t("need_draft"))
    return draft


def save(draft: Draft, did: str | None = None) -> Path:
    """Write the draft to its folder (atomically, through Draft.save)."""
    return draft.save(draft_dir(did))


def edit(change: Callable[[Draft], None]) -> None:
    """Apply ``change`` to the draft on disk and save it: every edit goes through here,
    so every edit is saved the moment it is made, read and written under the draft
    folder's lock (creator.drafts.edit_draft): an edit in another tab is never lost."""
    from creator.drafts import edit_draft

    if current_draft() is None:
        return
    try:
        edit_draft(draft_dir(), change)
    except CreatorError as e:
        st.error(error_text(e))


def committed_on(page: str) -> None:
    """Called by a text field's on_change: this run carries a commit of a field of ``page``."""
    st.session_state["_commit_page"] = page


def page_left(page: str) -> str | None:
    """The page to go back to when this run of ``page`` is only a late commit of one of
    its fields (:func:`committed_on`) after the user had already opened another page
    (Streamlit sends a field's commit on blur after the click on the sidebar link that
    took the focus, so that run reopens the page the user left); else None. Records
    the page shown."""
    commit = st.session_state.pop("_commit_page", None)
    before = st.session_state.get("_page")
    if commit == page and before is not None and before != page:
        return before
    st.session_state["_page"] = page
    return None


# Widgets are keyed by the draft and a revision number: when the SDK replaces a part
# (regenerate, choose an alternative, open another draft) the revision moves on and the
# widgets start again from the draft's new values instead of the old typed ones.
def rev() -> int:
    return st.session_state.get("_rev", 0)


def bump() -> None:
    st.session_state["_rev"] = rev() + 1


def key(name: str) -> str:
    """A widget key tied to the open draft and the current revision."""
    return f"{name}:{draft_id()}:{rev()}"


# -- long stages ---------------------------------------------------------------------

def run_with_progress(work: Callable[[Callable[[str, int, int], None], threading.Event], T],
                      *, label: str) -> T:
    """Run ``work(progress, cancel)`` in a worker thread and show its progress.

    The SDK reports progress from its own threads; Streamlit elements may only be
    updated from the script's thread, so the worker only records the latest
    ``(stage, done, total)`` and this thread draws it. If the script is stopped (the
    user navigates away, or the browser session ends: Streamlit then stops its script)
    ``cancel`` is set, and the SDK's stages that take it stop between items.
    """
    latest: dict[str, Any] = {"stage": "", "done": 0, "total": 0}

    def progress(stage: str, done: int, total: int) -> None:
        latest.update(stage=stage, done=done, total=total)

    cancel = threading.Event()
    bar = st.progress(0.0, text=label)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-stage")
    future = pool.submit(work, progress, cancel)
    try:
        while not future.done():
            future_wait(future, 0.15)
            bar.progress(*_progress_view(latest, label, time.monotonic() - started))
    except BaseException:
        # the script was stopped (rerun, page change): ask the SDK to stop, don't wait
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=False)
    bar.empty()
    return future.result()


def _progress_view(latest: dict, label: str, elapsed: float) -> tuple[float, str]:
    """(fraction, text) of the progress bar: "stage 3/10 · 12s", or "stage 40% · 12s"
    for a stage that reports fractions (total 1)."""
    done, total, stage = latest["done"] or 0, latest["total"] or 0, latest["stage"]
    frac = min(1.0, max(0.0, done / total)) if total else 0.0
    text = stage_label(stage) if stage else label
    if total and float(total) == 1.0:
        text += f" {frac:.0%}" if done else "…"  # a stage that reports only its end: no "0%" that never moves
    elif total:
        text += f" {done}/{total}"
    return frac, f"{text} · {elapsed:.0f}s"


def stage_label(stage: str) -> str:
    """The interface name of an SDK stage (its own name when strings.yaml lacks it)."""
    text = t("stage_" + stage)
    return stage if text == "stage_" + stage else text


def future_wait(future, seconds: float) -> None:
    try:
        future.result(timeout=seconds)
    except Exception:  # the error is re-raised by the caller's future.result()
        pass


def media_roots() -> list:
    """Folders besides the draft's own that its photos and clips may be read from: the
    editor's allowed local folders (``Settings.ui.local_roots``). Uploads live in the
    draft folder and are always allowed."""
    return list(settings().ui.local_roots or [])


def media_path(item) -> str | None:
    """The file of one of the open draft's items as the editor may read it (inside the
    draft folder or the allowed local folders, with the content it had at
    understanding); None when it is not (a crafted or moved draft)."""
    return media_file_or_why(item)[0]


def media_file_or_why(item) -> tuple[str | None, str | None]:
    """(:func:`media_path`, None), or (None, why the editor may not read it, in the
    interface language: outside the allowed folders, missing, changed since)."""
    from creator.drafts import media_file

    try:
        return str(media_file(item, draft_dir(), media_roots())), None
    except CreatorError as e:
        return None, error_text(e)


# -- Streamlit's own words ----------------------------------------------------------

_FRONTEND_SCRIPT = """<script>
(() => {
  // A text field commits its value when it loses the focus, and Streamlit sends that
  // commit after the click on a sidebar link that took the focus. When the server is
  // busy, both requests wait together and the later one, the commit on the page being
  // left, wins: the click is lost. The same befalls a button on the page (重新生成 right
  // after typing in the body lost the click, and at times the typing). So a click on a
  // page link or a button that follows a field's blur is held a moment, and played again
  // once the commit has gone out first.
  const doc = window.parent.document;
  if (doc.__creatorNav) { doc.removeEventListener("focusout", doc.__creatorNav.blur, true);
                          doc.removeEventListener("click", doc.__creatorNav.click, true); }
  let blurredAt = -1e9, replaying = null;
  const now = () => window.parent.performance.now();
  const blur = (ev) => {
    const t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) blurredAt = now();
  };
  const click = (ev) => {
    const link = ev.target && ev.target.closest
      && ev.target.closest("[data-testid=stSidebarNav] a, [data-testid=stMain] button");
    if (!link || link === replaying || now() - blurredAt > 600) return;
    ev.preventDefault(); ev.stopImmediatePropagation();
    blurredAt = -1e9;
    setTimeout(() => { replaying = link; try { link.click(); } finally { replaying = null; } }, 250);
  };
  doc.addEventListener("focusout", blur, true);
  doc.addEventListener("click", click, true);
  doc.__creatorNav = {blur, click};
})();
(() => {
  const words = %s;           // {texts: {en: zh}, label_starts: {en: zh}}, or null: leave as is
  const doc = window.parent.document;
  if (doc.__creatorWords) { doc.__creatorWords.disconnect(); doc.__creatorWords = null; }
  if (!words) return;
  const texts = words.texts || {}, starts = Object.entries(words.label_starts || {});
  const label = (el) => {
    const a = el.getAttribute("aria-label");
    if (!a) return;
    for (const [en, zh] of starts) {
      if (a.startsWith(en)) { el.setAttribute("aria-label", zh + a.slice(en.length)); return; }
    }
  };
  const text = (node) => {
    const v = node.nodeValue && node.nodeValue.trim();
    if (v && Object.prototype.hasOwnProperty.call(texts, v)) node.nodeValue = node.nodeValue.replace(v, texts[v]);
  };
  const walk = (root) => {
    if (root.nodeType === Node.TEXT_NODE) { text(root); return; }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    label(root);
    root.querySelectorAll("[aria-label]").forEach(label);
    const it = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = it.nextNode(); n; n = it.nextNode()) text(n);
  };
  const obs = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") label(r.target);
      else if (r.type === "characterData") text(r.target);
      else r.addedNodes.forEach(walk);
    }
  });
  obs.observe(doc.body, {subtree: true, childList: true, characterData: true,
                         attributes: true, attributeFilter: ["aria-label"]});
  doc.__creatorWords = obs;
  walk(doc.body);
})();
</script>"""


def translate_frontend() -> None:
    """Streamlit's frontend writes some words in English that no Python API sets: the
    "Remove 湖" accessibility labels of multiselect chips and uploaded files, the
    uploader's "Drag and drop files here". In the zh interface a small script (a
    zero-height component, which Streamlit serves from the same origin) rewrites them in
    the page as they appear, from prompts/ui/strings.yaml ``frontend``; in the English
    interface the same script stops any earlier rewriting. In both it holds a click on a
    sidebar page that comes right after a text field lost the focus for a quarter of a
    second, so the field's commit reaches the server first (else, on a busy server, the
    commit of the page being left wins and the click is lost)."""
    import json

    import streamlit.components.v1 as components

    words = (load_prompt("ui/strings.yaml").get("frontend") or {}).get(lang())
    with st.sidebar:  # out of the page's own layout
        components.html(_FRONTEND_SCRIPT % json.dumps(words, ensure_ascii=False), height=0)


# -- uploads -------------------------------------------------------------------------

def file_uploader(label: str, *, key: str, types: list[str], accept_multiple_files=False,
                  max_mb: float | None = None):
    """``st.file_uploader`` with the per-file limit this editor enforces
    (``max_upload_size``: Streamlit refuses a bigger file and its own line states this
    limit) and, in the zh interface, the dropzone in Chinese.

    Streamlit has no locale option and no parameter for the dropzone's own words (its
    "Upload" button and the "200MB per file • JPG…" line); a style for this one uploader
    (its ``st-key-<key>`` class) shows ours in their place (CSS ``content``). The file
    input and the label are untouched; what a screen reader reads of the dropzone is its
    label, given here in the interface language. The "Drag and drop files here" shown only
    while a file is dragged over and the "Remove <name>" labels of the uploaded files
    are not reachable by a style: :func:`translate_frontend` rewrites those."""
    import math

    mb = max(1, math.ceil(max_mb)) if max_mb else None
    if lang() == "zh":
        folder = accept_multiple_files == "directory"
        kinds = list(dict.fromkeys(x.upper().replace("JPEG", "JPG").replace("TIFF", "TIF") for x in types))
        st.html(_uploader_css(key, button=t("upload_button_folder" if folder else "upload_button"),
                              limit=t("upload_limit", mb=mb, types="、".join(kinds)) if mb else "、".join(kinds)))
    return st.file_uploader(label, type=types, accept_multiple_files=accept_multiple_files, key=key,
                            max_upload_size=mb)


def _uploader_css(key: str, *, button: str, limit: str) -> str:
    import re

    def css(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    scope = ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip()) + " [data-testid=stFileUploaderDropzone]"
    return (
        "<style>"
        f"{scope} button [data-testid=stMarkdownContainer] p{{font-size:0}}"
        f"{scope} button [data-testid=stMarkdownContainer] p::after{{content:{css(button)};font-size:0.875rem}}"
        f"{scope} [data-testid=stFileUploaderDropzoneInstructions] span{{font-size:0}}"
        f"{scope} [data-testid=stFileUploaderDropzoneInstructions] span::after{{content:{css(limit)};font-size:0.875rem}}"
        "</style>"
    )


# -- pictures ------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=512)
def thumbnail(path: str, kind: str | None = None, size: int = 320) -> bytes | None:
    """A small JPEG of a photo (orientation applied) or of a clip's middle frame;
    ``None`` when it can't be decoded."""
    import io

    try:
        from creator import media

        if kind == "clip":
            frames = media.read_frames(path, [0.5], max_side=size)
            image = frames[0]
        else:
            image = media.open_photo(path, max_side=size)
    except Exception:  # a thumbnail is never worth an error page
        return None
    if not hasattr(image, "save"):  # an array
        from PIL import Image

        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=80)
    return buf.getvalue()
