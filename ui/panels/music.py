"""Music: the top matches with players and reasons, the library on a mood map with the
note's point, choose or upload a track, adjust the excerpt."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from creator.errors import CreatorError
from creator.resources import load_prompt
from creator.types import Draft, TrackMatch
from ui import session
from ui.session import t

__all__ = ["render", "mood_map_spec", "mood_label", "library_indexed", "indexing_notice"]

AUDIO_TYPES = ["mp3", "wav", "ogg", "opus", "m4a", "aac", "flac"]
# a five-pointed star as a Vega-Lite point shape (SVG path in a -1..1 box)
_STAR = ("M0,-1L0.24,-0.33L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.4L-0.59,0.81L-0.38,0.12"
         "L-0.95,-0.31L-0.24,-0.33Z")


#: One colour per mood, in the order of prompts/music/moods.yaml (Tableau 10): a mood
#: keeps its colour whatever the interface language and whichever moods are present.
MOOD_COLOURS = ("#4e79a7", "#e15759", "#f28e2b", "#b07aa1", "#59a14f", "#76b7b2", "#edc948",
                "#ff9da7", "#9c755f", "#bab0ac")


def _mood_colours(points: list[dict]) -> dict:
    """The colour scale of the mood map: each mood id → its fixed colour (never the
    localised label: the colours are the same in every language)."""
    order = list(load_prompt("music/moods.yaml").get("moods", {}))
    present = {str(p.get("mood")) for p in points}
    ids = order + sorted(present - set(order))
    shown = [m for m in ids if m in present]
    return {"domain": shown, "range": [MOOD_COLOURS[ids.index(m) % len(MOOD_COLOURS)] for m in shown]}


def mood_map_spec(points: list[dict], query: tuple[float, float], *, chosen: str | None,
                  labels: dict[str, str]) -> dict:
    """A Vega-Lite spec: the library's tracks by valence/energy, coloured by mood, the
    chosen one ringed, and the note's own point as a star."""
    import json

    rows = [dict(p, chosen=p.get("track_id") == chosen, mood_id=str(p.get("mood")),
                 mood=labels.get("mood:" + str(p.get("mood")), p.get("mood"))) for p in points]
    names = {r["mood_id"]: str(r["mood"]) for r in rows}  # the legend says each id in the interface language
    axis = {"scale": {"domain": [0, 1]}}
    return {
        "height": 360,
        "layer": [
            {
                "data": {"values": rows},
                "mark": {"type": "circle", "size": 90, "opacity": 0.75},
                "encoding": {
                    "x": {"field": "valence", "type": "quantitative", "title": labels["valence"], **axis},
                    "y": {"field": "energy", "type": "quantitative", "title": labels["energy"], **axis},
                    "color": {"field": "mood_id", "type": "nominal", "title": labels["mood"],
                              "scale": _mood_colours(points),
                              "legend": {"labelExpr": f"({json.dumps(names, ensure_ascii=False)})[datum.label]"
                                                      " || datum.label"}},
                    "stroke": {"condition": {"test": "datum.chosen", "value": "black"}, "value": None},
                    "strokeWidth": {"value": 2},
                    "tooltip": [{"field": "title"}, {"field": "mood"},
                                {"field": "valence", "format": ".2f"}, {"field": "energy", "format": ".2f"}],
                },
            },
            {
                "data": {"values": [{"valence": query[0], "energy": query[1], "label": labels["this_note"]}]},
                "mark": {"type": "point", "shape": _STAR, "size": 500, "filled": True, "color": "#e4572e"},
                "encoding": {"x": {"field": "valence", "type": "quantitative"},
                             "y": {"field": "energy", "type": "quantitative"},
                             "tooltip": [{"field": "label"}]},
            },
            {
                "data": {"values": [{"valence": query[0], "energy": query[1], "label": labels["this_note"]}]},
                "mark": {"type": "text", "dy": -16, "fontWeight": "bold", "color": "#e4572e"},
                "encoding": {"x": {"field": "valence", "type": "quantitative"},
                             "y": {"field": "energy", "type": "quantitative"},
                             "text": {"field": "label"}},
            },
        ],
    }


def mood_label(mood: str | None, lang: str) -> str:
    """A mood's name in ``lang`` (prompts/music/moods.yaml); the id when it has none."""
    if not mood:
        return ""
    entry = load_prompt("music/moods.yaml").get("moods", {}).get(mood) or {}
    return entry.get(lang) or mood


