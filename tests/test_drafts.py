from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from creator.errors import DraftError
from creator.types import Caption, Draft, MediaItem, MediaKind, NoteContext


def draft() -> Draft:
    items = [MediaItem(path=f"/照片/{k}.jpg", id=f"{k:016x}", kind=MediaKind.photo) for k in range(3)]
    ctx = NoteContext(items=items, start=date(2026, 10, 3), end=date(2026, 10, 4), days=2)
    return Draft(context=ctx, order=[items[2].id, items[0].id],
                 caption=Caption(title="杭州西湖两日｜秋天慢慢走", body="📍 杭州", hashtags=["杭州旅行", "西湖"]))


def test_save_and_load_round_trip(tmp_path):
    d = draft()
    path = d.save(tmp_path / "草稿")
    assert path.name == "draft.json"
    back = Draft.load(tmp_path / "草稿")
    assert back.caption == d.caption and back.context == d.context and back.order == d.order
    assert back.created_at is not None and back.updated_at is not None
    assert "# 杭州西湖两日｜秋天慢慢走" in (tmp_path / "草稿" / "caption.md").read_text(encoding="utf-8")
    assert not list((tmp_path / "草稿").glob("*.part"))  # no temporary file left behind


def test_ordered_items_follow_the_users_order():
    d = draft()
    assert [i.path for i in d.ordered_items()] == ["/照片/2.jpg", "/照片/0.jpg", "/照片/1.jpg"]


def test_damaged_missing_and_newer_drafts_fail_clearly(tmp_path):
    with pytest.raises(DraftError, match="no draft"):
        Draft.load(tmp_path)
    (tmp_path / "draft.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DraftError, match="not a readable draft"):
        Draft.load(tmp_path)
    data = json.loads(draft().model_dump_json())
    data["schema_version"] = 99
    (tmp_path / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DraftError, match="newer version"):
        Draft.load(tmp_path)
    data["schema_version"] = 1
    data["context"]["items"][0]["kind"] = "hologram"
    (tmp_path / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DraftError, match="damaged: context.items.0.kind"):
        Draft.load(tmp_path)
    # a subject box of NaN (Python's json reads it; creator video then saved it as null)
    data["context"]["items"][0]["kind"] = "photo"
    text = json.dumps(data).replace('"schema_version": 1', '"schema_version": 1, "zz": NaN', 1)
    (tmp_path / "draft.json").write_text(text, encoding="utf-8")
    with pytest.raises(DraftError, match="damaged: NaN is not a number"):
        Draft.load(tmp_path)


def test_remove_item_takes_it_out_of_items_order_and_moments():
    from creator.types import Moment

    d = draft()
    ids = [i.id for i in d.context.items]
    d.context = d.context.model_copy(update={"moments": [
        Moment(index=0, day=1, item_ids=[ids[0]]), Moment(index=1, day=1, item_ids=[ids[1], ids[2]])]})
    d.remove_item(ids[0])
    assert [i.id for i in d.context.items] == ids[1:]
    assert d.order == [ids[2]]
    assert [m.item_ids for m in d.context.moments] == [[ids[1], ids[2]]]
    with pytest.raises(KeyError):
        d.remove_item("nope")


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    """mkstemp makes 0600 files; drafts, covers and captions must be readable like any file."""
    import os

    from creator.drafts import _UMASK, atomic_write_bytes
    from pipelines.cover import save_image
    from PIL import Image

    a = atomic_write_bytes(tmp_path / "a.bin", b"x")
    b = save_image(Image.new("RGB", (8, 8)), tmp_path / "封面.png")
    for p in (a, b):
        assert os.stat(p).st_mode & 0o777 == 0o666 & ~_UMASK


# -- paths, ids, sharing (issue 11 items 1 and 5, issue 14 item 1) ----------------------

def _with_own_files(folder):
    """A draft saved in ``folder`` whose cover, candidates and video are real files in it."""
    from creator.types import GPS, Cover, VideoResult

    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "封面-01.png").write_bytes(b"png")
    (folder / "cover.png").write_bytes(b"png")
    (folder / "note.mp4").write_bytes(b"mp4")
    d = draft()
    d.context.items[0].gps = GPS(lat=30.2591234, lon=120.1487654, altitude=17.5)
    cand = Cover(path=str(folder / "assets" / "封面-01.png"), title="t", style="minimal", source="x")
    d.covers = [cand]
    d.cover = cand.model_copy(update={"path": str(folder / "cover.png")})
    d.video = VideoResult(path=str(folder / "note.mp4"), duration=6, width=270, height=480, fps=12)
    d.save(folder)
    return d


