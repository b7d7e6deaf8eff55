"""Where `creator make` and `creator video` write (issue 11 items 2, 6 and 8): an output
never replaces an input of the run, an existing draft is replaced only with --force (a
newer or unreadable one never), output problems are one line on stderr before any work,
and two writers into one folder never leave a mixed draft that both report as made.

Real processes, real media (Chinese names), checksums of every original around each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from creator.media import content_id
from creator.types import Caption, Draft, MediaItem, MediaKind, NoteContext
from tests.factories import make_click_track, make_clip, make_photo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    """The environment of every run: a one-track library, a private cache, small covers
    and video, no face detector (not what is tested here, and it costs seconds)."""
    lib = tmp_path_factory.mktemp("音乐")
    make_click_track(lib / "节拍.wav", bpm=100, duration=20)
    small = dict(CREATOR_CACHE_DIR=str(tmp_path_factory.mktemp("cache")), CREATOR_MUSIC__LIBRARY=str(lib),
                 CREATOR_COVER__WIDTH="270", CREATOR_COVER__N="2", CREATOR_TAGGING__FACES="false",
                 CREATOR_VIDEO__WIDTH="270", CREATOR_VIDEO__HEIGHT="480", CREATOR_VIDEO__FPS="12",
                 CREATOR_VIDEO__MIN_LENGTH="6", CREATOR_VIDEO__PHOTO_SECONDS="1.0")
    return dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **small)


def creator(env: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "creator.cli", *args, *(["--no-progress"] if args[0] == "make" else [])],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture
def trip(tmp_path) -> Path:
    """A trip folder holding the user's own cover.png (a photo) and note.mp4 (a clip)."""
    folder = tmp_path / "杭州旅行"
    make_photo(folder / "西湖.jpg", "china", size=(480, 360), taken_at=datetime(2026, 10, 3, 9))
    make_photo(folder / "cover.png", "flower", size=(360, 480), taken_at=datetime(2026, 10, 3, 10))
    make_clip(folder / "note.mp4", duration=2.0, size=(160, 120))
    return folder


