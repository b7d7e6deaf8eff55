"""The editor's video page marks an outdated video and re-renders it with one click
(AppTest over a draft saved on disk, the real renderer, small and short)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from creator.types import Draft
from pipelines.video.pipeline import video_outdated
from tests.ui.conftest import (  # noqa: F401  (fixtures)
    DRAFT_ID, drafts_root, music_library, panel_script, saved_draft, ui_environment)


def video_page() -> AppTest:
    at = AppTest.from_string(panel_script("video"), default_timeout=60)
    at.query_params["draft"] = DRAFT_ID
    at.query_params["lang"] = "zh"
    return at.run()


def outdated_notes(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "过期" in w.value]


def test_the_video_page_marks_an_outdated_video_and_rerenders_it(saved_draft):
    _, folder = saved_draft
    at = video_page()
    at.button[0].click().run(timeout=240)
    assert not at.exception
    made = Draft.load(folder).video
    assert made is not None and made.made_from
    at = video_page()
    assert outdated_notes(at) == [] and at.button[0].label == "重新生成视频"
    # the creator edits the title elsewhere (the caption page): the video is now outdated
    draft = Draft.load(folder)
    draft.caption = draft.caption.model_copy(update={"title": "西湖一日"})
    draft.save(folder)
    at = video_page()
    assert outdated_notes(at) == ["视频已过期：之后改了标题。"]
    assert at.button[0].label == "视频已过期 — 重新生成"
    at.button[0].click().run(timeout=240)  # one click
    assert not at.exception and outdated_notes(at) == []  # the note goes with the re-render
    again = Draft.load(folder)
    assert again.video.made_from != made.made_from and not video_outdated(again)
    assert outdated_notes(video_page()) == []