def test_own_files_are_saved_relative_and_found_from_any_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "杭州笔记"
    _with_own_files(folder)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    assert data["cover"]["path"] == "cover.png"
    assert data["covers"][0]["path"] == "assets/封面-01.png"
    assert data["video"]["path"] == "note.mp4"
    assert data["context"]["items"][0]["path"] == "/照片/0.jpg"  # the user's media: absolute
    # the whole folder moved, and opened from elsewhere: its files are found
    moved = tmp_path / "别处" / "笔记"
    moved.parent.mkdir()
    folder.rename(moved)
    monkeypatch.chdir(tmp_path / "别处")
    back = Draft.load("笔记")
    assert Path(back.cover.path) == moved / "cover.png" and Path(back.cover.path).is_file()
    assert Path(back.covers[0].path).is_file() and Path(back.video.path).is_file()


def test_saved_gps_is_rounded_and_has_no_altitude(tmp_path):
    folder = tmp_path / "草稿"
    _with_own_files(folder)
    gps = json.loads((folder / "draft.json").read_text(encoding="utf-8"))["context"]["items"][0]["gps"]
    assert gps == {"lat": 30.259, "lon": 120.149, "altitude": None}


def test_own_file_refuses_what_lies_outside_the_draft_folder(tmp_path):
    from creator.drafts import own_file

    folder = tmp_path / "草稿"
    _with_own_files(folder)
    assert own_file(folder, "cover.png", field="cover.path") == (folder / "cover.png").resolve()
    assert own_file(folder, str(folder / "assets" / "封面-01.png"), field="covers.0.path").is_file()
    (tmp_path / "秘密.txt").write_text("secret")
    (folder / "link.png").symlink_to(tmp_path / "秘密.txt")
    for value in ("/etc/passwd", "../秘密.txt", "../../etc/hostname", "assets/../../秘密.txt", "link.png", ".",
                  "bad\0name"):
        with pytest.raises(DraftError, match="cover.path"):
            own_file(folder, value, field="cover.path")
    with pytest.raises(DraftError, match="video.path: file not found"):
        own_file(folder, "gone.mp4", field="video.path", must_exist=True)


def test_draft_ids_are_plain_names():
    from creator.drafts import check_draft_id
    from creator.errors import InputError

    # a folder `creator make -o 草稿` wrote is opened by the editor (it was listed, then refused)
    for good in ("20251003-090000-test", "a", "a.b_c-1", "草稿", "京都 2024 秋", "été-à-Nice", "x" * 80):
        assert check_draft_id(good) == good
    for bad in ("", ".", "..", ".hidden", "a/b", "../x", "a\\b", "a\0b", "x" * 81, None, " 草稿", "草稿 ",
                "草稿.", "草稿\n", "a\tb", "a:b", "a*b"):
        with pytest.raises(InputError, match="draft id"):
            check_draft_id(bad)


def test_media_file_in_a_server_context_only_reads_what_the_draft_was_made_from(tmp_path):
    from creator.drafts import media_file
    from creator.media import content_id
    from tests.factories import make_photo

    folder, trip = tmp_path / "草稿", tmp_path / "旅行"
    folder.mkdir()
    photo = make_photo(trip / "西湖.jpg", size=(64, 48))
    item = MediaItem(path=str(photo), id=content_id(photo), kind=MediaKind.photo)
    assert media_file(item, folder) == photo.resolve()  # local context: the recorded path
    with pytest.raises(DraftError, match="not among the draft's media"):
        media_file(item, folder, roots=[])  # server context: not under an allowed folder
    assert media_file(item, folder, roots=[trip]) == photo.resolve()
    crafted = item.model_copy(update={"path": "/etc/passwd"})
    with pytest.raises(DraftError, match="not among"):
        media_file(crafted, folder, roots=[trip])
    other = make_photo(trip / "别的.jpg", size=(64, 48), taken_at=datetime(2025, 1, 1))
    with pytest.raises(DraftError, match="no longer the one"):  # same folder, another file
        media_file(item.model_copy(update={"path": str(other)}), folder, roots=[trip])
    upload = make_photo(folder / "media" / "上传.jpg", size=(64, 48))
    up = MediaItem(path=str(upload), id=content_id(upload), kind=MediaKind.photo)
    assert media_file(up, folder, roots=[]) == upload.resolve()


