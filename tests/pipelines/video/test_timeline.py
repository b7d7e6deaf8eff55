"""`creator video DRAFT_DIR --timeline FILE.otio` / Assistant.timeline: the video plan as
an OpenTimelineIO timeline, read back with opentimelineio and its FCP X XML and CMX 3600
adapters, and compared with the plan and with a real render of the same draft."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

import opentimelineio as otio
import pytest

from creator.assistant import Assistant
from creator.config import Settings
from creator.errors import BackendUnavailable, InputError
from creator.types import (Caption, ClipInfo, Cover, Draft, Excerpt, MediaItem, Moment, NoteContext, Place, Shot,
                           TrackMatch)
from pipelines.video import Pipeline, VideoRequest
from pipelines.video.cli import add_video_parser
from tests.factories import as_made, make_click_track, make_clip, make_photo

W, H, FPS = 270, 480, 30


@pytest.fixture(scope="module")
def draft_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("草稿") / "杭州两日"
    media = folder / "照片"
    hz, lake = Place(name_zh="杭州", name_en="Hangzhou"), Place(name_zh="西湖", name_en="West Lake")
    items = [MediaItem(path=str(make_photo(media / f"{name}.jpg", name, size=(360, 480))), id=f"id{i}", kind="photo",
                       taken_at=datetime(2025, 10, 3 + i // 2, 9 + i), place=hz if i < 2 else lake)
             for i, name in enumerate(["china", "coffee", "flower"])]
    clip = make_clip(media / "游船.mp4", duration=4.0, size=(320, 180), fps=25, scenes=2)
    items.append(MediaItem(path=str(clip), id="clip", kind="clip", taken_at=datetime(2025, 10, 4, 12), place=lake,
                           clip=ClipInfo(duration=4.0, fps=25, width=320, height=180, has_audio=True,
                                         shots=[Shot(start=0, end=2, sharpness=0.9), Shot(start=2, end=4)])))
    track_path, beats = make_click_track(folder / "音乐.wav", bpm=100, duration=16.0)
    cover = make_photo(folder / "assets" / "封面.png", "chelsea", size=(300, 400))
    ctx = NoteContext(items=items, days=2, moments=[
        Moment(index=0, day=1, place=hz, item_ids=["id0", "id1"]),
        Moment(index=1, day=2, place=lake, item_ids=["id2", "clip"])])
    as_made(Draft(context=ctx, order=["id1", "id0", "clip", "id2"], caption=Caption(title="杭州两日", body="..."),
          cover=Cover(path=str(cover), title="杭州两日", style="minimal", source="id0"),
          track=TrackMatch(track_id="t1", title="click", path=str(track_path), score=1.0,
                           excerpt=Excerpt(start=1.0, end=15.0), beats=[float(b) for b in beats]))).save(folder)
    return folder


def plan_of(folder: Path):
    draft = Draft.load(folder)
    s = Settings().video
    req = VideoRequest.from_draft(draft, folder, size=(W, H), fps=FPS)
    return Pipeline(s).plan(req), req


def picture_clips(tl) -> list:
    return [c for c in tl.tracks[0] if isinstance(c, otio.schema.Clip)]


@pytest.fixture(scope="module")
def exported(draft_folder):
    out = draft_folder / "导出" / "剪辑.otio"
    out.parent.mkdir()
    result = Assistant(Settings()).timeline(Draft.load(draft_folder), out, draft_dir=draft_folder,
                                            size=(W, H), fps=FPS)
    return result, otio.adapters.read_from_file(str(out))


def test_the_otio_round_trips_with_the_plans_clips_durations_and_media(draft_folder, exported):
    result, tl = exported
    planned, req = plan_of(draft_folder)
    plan = planned.timeline
    clips = picture_clips(tl)
    assert result.clips == len(clips) == len(plan.slots) == 5  # cover, 3 photos, the clip
    # durations: whole frames at the plan's fps, cut to cut, frame-exact
    for clip, slot in zip(clips, plan.slots):
        d = clip.source_range.duration
        assert (d.value, d.rate) == (slot.end - slot.start, FPS)
        assert clip.range_in_parent().start_time.value == slot.start
    assert tl.tracks[0].duration() == otio.opentime.RationalTime(plan.frames, FPS) == tl.duration()
    # the cuts are on the music's beats (the plan's grid), within half a frame
    beats = Draft.load(draft_folder).track.beats
    for clip in clips[1:]:
        t = clip.range_in_parent().start_time.to_seconds()
        assert min(abs(b - t) for b in beats) <= 0.5 / FPS
    # the original media by absolute path: the chosen cover, then the items in the draft's order
    paths = [otio.url_utils.filepath_from_url(c.media_reference.target_url) for c in clips]
    assert all(os.path.isabs(p) for p in paths)
    want = [draft_folder / "assets" / "封面.png"] + [draft_folder / "照片" / n for n in
                                                    ("coffee.jpg", "china.jpg", "游船.mp4", "flower.jpg")]
    assert [Path(p).resolve() for p in paths] == [w.resolve() for w in want]
    # the clip shows its best segment (the sharp first shot), from the plan's source time
    slot = plan.slots[3]
    clip = clips[3]
    assert clip.source_range.start_time.value == round(slot.source.start * FPS) + slot.lead
    assert clip.available_range().duration.to_seconds() == pytest.approx(4.0)
    # transitions centred on the cuts, their halves the plan's
    trans = [t for t in tl.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert [(t.name, t.in_offset.value, t.out_offset.value) for t in trans] == [
        (s.transition, s.lead, s.lead) for s in plan.slots if s.transition_frames]
    assert trans and trans[0].transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve  # "fade"


def test_the_music_is_on_an_audio_track_with_its_excerpt_and_fades(draft_folder, exported):
    _, tl = exported
    plan = plan_of(draft_folder)[0].timeline
    music = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio and t.name == "A1 music"]
    assert len(music) == 1
    [clip] = [c for c in music[0] if isinstance(c, otio.schema.Clip)]
    assert Path(otio.url_utils.filepath_from_url(clip.media_reference.target_url)).name == "音乐.wav"
    assert clip.source_range.start_time == otio.opentime.RationalTime(FPS * 1, FPS)  # the excerpt's start
    assert clip.source_range.duration.value == plan.frames
    meta = clip.metadata["creator"]
    assert meta["fade_in"] > 0 and meta["fade_out"] > 0 and meta["loudness_lufs"] == -14.0
    # the clip's own sound, ducking the music while it plays
    sound = [t for t in tl.tracks if t.name == "A2 clip sound"][0]
    [own] = [c for c in sound if isinstance(c, otio.schema.Clip)]
    assert own.range_in_parent() == picture_clips(tl)[3].range_in_parent()
    assert [list(w) for w in meta["ducked"]] == [[round(plan.slots[3].start / FPS, 4), round(plan.slots[3].end / FPS, 4)]]


def test_the_title_and_captions_are_markers_where_they_are_shown(exported):
    _, tl = exported
    marks = [(m.name, m.metadata["creator"]["role"], c.name) for c in picture_clips(tl) for m in c.markers]
    assert marks == [("杭州两日", "title", "封面.png"), ("第1天 · 杭州", "caption", "coffee.jpg"),
                     ("第2天 · 西湖", "caption", "游船.mp4")]
    for c in picture_clips(tl):
        for m in c.markers:  # in the clip's source time, inside what the clip shows
            assert c.source_range.start_time <= m.marked_range.start_time
            assert m.marked_range.end_time_exclusive() <= c.source_range.end_time_exclusive()


def test_the_timeline_cuts_are_the_renders_cuts(draft_folder, exported, tmp_path):
    _, tl = exported
    made = Assistant(Settings()).video(Draft.load(draft_folder), out=tmp_path / "对照.mp4", draft_dir=draft_folder,
                                       size=(W, H), fps=FPS)
    starts = [c.range_in_parent().start_time.to_seconds() for c in picture_clips(tl)[1:]]
    assert starts == pytest.approx(made.cuts, abs=1e-9)
    assert tl.duration().to_seconds() == pytest.approx(made.duration, abs=1e-9)


def test_fcpxml_and_edl_are_written_and_parse(draft_folder, exported):
    result, tl = exported
    plan = plan_of(draft_folder)[0].timeline
    assert set(result.extra) == {".fcpxml", ".edl"} and result.warnings == []
    edl = otio.adapters.read_from_file(result.extra[".edl"], adapter_name="cmx_3600", rate=FPS)
    shown = [c for c in edl.tracks[0] if isinstance(c, otio.schema.Clip) and c.duration().value > 0]
    assert [c.name for c in shown] == [c.name for c in picture_clips(tl)]
    assert edl.tracks[0].duration().value == plan.frames  # the same cut, frame for frame
    assert [m.name for c in shown for m in c.markers][:1] == ["杭州两日"]
    fcp = otio.adapters.read_from_file(result.extra[".fcpxml"], adapter_name="fcpx_xml")
    fcp_tl = fcp if isinstance(fcp, otio.schema.Timeline) else [t for t in fcp if isinstance(t, otio.schema.Timeline)][0]
    assert fcp_tl.duration().rescaled_to(FPS).value == pytest.approx(plan.frames)
    urls = {c.media_reference.target_url for c in fcp_tl.find_clips() if c.media_reference is not None}
    assert {Path(otio.url_utils.filepath_from_url(u)).name for u in urls} >= {"封面.png", "游船.mp4", "音乐.wav"}


def test_cli_timeline_relative_paths_resolve_from_the_file(draft_folder, capsys):
    parser = argparse.ArgumentParser(prog="creator")
    add_video_parser(parser.add_subparsers())
    out = draft_folder / "给剪辑" / "相对.otio"
    out.parent.mkdir()
    args = parser.parse_args(["video", str(draft_folder), "--timeline", str(out), "--relative",
                              "--size", "270x480", "--fps", "30"])
    assert args.func(args) == 0
    assert "5 clips" in capsys.readouterr().err
    assert not (draft_folder / "note.mp4").exists()  # nothing rendered
    tl = otio.adapters.read_from_file(str(out))
    for clip in picture_clips(tl):
        rel = otio.url_utils.filepath_from_url(clip.media_reference.target_url)
        assert not os.path.isabs(rel) and rel.startswith("../")
        assert (out.parent / rel).is_file()
    # the draft moved as a whole (media, timeline and all) still links
    assert "草稿" not in clip.media_reference.target_url
    # the .edl follows; the .fcpxml keeps absolute file URLs (Final Cut resolves no others)
    assert "../照片/coffee.jpg" in out.with_suffix(".edl").read_text(encoding="utf-8")
    fcp = otio.adapters.read_from_file(str(out.with_suffix(".fcpxml")), adapter_name="fcpx_xml")
    urls = {c.media_reference.target_url for c in fcp.find_clips()}
    assert urls and all(u.startswith("file:///") for u in urls)


def test_bad_output_and_missing_library_are_clear_errors(draft_folder, monkeypatch):
    draft = Draft.load(draft_folder)
    with pytest.raises(InputError, match=r"timeline: .*\.otio"):
        Assistant(Settings()).timeline(draft, draft_folder / "剪辑.xml", draft_dir=draft_folder)
    monkeypatch.setitem(sys.modules, "opentimelineio", None)  # as if the extra were not installed
    with pytest.raises(BackendUnavailable, match=r"travel-note-creator\[timeline\]"):
        Assistant(Settings()).timeline(draft, draft_folder / "剪辑.otio", draft_dir=draft_folder)
    assert not (draft_folder / "剪辑.otio").exists()
