"""The chosen cover and track, always; a video made before an edit is marked outdated.

Real renders of a saved draft (Chinese folder and file names), decoded back."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from creator.assistant import Assistant
from creator.config import Settings, VideoSettings
from creator.types import Caption, Cover, Draft, Excerpt, MediaItem, Moment, NoteContext, Place, TrackMatch
from pipelines.video import VideoRequest
from pipelines.video.pipeline import video_changes, video_outdated
from pipelines.video.plan import safe_area
from pipelines.video.render import cover_box
from tests.factories import as_made, ffmpeg, make_click_track, make_photo

W, H = 270, 480


def first_frame(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(float)


def cover_diff(frame: np.ndarray, cover: Path) -> float:
    """Mean absolute difference between the cover as the intro shows it (whole, in the
    safe area) and that part of the frame."""
    x0, y0, x1, y1 = cover_box((W, H), safe_area(VideoSettings(), (W, H)))
    im = ImageOps.contain(Image.open(cover).convert("RGB"), (x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    px, py = x0 + (x1 - x0 - im.width) // 2, y0 + (y1 - y0 - im.height) // 2
    return float(np.abs(frame[py:py + im.height, px:px + im.width] - np.asarray(im, float)).mean())


def make_draft(folder: Path) -> Draft:
    media = folder / "照片"
    hz, lake = Place(name_zh="杭州", name_en="Hangzhou"), Place(name_zh="西湖", name_en="West Lake")
    when = [(datetime(2025, 10, 3, 9), hz), (datetime(2025, 10, 3, 10), hz), (datetime(2025, 10, 4, 9), lake)]
    items = [MediaItem(path=str(make_photo(media / f"{i}.jpg", name, size=(360, 480))), id=f"id{i}",
                       kind="photo", taken_at=when[i][0], place=when[i][1])
             for i, name in enumerate(["china", "coffee", "flower"])]
    track_path, beats = make_click_track(folder / "音乐.wav", bpm=120, duration=10)
    ctx = NoteContext(items=items, days=2, moments=[
        Moment(index=0, day=1, place=hz, item_ids=["id0", "id1"]),
        Moment(index=1, day=2, place=lake, item_ids=["id2"])])
    # a stale cover.png from an earlier run, and the cover the creator chose since
    make_photo(folder / "cover.png", "chelsea", size=(300, 400))
    chosen = make_photo(folder / "assets" / "封面-2.png", "astronaut", size=(300, 400))
    draft = as_made(Draft(context=ctx, order=["id0", "id1", "id2"], caption=Caption(title="杭州两日", body="..."),
                  cover=Cover(path=str(chosen), title="杭州两日", style="minimal", source="id0"),
                  track=TrackMatch(track_id="t1", title="click", path=str(track_path), score=1.0,
                                   excerpt=Excerpt(start=0.0, end=9.0), beats=[float(b) for b in beats])))
    draft.save(folder)
    return Draft.load(folder)


def render(draft: Draft, folder: Path):
    return Assistant(Settings()).video(draft, out=folder / "note.mp4", draft_dir=folder, size=(W, H), length=3.0)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("草稿") / "杭州之行"
    folder.mkdir()
    draft = make_draft(folder)
    draft.video = render(draft, folder)
    draft.save(folder)
    return folder, Draft.load(folder)


def test_the_first_frame_is_the_chosen_cover_not_a_stale_cover_png(rendered):
    folder, draft = rendered
    req = VideoRequest.from_draft(draft, folder)
    assert req.cover_path == (folder / "assets" / "封面-2.png").resolve()
    frame = first_frame(folder / "note.mp4")
    assert cover_diff(frame, folder / "assets" / "封面-2.png") < 8.0
    assert cover_diff(frame, folder / "cover.png") > 20.0  # the stale one would be told apart


def test_the_first_frame_follows_a_changed_cover(rendered, tmp_path):
    folder, draft = rendered
    # the creator regenerates the cover: a new picture at the same path
    make_photo(folder / "assets" / "封面-2.png", "rocket", size=(300, 400))
    assert video_outdated(draft) and video_changes(draft, folder) == ["cover"]
    out = tmp_path / "新.mp4"
    Assistant(Settings()).video(draft, out=out, draft_dir=folder, size=(W, H), length=3.0)
    frame = first_frame(out)
    assert cover_diff(frame, folder / "assets" / "封面-2.png") < 8.0
    assert cover_diff(first_frame(folder / "note.mp4"), folder / "assets" / "封面-2.png") > 20.0
    make_photo(folder / "assets" / "封面-2.png", "astronaut", size=(300, 400))  # as it was
    assert not video_outdated(draft)


def _edits(folder: Path):
    def order(d: Draft):
        ids = [i.id for i in d.context.items]
        d.order = [ids[0], ids[2], ids[1]]  # each moment still opens on the same item

    def other_cover(d: Draft):
        path = make_photo(folder / "assets" / "封面-3.png", "coffee", size=(300, 400))
        d.cover = d.cover.model_copy(update={"path": str(path)})

    def track(d: Draft):
        d.track = d.track.model_copy(update={"track_id": "t2", "title": "another"})

    def excerpt(d: Draft):
        d.track = d.track.model_copy(update={"excerpt": Excerpt(start=1.0, end=9.0)})

    def title(d: Draft):
        d.caption = d.caption.model_copy(update={"title": "西湖一日"})

    def captions(d: Draft):  # a place edited: the moment's caption changes
        items = [i.model_copy(update={"place": Place(name_zh="灵隐寺", name_en="Lingyin")}) if i.path.endswith("2.jpg") else i
                 for i in d.context.items]
        d.context = d.context.model_copy(update={"items": items})

    return {"order": order, "cover": other_cover, "track": track, "excerpt": excerpt, "title": title,
            "captions": captions}


def test_outdated_follows_each_kind_of_edit(rendered):
    folder, draft = rendered
    assert draft.video is not None and draft.video.made_from
    assert not video_outdated(draft) and not video_outdated(draft, folder) and video_changes(draft, folder) == []
    for kind, edit in _edits(folder).items():
        d = draft.model_copy(deep=True)
        edit(d)
        assert video_changes(d, folder) == [kind], kind
        assert video_outdated(d), kind
    # edits that change nothing the video shows keep it current
    d = draft.model_copy(deep=True)
    d.caption = d.caption.model_copy(update={"body": "另一段正文"})
    d.caption.hashtags = ["#杭州"]
    assert not video_outdated(d)


def test_outdated_is_false_right_after_a_render_and_survives_save_and_load(rendered, tmp_path):
    folder, draft = rendered
    d = draft.model_copy(deep=True)
    _edits(folder)["order"](d)
    _edits(folder)["title"](d)
    assert video_changes(d, folder) == ["order", "title"]
    d.video = render(d, folder)
    assert not video_outdated(d)
    d.save(folder)
    again = Draft.load(folder)
    assert again.video.made_from == d.video.made_from and not video_outdated(again)
    # a video from before made_from was recorded cannot vouch for itself
    old = again.model_copy(update={"video": again.video.model_copy(update={"made_from": None})})
    assert video_outdated(old) and video_changes(old) == ["unknown"]
    # no video: nothing outdated
    assert not video_outdated(again.model_copy(update={"video": None}))
    # made_from carries no path (it goes into shared drafts)
    assert str(folder) not in d.video.made_from and "照片" not in d.video.made_from