def saved_draft(folder: Path, photo: Path, **changes) -> Path:
    item = MediaItem(path=str(photo), id=content_id(photo), kind=MediaKind.photo, width=480, height=360)
    d = Draft(context=NoteContext(items=[item]), order=[item.id], caption=Caption(title="我改过的标题", body="正文"))
    d.save(folder)
    if changes:
        data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
        data.update(changes)
        (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder / "draft.json"


# -- an output never replaces an input ------------------------------------------------------

def test_same_folder_make_never_replaces_the_users_cover_and_video(env, trip, tmp_path):
    before = checksums(trip)
    line = one_line_error(creator(env, "make", str(trip), "-o", str(trip), "--video", cwd=tmp_path))
    assert "cover.png" in line and "note.mp4" in line and "another output folder" in line
    assert checksums(trip) == before  # nothing replaced, nothing added


def test_make_into_its_own_input_folder_again_with_force(env, tmp_path):
    """`make trip -o trip --force` over a draft made there before: that draft's outputs
    (cover.png, assets/) are not taken for the user's photos, and the photos are kept."""
    from creator.types import Cover

    trip = tmp_path / "苏州"
    garden = make_photo(trip / "园林.jpg", "china", size=(480, 360), taken_at=datetime(2026, 10, 3, 9))
    make_photo(trip / "花.jpg", "flower", size=(480, 360), taken_at=datetime(2026, 10, 3, 10))
    originals = checksums(trip)
    # what an earlier `make trip -o trip` left: a draft, its cover and a candidate
    make_photo(trip / "cover.png", "chelsea", size=(270, 360))
    make_photo(trip / "assets" / "cover-01-minimal.png", "chelsea", size=(270, 360))
    saved_draft(trip, garden)
    earlier = Draft.load(trip)
    cand = Cover(path=str(trip / "assets" / "cover-01-minimal.png"), title="旧", style="minimal", source="x")
    earlier.covers, earlier.cover = [cand], cand.model_copy(update={"path": str(trip / "cover.png")})
    earlier.save(trip)
    line = one_line_error(creator(env, "make", str(trip), "-o", str(trip), cwd=tmp_path))
    assert "already holds a draft" in line and "--force" in line
    r = creator(env, "make", str(trip), "-o", str(trip), "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    again = Draft.load(trip)
    assert sorted(Path(i.path).name for i in again.context.items) == ["园林.jpg", "花.jpg"]
    assert again.caption.title != "我改过的标题" and again.cover.title != "旧"
    assert all(checksums(trip)[k] == v for k, v in originals.items())



def test_a_draft_made_inside_the_trip_folder_is_not_read_back_as_photos(env, tmp_path):
    """`make trip -o trip/笔记`, then again with --force, and `make trip -o elsewhere`: the
    first draft's cover, assets/ and post/ images are the assistant's, not the trip's
    photos; a cover.png of the user's own in a folder without a draft still counts."""
    trip = tmp_path / "苏州"
    make_photo(trip / "园林.jpg", "china", size=(480, 360), taken_at=datetime(2026, 10, 3, 9))
    make_photo(trip / "花.jpg", "flower", size=(480, 360), taken_at=datetime(2026, 10, 3, 10))
    make_photo(trip / "别处" / "cover.png", "chelsea", size=(360, 480), taken_at=datetime(2026, 10, 3, 11))
    mine = ["cover.png", "园林.jpg", "花.jpg"]
    note = trip / "笔记"
    assert creator(env, "make", str(trip), "-o", str(note), cwd=tmp_path).returncode == 0
    assert (note / "cover.png").is_file() and any((note / "post").glob("*.jpg"))
    for out, extra in ((note, ["--force"]), (tmp_path / "另一份", [])):
        r = creator(env, "make", str(trip), "-o", str(out), *extra, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert sorted(Path(i.path).name for i in Draft.load(out).context.items) == mine

# -- an existing draft ------------------------------------------------------------------------

def test_an_existing_draft_is_replaced_only_with_force(env, trip, tmp_path):
    out = tmp_path / "笔记"
    path = saved_draft(out, trip / "西湖.jpg")
    before = path.read_bytes()
    line = one_line_error(creator(env, "make", str(trip / "西湖.jpg"), "-o", str(out), cwd=tmp_path))
    assert "already holds a draft" in line and "--force" in line
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage", ["newer", "corrupt", "damaged"])
def test_a_newer_or_unreadable_draft_is_never_overwritten_even_with_force(env, trip, tmp_path, damage):
    out = tmp_path / "笔记"
    path = saved_draft(out, trip / "西湖.jpg", **({"schema_version": 99} if damage == "newer" else {}))
    if damage == "corrupt":
        path.write_text('{"schema_version": 1, "context": {', encoding="utf-8")
    if damage == "damaged":
        path.write_text('{"schema_version": 1, "context": {"items": 7}}', encoding="utf-8")
    before = checksums(out)
    line = one_line_error(creator(env, "make", str(trip / "西湖.jpg"), "-o", str(out), "--force", cwd=tmp_path))
    assert "not replaced, even with --force" in line
    assert checksums(out) == before


# -- output problems: one line, before any work ------------------------------------------------

def test_make_output_problems_are_one_line_before_any_work(env, trip, tmp_path):
    a_file = tmp_path / "已有文件.txt"
    a_file.write_text("mine", encoding="utf-8")
    line = one_line_error(creator(env, "make", str(trip), "-o", str(a_file), cwd=tmp_path))
    assert "is a file, not a folder" in line and a_file.read_text(encoding="utf-8") == "mine"
    line = one_line_error(creator(env, "make", str(trip), "-o", str(a_file / "笔记"), cwd=tmp_path))
    assert "is a file, not a folder" in line


def test_video_output_problems_are_one_line_before_any_render(env, trip, tmp_path):
    folder = tmp_path / "草稿"
    saved_draft(folder, trip / "西湖.jpg")
    (tmp_path / "视频夹").mkdir()
    a_file = tmp_path / "已有文件.txt"
    a_file.write_text("mine", encoding="utf-8")
    cases = [(tmp_path / "视频夹", "is a folder"), (a_file / "x.mp4", "is a file, not a folder"),
             (tmp_path / "视频.mov", "must end in .mp4")]
    for out, why in cases:
        line = one_line_error(creator(env, "video", str(folder), "-o", str(out), cwd=tmp_path))
        assert why in line and "-o/--output" in line, line
    assert list((tmp_path / "视频夹").iterdir()) == [] and a_file.read_text(encoding="utf-8") == "mine"
    assert not any(p.suffix in (".part", ".mp4") for p in folder.rglob("*"))


# -- two writers, one draft --------------------------------------------------------------------

def test_two_makes_into_one_folder_never_leave_a_mixed_draft(env, trip, tmp_path):
    out = tmp_path / "同一个笔记"
    photos = [str(trip / "西湖.jpg"), str(trip / "cover.png")]
    procs = [subprocess.Popen([sys.executable, "-m", "creator.cli", "make", *photos, "-o", str(out),
                               "--lang", lang, "--no-progress"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for lang in ("zh", "en")]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    codes = [rc for rc, _, _ in results]
    assert sorted(c == 0 for c in codes) == [False, True], results
    loser = next(err for rc, _, err in results if rc != 0)
    assert "Traceback" not in loser
    assert "another process is writing" in loser or "already holds a draft" in loser, loser
    # the draft is one run's, whole: caption.md, cover.png and the candidates agree with draft.json
    draft = Draft.load(out)
    winner_lang = ("zh", "en")[codes.index(0)]
    assert draft.language == winner_lang and draft.caption.language == winner_lang
    assert (out / "caption.md").read_text(encoding="utf-8") == draft.caption.markdown()
    assert all(Path(c.path).is_file() and Path(c.path).parent == out / "assets" for c in draft.covers)
    assert (out / "cover.png").read_bytes() == Path(draft.covers[0].path).read_bytes()
    assert all(c.title == draft.caption.title for c in draft.covers)
    assert not list(out.glob(".staging-*"))