@st.cache_data(show_spinner=False)
def _music_map() -> list[dict]:
    return session.assistant().music_map()


# -- edits ----------------------------------------------------------------------------

def library_indexed() -> bool:
    """Whether the configured music library already has its index (the first soundtrack
    call on a new machine analyses every track: tens of seconds for the demo library)."""
    from creator.music.library import default_index_dir, default_library_dir, load_index

    try:
        s = session.settings()
        return load_index(s.music.library or default_library_dir(), default_index_dir(s)) is not None
    except (CreatorError, OSError):
        return True  # nothing to say about a library that cannot be looked at


def indexing_notice() -> None:
    """Say on screen that the music library is being indexed, when it will be."""
    if not library_indexed():
        st.info(t("music_indexing"))


def reasons(draft: Draft) -> dict[str, str]:
    """Each listed track's reason in the interface language, by track id: a stored
    reason in another language (a zh draft in the English interface) is asked of the SDK
    again in this one (Assistant.soundtrack with ``language``, the same tracks pinned).
    Tracks not in the library (the user's own) keep theirs."""
    from creator.text import guess_language

    lang = session.lang()
    stored = {m.track_id: m.reason for m in draft.tracks}
    if all(guess_language(r) in (lang, None) for r in stored.values()):
        return stored
    return {**stored, **_reasons(draft.context.model_dump_json(), tuple(stored), lang)}


@st.cache_data(show_spinner=False, max_entries=64)
def _reasons(context_json: str, track_ids: tuple[str, ...], lang: str) -> dict[str, str]:
    from creator.types import NoteContext

    try:
        matches = session.assistant().soundtrack(NoteContext.model_validate_json(context_json), language=lang,
                                                 pin=track_ids, top=len(track_ids))
    except CreatorError:
        return {}
    return {m.track_id: m.reason for m in matches if m.track_id in track_ids}


def _choose(track_id: str) -> None:
    def change(draft: Draft) -> None:
        draft.track = next(m for m in draft.tracks if m.track_id == track_id)
        draft.track_picked = True

    session.edit(change)
    session.bump()


def _match(draft: Draft, query: str) -> list[TrackMatch]:
    tracks = session.assistant().soundtrack(draft.context, query=query or None, language=session.lang(),
                                            top=session.settings().music.top)
    # the user's choice (maybe their own track) stays chosen and listed; the automatic one
    # gives way to the new best (after a tag edit or a query, the old pick ranked first)
    if draft.track_picked and draft.track is not None:
        if draft.track.track_id not in {m.track_id for m in tracks}:
            tracks = [draft.track, *tracks]
    else:
        draft.track, draft.track_picked = (tracks[0] if tracks else None), False
    draft.tracks = tracks
    session.save(draft)
    session.bump()
    return tracks


def _set_excerpt(widget_key: str) -> None:
    start, end = st.session_state[widget_key]

    def change(draft: Draft) -> None:
        if draft.track is None:
            return
        # the SDK snaps the excerpt to beats and re-reads the beats inside it
        draft.track = session.assistant().excerpt(draft.track, start=start, end=end,
                                                  draft_dir=session.draft_dir())

    session.edit(change)
    session.bump()  # the slider starts again from the saved, beat-snapped excerpt


# -- page -----------------------------------------------------------------------------

def _track_row(draft: Draft, m: TrackMatch, rank: int, reason: str) -> None:
    chosen = draft.track is not None and draft.track.track_id == m.track_id
    with st.container(border=True):
        c1, c2 = st.columns([3, 1])
        who = f" — {m.artist}" if m.artist else ""
        c1.markdown(f"**{rank}. {m.title}**{who}" + (f"  ✅ {t('chosen')}" if chosen else ""))
        facts = [f"{t('score')} {m.score:.2f}"]
        if m.tempo:
            facts.append(f"{t('tempo')} {m.tempo:.0f} BPM")
        if m.moods:
            top = sorted(m.moods.items(), key=lambda kv: -kv[1])[:2]
            facts.append(" / ".join(mood_label(k, session.lang()) for k, _ in top))
        c1.caption(" · ".join(facts))
        if reason:
            c1.write(reason)
        c2.button(t("choose"), key=session.key(f"choose-{m.track_id}"), disabled=chosen,
                  on_click=_choose, args=(m.track_id,), width="stretch")
        ex = m.excerpt
        audio = _audio(m)
        if audio is not None:
            st.audio(audio[0], format=audio[1], start_time=ex.start if ex else 0, end_time=ex.end if ex else None)