def test_track_file_in_a_server_context_goes_by_the_library(tmp_path):
    from creator.drafts import track_file
    from creator.types import TrackMatch

    folder, lib = tmp_path / "草稿", tmp_path / "音乐"
    (folder / "music").mkdir(parents=True)
    lib.mkdir()
    (lib / "歌.wav").write_bytes(b"RIFF")
    (folder / "music" / "我的.wav").write_bytes(b"RIFF")
    library = {"abc": str(lib / "歌.wav")}
    crafted = TrackMatch(track_id="abc", title="x", path="/etc/passwd", score=1)
    assert track_file(crafted, folder, library) == lib / "歌.wav"  # by id, not by the path
    with pytest.raises(DraftError, match="not in the music library"):
        track_file(crafted.model_copy(update={"track_id": "zzz"}), folder, library)
    own = TrackMatch(track_id="up", title="x", path=str(folder / "music" / "我的.wav"), score=1)
    assert track_file(own, folder, library) == (folder / "music" / "我的.wav").resolve()


def test_shareable_draft_has_no_coordinates_altitude_or_local_paths(tmp_path):
    import re

    from creator.drafts import shareable_json
    from creator.types import TrackMatch

    folder = tmp_path / "草稿"
    d = _with_own_files(folder)
    d = Draft.load(folder)
    d.context.items[1].warnings = [f"{d.context.items[1].path}: EXIF unreadable"]
    d.context.warnings = [f"{tmp_path}/照片/坏.jpg: file not found"]
    d.track = TrackMatch(track_id="t", title="歌", path=str(tmp_path / "音乐" / "歌.wav"), score=1)
    d.tracks = [d.track]
    text = shareable_json(d, folder)
    assert not re.search(r"30\.25|120\.14", text)
    assert '"gps": null' in text and "altitude" not in text
    assert str(tmp_path) not in text and "/照片/" not in text
    back = Draft.model_validate_json(text)
    assert back.cover.path == "cover.png" and back.video.path == "note.mp4"
    assert back.context.items[0].path == "0.jpg" and back.track.path == "歌.wav"
    assert back.context.warnings == ["坏.jpg: file not found"]


def test_a_draft_saved_with_working_directory_paths_still_finds_its_files(tmp_path):
    """Before drafts named their files relative to themselves, `make ../trip -o make_hz`
    saved ``make_hz/cover.png``: such a draft, opened from anywhere, finds its files."""
    folder = tmp_path / "make_hz"
    _with_own_files(folder)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    data["cover"]["path"] = "make_hz/cover.png"
    data["covers"][0]["path"] = "../工作/make_hz/assets/封面-01.png"
    data["video"]["path"] = "make_hz/note.mp4"
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    back = Draft.load(folder)
    assert Path(back.cover.path) == folder / "cover.png"
    assert Path(back.covers[0].path) == folder / "assets" / "封面-01.png"
    assert Path(back.video.path) == folder / "note.mp4"


def test_two_editors_at_once_lose_no_edit(tmp_path):
    """Two processes (two browser tabs' servers) editing one draft: every edit of both
    is in the result (each read-modify-write holds the folder's lock)."""
    import subprocess
    import sys
    from pathlib import Path as _P

    from creator.types import Caption, Draft, NoteContext

    folder = tmp_path / "草稿"
    Draft(context=NoteContext(items=[]), caption=Caption(title="西湖", body=".")).save(folder)
    code = (
        "import sys\n"
        "from creator.drafts import edit_draft\n"
        "who = sys.argv[2]\n"
        "for k in range(25):\n"
        "    edit_draft(sys.argv[1], lambda d: d.caption.hashtags.append(f'{who}{k}'))\n"
    )
    root = str(_P(__file__).resolve().parents[1])
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder), who], cwd=root) for who in ("甲", "乙")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    tags = Draft.load(folder).caption.hashtags
    assert sorted(tags) == sorted([f"甲{k}" for k in range(25)] + [f"乙{k}" for k in range(25)])


