"""Crafted drafts (issue 11 item 1): a draft.json whose cover, video or tracks point at
/etc/passwd or at ../../ outside the draft folder, and ``?draft=..``. Through the SDK
(export_zip), the CLI (`creator video`) and the editor's pages (AppTest): nothing outside
the draft folder is read, zipped or handed to Streamlit's media server, and the user is
told why, in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from creator import Assistant
from creator.errors import DraftError
from creator.media import content_id
from creator.types import Caption, Cover, Draft, MediaItem, MediaKind, NoteContext, TrackMatch, VideoResult
from tests.factories import ffmpeg, make_photo
from tests.ui.conftest import drafts_root, music_library, panel_script, ui_environment  # noqa: F401  (fixtures)

DRAFT_ID = "20251003-090000-crafted"
PASSWD = Path("/etc/passwd")
ROOT = Path(__file__).resolve().parents[2]


def _save(folder: Path, photos: Path) -> Draft:
    """A legitimate draft with a real photo, a cover, a video file and a track, all inside
    ``folder``."""
    photo = make_photo(photos / "西湖.jpg", "china", size=(320, 240))
    item = MediaItem(path=str(photo), id=content_id(photo), kind=MediaKind.photo, width=320, height=240)
    (folder / "assets").mkdir(parents=True)
    make_photo(folder / "cover.png", "chelsea", size=(90, 120))
    make_photo(folder / "assets" / "cover-01-minimal.png", "chelsea", size=(90, 120))
    (folder / "note.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    cover = Cover(path=str(folder / "cover.png"), title="西湖", style="minimal", source=item.id)
    track = TrackMatch(track_id="nope", title="歌", path=str(folder / "music" / "歌.wav"), score=1.0)
    draft = Draft(context=NoteContext(items=[item]), order=[item.id],
                  caption=Caption(title="杭州｜西湖一日", body="湖边走走。"),
                  covers=[cover.model_copy(update={"path": str(folder / "assets" / "cover-01-minimal.png")})],
                  cover=cover, tracks=[track], track=track,
                  video=VideoResult(path=str(folder / "note.mp4"), duration=6, width=270, height=480, fps=12))
    draft.save(folder)
    return draft


def _craft(folder: Path, **changes) -> None:
    """Edit draft.json as an attacker would: ``changes`` maps a dotted field to a value."""
    path = folder / "draft.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file two levels above the draft folder, which ``../../秘密.txt`` reaches."""
    p = tmp_path / "秘密.txt"
    p.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    return p


@pytest.fixture
def folder(drafts_root, tmp_path) -> Path:
    f = drafts_root / DRAFT_ID
    _save(f, tmp_path / "照片")
    return f


# -- SDK ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("cover.path", "/etc/passwd"), ("cover.path", "../../秘密.txt"),
    ("video.path", "/etc/passwd"), ("video.path", "../../秘密.txt"),
])
def test_export_zip_refuses_own_files_outside_the_draft_folder(folder, secret, field, value):
    _craft(folder, **{field: value})
    with pytest.raises(DraftError, match=f"{field}: points outside the draft folder"):
        Assistant.export_zip(folder)
    assert not (folder / "note.zip").exists()


def test_export_zip_never_ships_a_crafted_track_and_names_a_missing_file(folder, secret):
    _craft(folder, **{"track.path": "/etc/passwd", "tracks.0.path": "../../秘密.txt"})
    zipped = Assistant.export_zip(folder)
    with zipfile.ZipFile(zipped) as z:
        names = set(z.namelist())
        blob = b"".join(z.read(n) for n in names)
    assert names == {"draft.json", "caption.md", "cover.png", "note.mp4"}
    assert PASSWD.read_bytes()[:200] not in blob and b"TOP-SECRET-CONTENT" not in blob
    shared = json.loads(zipfile.ZipFile(zipped).read("draft.json"))
    assert shared["track"]["path"] == "passwd" and shared["tracks"][0]["path"] == "秘密.txt"
    # a file the draft names but that is gone is reported, not silently left out
    (folder / "note.mp4").unlink()
    with pytest.raises(DraftError, match=r"missing: video.path \(note.mp4\)"):
        Assistant.export_zip(folder, folder / "again.zip")
    assert not (folder / "again.zip").exists()


def test_moving_the_excerpt_in_a_server_context_never_reads_a_crafted_track(folder):
    from creator.types import Excerpt

    crafted = TrackMatch(track_id="nope", title="x", path=str(PASSWD), score=1.0, excerpt=Excerpt(start=0, end=5))
    with pytest.raises(DraftError, match="not in the music library nor in the draft folder"):
        Assistant().excerpt(crafted, start=1.0, draft_dir=folder)


# -- CLI -----------------------------------------------------------------------------------

