"""The timeline: lengths, beat-snapped cuts, transitions, frame bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from creator.config import VideoSettings
from creator.types import ClipInfo, Shot
from pipelines.video.plan import PlanItem, plan_timeline, snap_grid

FPS = 30


def photos(n: int, w: int = 400, h: int = 600) -> list[PlanItem]:
    return [PlanItem(kind="photo", path=f"p{i}.jpg", width=w, height=h, item_id=f"p{i}") for i in range(n)]


def check_frames(tl) -> None:
    """Slots tile the timeline and the xfade chain adds up to exactly tl.frames."""
    assert tl.slots[0].start == 0 and tl.slots[-1].end == tl.frames
    for a, b in zip(tl.slots, tl.slots[1:]):
        assert a.end == b.start
        assert b.transition_frames % 2 == 0
    chained = sum(s.frames_in for s in tl.slots) - sum(s.transition_frames for s in tl.slots)
    assert chained == tl.frames
    for s in tl.slots:
        assert s.frames_in >= s.end - s.start


def test_cuts_fall_on_beats_within_half_a_frame():
    bpm = 97.0  # a period that is not a whole number of frames
    beats = list(np.arange(0, 40, 60 / bpm))
    tl = plan_timeline(photos(8), settings=VideoSettings(), size=(1080, 1920), fps=FPS, beats=beats,
                       excerpt_duration=40.0)
    check_frames(tl)
    assert len(tl.cuts) == 7
    for c in tl.cuts:
        assert min(abs(c - b) for b in beats) <= 0.5 / FPS + 1e-9
    # auto length: 8 photos x 2.5 s = 20 s, ended on a beat
    assert abs(tl.duration - 20) < 60 / bpm
    assert min(abs(tl.duration - b) for b in beats) <= 0.5 / FPS + 1e-9


def test_bars_snap_to_every_fourth_beat():
    beats = list(np.arange(0, 30, 0.5))
    tl = plan_timeline(photos(6), settings=VideoSettings(snap="bar"), size=(1080, 1920), fps=FPS,
                       beats=beats, excerpt_duration=30.0)
    for c in tl.cuts:
        assert abs(c / 2.0 - round(c / 2.0)) < 1e-9  # bars every 2 s at 120 bpm


def test_bars_snap_to_the_tracks_downbeats_when_known():
    beats = list(np.arange(0, 30, 0.5))
    downbeats = list(np.arange(0.5, 30, 1.5))  # a waltz: a bar every 3 beats, from 0.5 s
    tl = plan_timeline(photos(6), settings=VideoSettings(snap="bar"), size=(1080, 1920), fps=FPS,
                       beats=beats, downbeats=downbeats, excerpt_duration=30.0)
    assert tl.cuts
    for c in tl.cuts:
        assert min(abs(c - d) for d in downbeats) <= 0.5 / FPS + 1e-9


def test_given_length_is_exact_and_without_beats_cuts_are_even():
    tl = plan_timeline(photos(5), settings=VideoSettings(), size=(270, 480), fps=FPS, length=12.0)
    check_frames(tl)
    assert tl.frames == 360
    assert tl.cuts == pytest.approx([2.4, 4.8, 7.2, 9.6], abs=1 / FPS)


def test_length_is_clamped_to_the_excerpt_and_the_bounds():
    s = VideoSettings()
    short = plan_timeline(photos(2), settings=s, size=(270, 480), fps=FPS)
    assert short.duration == pytest.approx(s.min_length)
    long = plan_timeline(photos(40), settings=s, size=(270, 480), fps=FPS)
    assert long.duration == pytest.approx(s.max_length)
    music = plan_timeline(photos(12), settings=s, size=(270, 480), fps=FPS, excerpt_duration=18.0)
    assert music.duration == pytest.approx(18.0)


def test_too_many_items_drop_the_weakest_with_a_warning():
    items = photos(10)
    items[3].score = 0.01
    tl = plan_timeline(items, settings=VideoSettings(min_segment=1.0), size=(270, 480), fps=FPS, length=9.0)
    check_frames(tl)
    assert len(tl.slots) == 9
    assert "p3" not in [s.item.item_id for s in tl.slots]
    assert any("p3.jpg" in w for w in tl.warnings)
    assert all(s.end - s.start >= FPS for s in tl.slots)


def test_transitions_cycle_and_cut_means_none():
    tl = plan_timeline(photos(4), settings=VideoSettings(), size=(270, 480), fps=FPS, length=8.0,
                       transitions=["fade", "cut", "slideup"])
    assert [s.transition for s in tl.slots] == ["cut", "fade", "cut", "slideup"]
    assert [s.transition_frames for s in tl.slots] == [0, 12, 0, 12]
    check_frames(tl)
    with pytest.raises(ValueError, match="transitions"):
        plan_timeline(photos(2), settings=VideoSettings(), size=(270, 480), fps=FPS, transitions=["nope"])


def test_motion_follows_the_shape_of_the_photo():
    items = [PlanItem(kind="photo", path="wide.jpg", width=4000, height=3000),
             PlanItem(kind="photo", path="tall.jpg", width=3000, height=4000),
             PlanItem(kind="photo", path="tall2.jpg", width=3000, height=4000)]
    tl = plan_timeline(items, settings=VideoSettings(), size=(1080, 1920), fps=FPS, length=9)
    assert [s.motion for s in tl.slots] == ["pan_x", "zoom_out", "zoom_in"]
    land = plan_timeline(items[1:2], settings=VideoSettings(), size=(1920, 1080), fps=FPS, length=3)
    assert land.slots[0].motion == "pan_y"


def test_cover_opens_and_title_goes_on_the_first_photo_only_without_cover():
    cover = PlanItem(kind="cover", path="cover.png", width=1080, height=1920)
    items = photos(3)
    items[1].caption = "断桥残雪"
    with_cover = plan_timeline([cover] + items, settings=VideoSettings(), size=(1080, 1920), fps=FPS,
                               length=10, title="西湖")
    assert with_cover.slots[0].item.kind == "cover"
    assert with_cover.slots[0].motion == "zoom_in"
    assert [o.role for o in with_cover.overlays] == ["caption"]
    cap = with_cover.overlays[0]
    slot = with_cover.slots[2]
    assert slot.start / FPS < cap.start < cap.end < slot.end / FPS
    no_cover = plan_timeline(items, settings=VideoSettings(), size=(1080, 1920), fps=FPS, length=10, title="西湖")
    assert no_cover.overlays[0].role == "title" and no_cover.overlays[0].start == 0


def test_clip_slot_gets_its_best_segment_long_enough():
    info = ClipInfo(duration=10, fps=25, width=1920, height=1080, has_audio=True,
                    shots=[Shot(start=0, end=3, sharpness=0.2, motion=0.1),
                           Shot(start=3, end=10, sharpness=0.9, motion=0.15)])
    clip = PlanItem(kind="clip", path="c.mp4", width=1920, height=1080, clip=info, has_audio=True)
    tl = plan_timeline([photos(1)[0], clip, photos(1)[0]], settings=VideoSettings(), size=(1080, 1920),
                       fps=FPS, length=9)
    s = tl.slots[1]
    assert s.motion == "video"
    assert s.source is not None and s.source.start >= 3.0
    assert s.source.duration == pytest.approx(s.frames_in / FPS)


def test_snap_grid():
    assert snap_grid([0, 0.5, 1, 1.5, 2, 2.5], "bar") == [0, 2]
    assert snap_grid([1.0, 0.5], "beat") == [0.5, 1.0]
    assert snap_grid([0.5], "none") == []
