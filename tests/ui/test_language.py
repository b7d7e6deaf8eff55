"""The editor speaks one language at a time (issue 14 item 9) and only through the SDK
(issue 18 item 6): SDK errors in the interface language, by their code; music reasons in
the interface language whatever the draft's; the Export page's preview; ui/ imports no
stage internals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from creator.errors import MediaError
from creator.text import guess_language
from creator.types import Draft, NoteContext
from tests.ui.conftest import no_exceptions, panel
from tests.ui.test_app import APP, _local

TIMEOUT = 120
UI = Path(__file__).resolve().parents[2] / "ui"


# -- errors ------------------------------------------------------------------------------

def _unusable(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    bad = [folder / "坏照片.jpg", folder / "空的.png"]
    bad[0].write_bytes(b"not a photo at all" * 20)
    bad[1].write_bytes(b"")
    return bad


def test_the_sdk_says_what_its_common_errors_are_by_a_code(tmp_path):
    from creator.assistant import Assistant

    _unusable(tmp_path / "照片")
    with pytest.raises(MediaError) as e:
        Assistant().create([tmp_path / "照片"])
    assert e.value.code == "no_usable_media"
    assert sorted(e.value.details["files"]) == ["坏照片.jpg", "空的.png"]
    with pytest.raises(MediaError) as e:  # nothing usable: exit 1 as for make (README), not a usage error
        Assistant().video(Draft(context=NoteContext(items=[])), out=tmp_path / "a.mp4")
    assert e.value.code == "no_media_for_video"


@pytest.mark.parametrize("lang, said, not_said", [
    ("zh", "这些文件里没有能用来做笔记的照片或视频：坏照片.jpg、空的.png", "nothing usable"),
    ("en", "None of these files can be used for a note: 坏照片.jpg, 空的.png", "没有"),
])
def test_an_sdk_error_on_the_start_page_is_said_in_the_interface_language(drafts_root, tmp_path, monkeypatch,
                                                                          lang, said, not_said):
    _local(monkeypatch, tmp_path)
    _unusable(tmp_path / "照片")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    at.text_input[0].set_value(str(tmp_path / "照片"))
    at.button[0].click().run()
    no_exceptions(at)
    errors = [e.value for e in at.error]
    assert errors and said in errors[0], errors
    assert not_said not in errors[0] and str(tmp_path) not in errors[0]  # no server folders either


def test_errors_without_a_code_are_said_by_their_kind(saved_draft):
    script = (
        "import streamlit as st\n"
        "from creator.errors import DraftError, MediaError\n"
        "from ui import session\n"
        "st.error(session.error_text(MediaError('/srv/photos/湖.jpg: unsupported format')))\n"
        "st.error(session.error_text(DraftError('busy', code='draft_busy')))\n"
        "st.error(session.error_text(MediaError('x', code='no_such_code_in_strings')))\n"
    )
    for lang, kind, busy in (("zh", "文件读不了：湖.jpg", "另一个进程正在写这份草稿"),
                             ("en", "A file can't be read: 湖.jpg", "Another process is writing this draft")):
        at = AppTest.from_string(script, default_timeout=TIMEOUT)
        at.query_params["lang"] = lang
        at.run()
        no_exceptions(at)
        said = [e.value for e in at.error]
        assert said[0].startswith(kind) and "/srv/" not in said[0]
        assert said[1].startswith(busy)
        assert said[2].endswith(": x") or said[2].endswith("：x")  # an unknown code: by its kind


# -- music reasons -----------------------------------------------------------------------

def test_music_reasons_follow_the_interface_language_not_the_drafts(saved_draft):
    from creator.assistant import Assistant

    _, folder = saved_draft
    draft = Draft.load(folder)  # a zh draft, its reasons in Chinese
    draft.tracks = Assistant().soundtrack(draft, language="zh")
    draft.track = draft.tracks[0]
    draft.save(folder)
    assert all(guess_language(m.reason) == "zh" for m in draft.tracks)
    at = panel("music", lang="en")
    no_exceptions(at)
    shown = [md.value for md in at.markdown if "BPM" in md.value or "track" in md.value.lower()]
    reasons = [md.value for md in at.markdown if guess_language(md.value) == "en" and len(md.value) > 30]
    assert len(reasons) >= len(draft.tracks), shown
    assert not any(m.reason in md.value for m in draft.tracks for md in at.markdown)  # no Chinese reason left
    assert Draft.load(folder).tracks == draft.tracks  # shown in English, the draft's own words kept
    at = panel("music", lang="zh")
    no_exceptions(at)
    assert all(any(m.reason in md.value for md in at.markdown) for m in draft.tracks)


# -- the Export page shows what is posted --------------------------------------------------

def test_export_page_previews_the_pictures_and_the_video(saved_draft):
    import imageio_ffmpeg
    import subprocess

    from creator.assistant import Assistant
    from creator.types import VideoResult

    _, folder = saved_draft
    draft = Draft.load(folder)
    a = Assistant()
    draft.covers = a.cover(draft, n=1, out_dir=folder / "assets")
    draft.cover = draft.covers[0]
    draft.carousel = a.carousel(draft)
    video = folder / "note.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=90x160:rate=10", "-t", "1", "-pix_fmt", "yuv420p", "-y", str(video)], check=True)
    draft.video = VideoResult(path=str(video), duration=1.0, width=90, height=160, fps=10)
    draft.save(folder)
    at = panel("export")
    no_exceptions(at)
    assert any(s.value == "发布预览" for s in at.subheader)
    phone = [h for h in at.get("html") if "tn-phone" in h.proto.body]
    assert len(phone) == 1
    assert phone[0].proto.body.count("data:image/jpeg;base64,") >= 1 + 1 + len(draft.carousel)  # feed card + pages
    assert len(at.get("video")) == 1
    assert str(folder) not in phone[0].proto.body  # pictures as bytes, never a path


# -- through the SDK only --------------------------------------------------------------------

def test_the_editor_imports_no_stage_internals():
    """ui/ imports the SDK (creator) and itself, never pipelines.*: what it needs of a
    stage is an Assistant method."""
    found = []
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(UI)}: {n}" for n in names if n.split(".")[0] == "pipelines"]
    assert not found