def test_delete_draft_moves_it_to_the_trash_and_refuses_other_ids(tmp_path):
    import pytest as _pytest

    from creator.drafts import delete_draft
    from creator.errors import CreatorError
    from creator.types import Caption, Draft, NoteContext

    root = tmp_path / "草稿库"
    Draft(context=NoteContext(items=[]), caption=Caption(title="西湖", body=".")).save(root / "d1")
    went = delete_draft(root, "d1")
    assert not (root / "d1").exists() and (went / "draft.json").is_file() and went.parent.name == ".trash"
    for bad in ("..", ".trash", "d1", "../外面"):
        with _pytest.raises(CreatorError):
            delete_draft(root, bad)


def test_remove_item_takes_its_carousel_entries_and_covers_too():
    """Removing a photo on the Media page left the carousel naming it (the carousel page
    then showed a KeyError traceback) and its covers still offered and chosen."""
    from creator.types import CarouselEntry, Cover

    d = draft()
    ids = [i.id for i in d.context.items]
    d.carousel = [CarouselEntry(item_id=i, box=(0, 0, 10, 10), file=f"{k + 2:02d}.jpg") for k, i in enumerate(ids)]
    mine = Cover(title="西湖", style="magazine", source=ids[0])
    collage = Cover(title="西湖", style="collage", source=",".join(ids[:2]))
    other = Cover(title="西湖", style="magazine", source=ids[2])
    d.covers, d.cover = [mine, collage, other], mine
    d.remove_item(ids[0])
    assert [e.item_id for e in d.carousel] == ids[1:]
    assert [e.file for e in d.carousel] == ["02.jpg", "03.jpg"]  # renumbered: no gap at 02.jpg
    assert d.covers == [other] and d.cover == other
    d.remove_item(ids[2])
    assert d.covers == [] and d.cover is None
    assert [e.file for e in d.carousel] == ["01.jpg"]  # no cover left: the first photo is 01.jpg


def test_an_order_names_an_item_no_more_often_than_it_is_there(tmp_path):
    """A crafted order naming one photo 5000 times rendered it 5000 times (hours, for the
    service's one video worker); two copies of one file still get two places."""
    d = draft()
    ids = [i.id for i in d.context.items]
    data = json.loads(d.model_dump_json())
    data["order"] = [ids[1]] * 5000 + ids
    again = Draft.model_validate(data)
    assert again.order == [ids[1], ids[0], ids[2]]
    data["context"]["items"].append(dict(data["context"]["items"][0]))
    data["order"] = [ids[0]] * 3 + ["nope"] * 2
    assert Draft.model_validate(data).order == [ids[0], ids[0], "nope"]


def test_a_damaged_draft_is_listed_by_its_folders_name(tmp_path):
    """The Drafts page titled a damaged draft "(unreadable: /srv/…/draft.json …)": where
    the drafts are kept on the server is not the user's business."""
    from creator.drafts import list_drafts

    root = tmp_path / "草稿们"
    draft().save(root / "好的")
    (root / "坏的").mkdir()
    (root / "坏的" / "draft.json").write_text("{not json", encoding="utf-8")
    rows = {p.name: title for p, title, _ in list_drafts(root)}
    assert rows["好的"] == "杭州西湖两日｜秋天慢慢走"
    assert rows["坏的"].startswith("(unreadable") and "坏的" in rows["坏的"]
    assert str(tmp_path) not in rows["坏的"]


def test_a_reversed_excerpt_is_a_damaged_draft_said_in_one_line(tmp_path):
    """A hand-edited excerpt of 50 s to 10 s showed as a 10–50 s slider with no word."""
    from creator.types import Excerpt

    assert Excerpt(start=0, end=0).duration == 0
    for bad in ({"start": 50, "end": 10}, {"start": -1, "end": 5}):
        with pytest.raises(ValueError):
            Excerpt(**bad)
    d = draft()
    d.save(tmp_path / "草稿")
    data = json.loads((tmp_path / "草稿" / "draft.json").read_text(encoding="utf-8"))
    data["track"] = {"track_id": "t", "title": "慢歌", "path": "/音乐/慢歌.wav", "score": 0.5,
                     "excerpt": {"start": 50, "end": 10}}
    (tmp_path / "草稿" / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DraftError, match="damaged: track.excerpt.*ends .*before it starts"):
        Draft.load(tmp_path / "草稿")