def _audio(m: TrackMatch) -> tuple[bytes, str] | None:
    """The bytes of a track found by its id in the music library or inside the draft
    folder (creator.drafts.track_file), never ``m.path`` at face value: a path handed to
    st.audio would be served whatever it names. (bytes, mime type); None when it can't be found."""
    import mimetypes

    try:
        path = session.assistant().track_file(m, session.draft_dir())
        return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "audio/wav"
    except (CreatorError, OSError):
        return None


def _excerpt(draft: Draft) -> None:
    track = draft.track
    if track is None or track.excerpt is None:
        return
    duration = next((p.get("duration") for p in _music_map() if p.get("track_id") == track.track_id), None)
    duration = float(duration or track.excerpt.end)
    widget = session.key("excerpt")
    top = round(duration, 1)
    # a 0.1 s grid, shown as such: the saved (beat-snapped) values sit on it as they are,
    # inside the track (a hand-edited excerpt past its end is shown up to the end)
    start, end = (min(round(x, 1), top) for x in (track.excerpt.start, track.excerpt.end))
    st.slider(t("excerpt"), min_value=0.0, max_value=top,
              value=(start, end), step=0.1, format="%.1f s",
              key=widget, on_change=_set_excerpt, args=(widget,))


def _use_own_track(draft: Draft, path: Path) -> None:
    """Analyse the user's own track (the SDK reads it as a one-track library) and put it
    first, chosen."""
    a = session.assistant()
    own = a.soundtrack(draft.context, library=path.parent, pin=(str(path),), top=1, language=session.lang())
    if not own:
        raise CreatorError(f"{path.name}: no usable audio found", code="no_usable_audio", name=path.name)
    draft.tracks = [own[0], *[m for m in draft.tracks if m.track_id != own[0].track_id]]
    draft.track, draft.track_picked = own[0], True
    session.save(draft)
    session.bump()


def _upload(draft: Draft) -> None:
    upload = session.file_uploader(t("upload_track"), types=AUDIO_TYPES, key=session.key("track_upload"),
                                   max_mb=session.settings().ui.upload_max_mb)
    if upload is None or not st.button(t("use_upload"), key=session.key("use_upload")):
        return
    # each upload in its own folder: the SDK indexes that folder as a library of one
    target = session.draft_dir() / "music" / session.new_draft_id() / Path(upload.name).name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(upload.getbuffer())
    try:
        with st.spinner(t("stage_soundtrack")):
            _use_own_track(draft, target)
    except CreatorError as e:
        st.error(session.error_text(e))
        return
    st.rerun()


def render() -> None:
    st.header(t("page_music"))
    draft = session.require_draft()
    if draft is None:
        return
    st.caption(t("music_intro"))
    indexing_notice()
    left, right = st.columns([3, 2])
    with left:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        # the query stays in its field after a match (the match renews the widgets' keys)
        query = c1.text_input(t("music_query"), key=session.key("music_query"),
                              value=st.session_state.get(f"music_query:{session.draft_id()}", ""))
        if c2.button(t("find_music"), key=session.key("rematch"), width="stretch"):
            st.session_state[f"music_query:{session.draft_id()}"] = query
            try:
                with st.spinner(t("stage_soundtrack")):
                    _match(draft, query)
            except CreatorError as e:
                st.error(session.error_text(e))
            else:
                st.rerun()
        if not draft.tracks:
            st.info(t("no_tracks"))
        said = reasons(draft) if draft.tracks else {}
        for rank, m in enumerate(draft.tracks, 1):
            _track_row(draft, m, rank, said.get(m.track_id, m.reason))
    with right:
        st.subheader(t("mood_map"))
        st.caption(t("mood_map_help"))
        try:
            points = _music_map()
        except CreatorError as e:
            st.error(session.error_text(e))
            points = []
        labels = {k: t(k) for k in ("valence", "energy", "mood", "this_note")}
        labels.update({f"mood:{p.get('mood')}": mood_label(p.get("mood"), session.lang()) for p in points})
        st.vega_lite_chart(
            mood_map_spec(points, (draft.context.valence, draft.context.energy),
                          chosen=draft.track.track_id if draft.track else None, labels=labels),
            width="stretch")
        _excerpt(draft)
        _upload(draft)
