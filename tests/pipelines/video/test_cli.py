"""`creator video DRAFT_DIR`: from a saved draft to an MP4."""

from __future__ import annotations

import argparse
import re
import subprocess
from datetime import datetime

from creator.media import content_id
from creator.types import Caption, Draft, Excerpt, MediaItem, Moment, NoteContext, Place, TrackMatch
from pipelines.video import VideoRequest
from pipelines.video.cli import add_video_parser
from tests.factories import ffmpeg, make_click_track, make_photo


def make_draft(folder) -> Draft:
    """A saved draft of three real photos (ids are their content ids, as a made draft's
    are: a render reads only a file that is still the one the draft was made from), one
    order entry gone, and the draft's own click track."""
    folder.mkdir(parents=True, exist_ok=True)
    media = folder / "照片"
    hz, lake = Place(name_zh="杭州", name_en="Hangzhou"), Place(name_zh="西湖", name_en="West Lake")
    # the moments (day 1 in Hangzhou, day 2 at West Lake) follow from the items' times and places
    when = [(datetime(2025, 10, 3, 9), hz), (datetime(2025, 10, 3, 10), hz), (datetime(2025, 10, 4, 9), lake)]
    paths = [make_photo(media / f"{i}.jpg", name, size=(480, 360)) for i, name in enumerate(["china", "coffee", "flower"])]
    ids = [content_id(p) for p in paths]
    items = [MediaItem(path=str(p), id=ids[i], kind="photo", taken_at=when[i][0], place=when[i][1])
             for i, p in enumerate(paths)]
    track_path, beats = make_click_track(folder / "music.wav", bpm=120, duration=12)
    ctx = NoteContext(items=items, days=2, moments=[
        Moment(index=0, day=1, place=hz, item_ids=[ids[0], ids[1]]),
        Moment(index=1, day=2, place=lake, item_ids=[ids[2]])])
    draft = Draft(context=ctx, order=[ids[1], ids[0], "gone", ids[2]], caption=Caption(title="杭州两日", body="..."),
                  track=TrackMatch(track_id="t", title="click", path="music.wav", score=1.0,
                                   excerpt=Excerpt(start=1.0, end=11.0), beats=[float(b) for b in beats[:20]]))
    (folder / "draft.json").write_text(draft.model_dump_json(), encoding="utf-8")
    return draft


def test_request_from_draft_follows_order_and_labels_moments(tmp_path):
    draft = make_draft(tmp_path / "草稿")
    ids = [i.id for i in draft.context.items]
    req = VideoRequest.from_draft(draft, tmp_path / "草稿")
    assert [i.id for i in req.items] == [ids[1], ids[0], "gone", ids[2]]
    assert req.items[2].error
    assert req.captions == {ids[1]: "第1天 · 杭州", ids[2]: "第2天 · 西湖"}
    assert req.title == "杭州两日" and req.cover_path is None
    assert req.track.path == str(tmp_path / "草稿" / "music.wav")
    assert req.output == tmp_path / "草稿" / "note.mp4"


def test_creator_video_renders_a_saved_draft(tmp_path, capsys):
    folder = tmp_path / "草稿"
    make_draft(folder)
    make_photo(folder / "cover.png", "chelsea", size=(300, 400))
    parser = argparse.ArgumentParser(prog="creator")
    add_video_parser(parser.add_subparsers())
    out = tmp_path / "出" / "视频.mp4"
    args = parser.parse_args(["video", str(folder), "-o", str(out), "--size", "270x480", "--length", "6"])
    assert args.func(args) == 0
    err = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    assert re.search(r"Video: h264.*270x480", err) and "Audio: aac" in err
    assert "gone" in capsys.readouterr().err  # the missing item is reported, not fatal


def test_creator_video_on_a_folder_without_draft_fails_cleanly(tmp_path):
    from creator.cli import main

    assert main(["video", str(tmp_path)]) == 1
    assert not (tmp_path / "note.mp4").exists()


def test_creator_video_never_writes_over_the_drafts_own_clip(tmp_path, capsys):
    """`creator video DRAFT -o trip/clip.mp4` would replace the user's original clip:
    refused before any work (a link to it too), the clip byte for byte as it was."""
    import hashlib

    from creator.cli import main
    from tests.factories import make_clip

    folder = tmp_path / "草稿"
    draft = make_draft(folder)
    clip = make_clip(tmp_path / "旅行" / "片段.mp4", duration=1.0)
    before = hashlib.sha256(clip.read_bytes()).hexdigest()
    item = MediaItem(path=str(clip), id="clip", kind="clip", taken_at=datetime(2025, 10, 4, 10))
    draft = draft.model_copy(update={"context": draft.context.model_copy(update={"items": [*draft.context.items, item]}),
                                     "order": [*draft.order, "clip"]})
    (folder / "draft.json").write_text(draft.model_dump_json(), encoding="utf-8")
    assert main(["video", str(folder), "-o", str(clip)]) == 2
    assert "is one of the draft's own photos, clips or its track (片段.mp4)" in capsys.readouterr().err
    link = tmp_path / "link.mp4"
    link.symlink_to(clip)
    assert main(["video", str(folder), "-o", str(link)]) == 2
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == before


def test_creator_video_warns_in_one_line_and_fails_as_a_failure_when_nothing_is_left(tmp_path, capsys):
    """A missing photo whose name holds a newline and rich markup is one warning line; a
    draft none of whose photos is left exits 1 (nothing usable), not 2 (a usage error)."""
    import json

    from creator.cli import main

    folder = tmp_path / "草稿"
    make_draft(folder)
    data = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    data["context"]["items"][0]["path"] = str(tmp_path / "[bold]搬走\n了.jpg")
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["video", str(folder), "-o", str(tmp_path / "a.mp4"), "--size", "270x480", "--length", "4"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "搬走" in line]
    assert len(said) == 1 and "[bold]搬走" in said[0], err
    for item in data["context"]["items"]:
        item["path"] = str(tmp_path / "没有了.jpg")
    (folder / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["video", str(folder), "-o", str(tmp_path / "b.mp4")]) == 1
    assert "none of the photos or clips could be read" in capsys.readouterr().err
    assert not (tmp_path / "b.mp4").exists()