def _creator(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "creator.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_creator_video_refuses_a_crafted_cover_and_newer_or_damaged_drafts(folder, secret, tmp_path):
    _craft(folder, **{"cover.path": "../../秘密.txt"})
    r = _creator("video", str(folder), "-o", str(tmp_path / "出.mp4"), cwd=tmp_path)
    assert r.returncode != 0 and "cover.path: points outside the draft folder" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "出.mp4").exists()

    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    data["schema_version"] = 99
    (folder / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    r = _creator("video", str(folder), cwd=tmp_path)
    assert r.returncode != 0 and "newer version" in r.stderr and "Traceback" not in r.stderr

    data["schema_version"] = 1
    data["context"]["items"][0]["kind"] = "hologram"
    (folder / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    r = _creator("video", str(folder), cwd=tmp_path)
    assert r.returncode != 0 and "damaged: context.items.0.kind" in r.stderr
    assert "validation error" not in r.stderr and "Traceback" not in r.stderr
    assert not (folder / "note.mp4").exists() or (folder / "note.mp4").stat().st_size < 100


def test_creator_post_and_video_never_read_a_photo_or_a_song_the_draft_was_not_made_from(folder, tmp_path):
    """A crafted draft that names a private photo and a private song elsewhere on this
    computer (under made-up ids: whoever writes it can't know their content hashes):
    `creator post` and `creator video` leave both out, say why in one line each, and
    nothing of them reaches post/ or the video; the draft's real photo still makes the
    note."""
    from tests.factories import make_song

    private = make_photo(tmp_path / "私人" / "身份证.png", "astronaut", size=(320, 240))
    song = make_song(tmp_path / "私人" / "录音.wav", bpm=90, duration=8.0)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    real = data["context"]["items"][0]
    data["context"]["items"].append(dict(real, path=str(private), id="0123456789abcdef"))
    data["order"].append("0123456789abcdef")
    for t in (data["track"], data["tracks"][0]):
        t.update(path=str(song), track_id="fedcba9876543210", excerpt={"start": 0.0, "end": 6.0})
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    r = _creator("post", str(folder), cwd=tmp_path)
    assert "Traceback" not in r.stderr
    assert "the file is not the track the draft chose" in r.stderr, r.stderr
    assert not (folder / "post" / "music.m4a").exists()
    # the song refused fails the post like a missing one; without a track the photo is posted
    del data["track"]
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = _creator("post", str(folder), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    said = [line for line in r.stderr.splitlines() if "身份证.png" in line]
    assert len(said) == 1 and "no longer the one the draft was made from" in said[0], r.stderr
    # the cover only: the real photo is the cover's own (not shown twice), the private one refused
    assert sorted(p.name for p in (folder / "post").glob("*.jpg")) == ["01.jpg"]

    data["track"] = data["tracks"][0]
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "出" / "视频.mp4"
    r = _creator("video", str(folder), "-o", str(out), "--size", "270x480", "--length", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "身份证.png" in r.stderr and "the video has no music" in r.stderr
    probe = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    assert "Video: h264" in probe
    pcm = subprocess.run([ffmpeg(), "-v", "error", "-i", str(out), "-f", "s16le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    assert not pcm or max(abs(v) for v in memoryview(pcm).cast("h")) < 50  # silence: not the song


# -- the editor ---------------------------------------------------------------------------

def _page(name: str, draft_id: str = DRAFT_ID) -> AppTest:
    at = AppTest.from_string(panel_script(name), default_timeout=90)
    at.query_params["draft"] = draft_id
    at.query_params["lang"] = "en"
    return at.run()


def _shown(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


def test_editor_video_page_does_not_serve_a_crafted_video(folder):
    _craft(folder, **{"video.path": "/etc/passwd"})
    at = _page("video")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("video")) == 0 and len(at.get("download_button")) == 0
    assert "video.path: points outside the draft folder" in _shown(at)


def test_editor_video_page_plays_the_drafts_own_video(folder):
    at = _page("video")
    assert not at.exception
    assert len(at.get("video")) == 1 and len(at.get("download_button")) == 1


def test_editor_cover_page_does_not_serve_crafted_candidates(folder, secret):
    _craft(folder, **{"covers.0.path": "/etc/passwd"})
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    data["covers"].append(dict(data["covers"][0], path="../../秘密.txt"))
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    at = _page("cover")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("image")) == 0
    assert _shown(at).count("points outside the draft folder") == 2


def test_editor_music_page_does_not_serve_a_crafted_track(folder):
    _craft(folder, **{"tracks.0.path": "/etc/passwd", "track.path": "/etc/passwd"})
    at = _page("music")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("audio")) == 0


def test_editor_export_refuses_a_crafted_cover(folder):
    _craft(folder, **{"cover.path": "/etc/passwd"})
    at = _page("export")
    [b for b in at.button if b.label == "Make the zip"][0].click().run()
    assert not at.exception
    assert "cover.path: points outside the draft folder" in _shown(at)
    assert len(at.get("download_button")) == 0 and not (folder / "note.zip").exists()


def test_editor_does_not_open_the_draft_above_the_drafts_folder(folder, drafts_root):
    parent = Draft.load(folder)
    parent.caption = parent.caption.model_copy(update={"title": "父目录的草稿"})
    parent.save(drafts_root.parent)  # a draft.json one level above the drafts folder
    for did in ("..", ".", "../草稿库/" + DRAFT_ID, "%2e%2e"):
        at = _page("caption", draft_id=did)
        assert not at.exception
        assert all(t.value != "父目录的草稿" for t in at.text_input), did
        assert at.info, did  # "open or make a draft first"


def test_editor_media_page_shows_only_the_drafts_own_media(folder, tmp_path):
    # a crafted item path to someone else's picture outside the draft and the allowed
    # folders: no thumbnail is made of it (the media route would serve it)
    other = make_photo(tmp_path / "别人的" / "私照.png", "astronaut", size=(64, 64))
    _craft(folder, **{"context.items.0.path": str(other)})
    at = _page("media")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("image")) == 0
    # the same picture uploaded into the draft (its media folder) is shown
    own = folder / "media" / "西湖.jpg"
    own.parent.mkdir()
    make_photo(own, "china", size=(320, 240))
    draft = Draft.load(folder)
    draft.context.items = [draft.context.items[0].model_copy(update={"path": str(own), "id": content_id(own)})]
    draft.order = [content_id(own)]
    draft.save(folder)
    at = _page("media")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("image")) == 1
