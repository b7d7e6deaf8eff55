"""Fixtures of the editor tests: a drafts folder and a draft saved in it.

The draft is built from real small photos (tests.factories) with a hand-built
NoteContext, so that a panel test does not spend its time in the tagger; the tests that
need the SDK's stages call the real Assistant.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st

from creator.media import content_id
from creator.types import Caption, Draft, MediaItem, MediaKind, Moment, NoteContext, Place, Quality
from creator.vocabulary import vocabulary
from tests.factories import make_click_track, make_photo, make_tone

DRAFT_ID = "20251003-090000-test"


def panel_script(name: str) -> str:
    """An app whose default page is one panel, for AppTest (the caption page is there
    too, for the panels that switch to it)."""
    other = "" if name == "caption" else \
        ', st.Page(caption.render, url_path="caption")'
    return (
        "import streamlit as st\n"
        f"from ui.panels import caption, {name}\n"
        f'st.navigation([st.Page({name}.render, url_path="{name}", default=True){other}]).run()\n'
    )



PANEL_TIMEOUT = 120


def panel(name: str, lang: str = "zh"):
    """One editor page run by AppTest on the saved draft (``saved_draft``), in ``lang``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(panel_script(name), default_timeout=PANEL_TIMEOUT)
    at.query_params["draft"] = DRAFT_ID
    at.query_params["lang"] = lang
    return at.run()


def no_exceptions(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def make_context(folder: Path, n: int = 3) -> NoteContext:
    """A NoteContext over ``n`` real photos (Chinese file names) in Hangzhou."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    tag_sets = [("lake", "autumn"), ("temple", "architecture"), ("tea", "food")]
    # the place is on the items too: moments, places and top tags are derived from them
    place = Place(name_zh="杭州", name_en="Hangzhou", city_zh="杭州", city_en="Hangzhou", country_zh="中国",
                  country_en="China", country_code="CN")
    items = []
    for k in range(n):
        path = make_photo(folder / f"西湖_{k}.jpg", size=(240, 180), taken_at=datetime(2025, 10, 3, 9 + k))
        tags = [vocab.tag(tid, 0.9 - 0.1 * j, "imagenet") for j, tid in enumerate(tag_sets[k % 3]) if tid in vocab]
        items.append(MediaItem(path=str(path), id=content_id(path), kind=MediaKind.photo, width=240, height=180,
                               taken_at=datetime(2025, 10, 3, 9 + k), tags=tags, place=place,
                               quality=Quality(sharpness=0.8, exposure=0.9, colourfulness=0.5, score=0.8 - 0.1 * k)))
    return NoteContext(items=items, places=[place], days=1, season="autumn", valence=0.7, energy=0.3,
                       moments=[Moment(index=0, day=1, place=place, item_ids=[i.id for i in items])],
                       top_tags=[t for i in items for t in i.tags][:5])


@pytest.fixture(scope="session")
def music_library(tmp_path_factory) -> Path:
    """A small music library (three 20 s tracks): indexing the 28 demo tracks takes
    minutes on two cores, three take seconds, through the same code."""
    lib = tmp_path_factory.mktemp("音乐库")
    make_click_track(lib / "slow clicks.wav", bpm=80, duration=20)
    make_click_track(lib / "fast clicks.wav", bpm=132, duration=20)
    make_tone(lib / "warm chord.wav", freqs=(261.6, 329.6, 392.0), duration=20)
    return lib


@pytest.fixture(scope="module", autouse=True)
def ui_environment(tmp_path_factory, music_library):
    """Settings for every editor test (and the server the browser test starts): a
    private cache and the small library. The Assistant is cached per process
    (st.cache_resource), so the caches are cleared around each module; module scope
    keeps these settings from leaking into tests outside tests/ui."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREATOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("CREATOR_MUSIC__LIBRARY", str(music_library))
        mp.setenv("HF_HUB_OFFLINE", "1")
        # a small, short video keeps the video tests quick
        for k, v in dict(WIDTH="270", HEIGHT="480", FPS="12", MIN_LENGTH="6", PHOTO_SECONDS="1.0").items():
            mp.setenv(f"CREATOR_VIDEO__{k}", v)
        st.cache_resource.clear()
        st.cache_data.clear()
        yield
        st.cache_resource.clear()
        st.cache_data.clear()


@pytest.fixture
def drafts_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "草稿"
    monkeypatch.setenv("CREATOR_DRAFTS_DIR", str(root))
    return root


@pytest.fixture
def saved_draft(drafts_root, tmp_path) -> tuple[str, Path]:
    """(id, folder) of a draft with three photos and a caption, saved under drafts_root."""
    # the photos are uploads, kept in the draft's media folder (the editor reads media
    # only from there and from its allowed local folders)
    ctx = make_context(drafts_root / DRAFT_ID / "media")
    caption = Caption(title="杭州｜秋天的西湖慢慢走", body="第一天：西湖边散步。", hashtags=["杭州", "西湖"],
                      language="zh", style="guide")
    alt = Caption(title="西湖一日", body="湖边喝茶。", hashtags=["杭州旅行"], language="zh", style="mood")
    draft = Draft(context=ctx, order=[i.id for i in ctx.items], caption=caption, alternatives=[alt])
    folder = drafts_root / DRAFT_ID
    draft.save(folder)
    return DRAFT_ID, folder
