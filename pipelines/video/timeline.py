"""The video plan as an OpenTimelineIO timeline, to finish the cut in an editor.

``export_timeline(request, out)`` plans the video exactly as the render does
(Pipeline.plan: the same cuts on the beat grid, segments, transitions, texts) and writes
it as ``out`` (.otio), plus, when their OpenTimelineIO adapter plugins are installed,
``out`` with ``.fcpxml`` (FCP X XML: Final Cut Pro, DaVinci Resolve) and ``.edl`` (CMX
3600: any editor) beside it. Nothing is rendered.

What the timeline holds (all times whole frames at the plan's fps):

- track "V1" (video): the cover, photos and clips in order, each a Clip whose
  ExternalReference names the user's original file (absolute path, or relative to the
  .otio file with ``relative``), its source_range the part shown between two cuts; the
  transitions as Transitions centred on the cuts (``SMPTE_Dissolve`` for fade/dissolve,
  else ``Custom`` named after the ffmpeg xfade), whose halves come from the clips'
  handles (available_range). The Ken Burns motion of a photo is clip metadata
  (``metadata["creator"]``), as no interchange format carries it.
- markers: the title and the per-moment captions, on the clip they are shown over (in
  its source time, as OTIO places clip markers), for the frames they are shown, with the
  safe area the text was placed in.
- track "A1 music" (audio): the music excerpt, its fades, the ducking windows and the
  loudness target as metadata (OTIO has no fade or gain type); "A2 clip sound": the
  clips' own sound under the same source ranges.

opentimelineio is an optional dependency (``pip install 'travel-note-creator[timeline]'``),
imported only here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from creator.config import VideoSettings
from creator.errors import BackendUnavailable

from .plan import Timeline
from .render import INTRO_ZOOM

__all__ = ["TimelineExport", "export_timeline", "build_otio", "FORMATS"]

# extra files written beside the .otio: suffix -> (OTIO adapter name, the plugin package)
FORMATS = {".fcpxml": ("fcpx_xml", "otio-fcpx-xml-adapter"), ".edl": ("cmx_3600", "otio-cmx3600-adapter")}
_DISSOLVES = {"fade", "dissolve"}


@dataclass
class TimelineExport:
    """What export_timeline wrote: ``path`` (.otio), ``extra`` {suffix: path} of the other
    formats, the number of picture clips, the duration (s) and the plan's warnings
    (including formats left out because their adapter is not installed)."""

    path: str
    clips: int
    duration: float
    extra: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _otio():
    try:
        import opentimelineio as otio
    except ImportError:
        raise BackendUnavailable(
            "timeline export needs OpenTimelineIO: pip install 'travel-note-creator[timeline]' "
            "(opentimelineio, otio-fcpx-xml-adapter, otio-cmx3600-adapter)") from None
    return otio


def build_otio(tl: Timeline, *, music: tuple[str, float, float] | None, settings: VideoSettings,
               title: str | None = None, base: Path | None = None, made_from: str | None = None):
    """The opentimelineio Timeline of a planned video. ``music`` is (path, excerpt start,
    seconds available) as Pipeline.plan gives it; ``base``: media paths relative to this
    folder (else absolute)."""
    otio = _otio()
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    fps = tl.fps

    def frames(n: int) -> object:
        return RT(n, fps)

    def url(path: str) -> str:
        p = os.path.abspath(path)
        if base is not None:
            p = os.path.relpath(p, os.path.abspath(base)).replace(os.sep, "/")
        return otio.url_utils.url_from_filepath(p)

    out = otio.schema.Timeline(name=title or "travel note")
    out.global_start_time = frames(0)
    out.metadata["creator"] = {"size": [tl.width, tl.height], "fps": fps, "frames": tl.frames,
                               "safe_area": list(tl.safe_box), "cuts": tl.cuts, "made_from": made_from}
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    sound = otio.schema.Track(name="A2 clip sound", kind=otio.schema.TrackKind.Audio)
    ducked: list[list[float]] = []
    placed = []  # (slot, its Clip, the source frame at its cut)
    for slot in tl.slots:
        it = slot.item
        path = it.origin or it.path
        own = slot.end - slot.start
        if slot.transition_frames:
            kind = (otio.schema.TransitionTypes.SMPTE_Dissolve if slot.transition in _DISSOLVES
                    else otio.schema.TransitionTypes.Custom)
            video.append(otio.schema.Transition(
                name=slot.transition, transition_type=kind, in_offset=frames(slot.lead),
                out_offset=frames(slot.lead), metadata={"creator": {"xfade": slot.transition}}))
        if it.kind == "clip":
            # the render starts the clip's stream ``lead`` frames before the cut
            first = round((slot.source.start if slot.source else 0.0) * fps) + slot.lead
            total = round(it.clip.duration * fps) if it.clip is not None else first + slot.frames_in
            available = TR(frames(0), frames(max(total, first + own)))
        else:  # a still: as long as the slot's stream, its handles included
            first = slot.lead
            available = TR(frames(0), frames(slot.frames_in))
        meta = {"kind": it.kind, "item_id": it.item_id, "motion": slot.motion, "direction": slot.direction,
                "aim": [round(a, 4) for a in it.aim], "width": it.width, "height": it.height}
        if it.kind == "photo":
            meta["zoom"] = settings.zoom
        elif it.kind == "cover":
            meta.update(zoom=INTRO_ZOOM, fit="whole inside the safe area, over a blurred copy")
        clip = otio.schema.Clip(
            name=Path(path).name,
            media_reference=otio.schema.ExternalReference(target_url=url(path), available_range=available),
            source_range=TR(frames(first), frames(own)),
            # EDL reel names are 8 ASCII characters: "AX" (a file source), found by the clip name
            metadata={"creator": meta, "cmx_3600": {"reel": "AX"}})
        video.append(clip)
        placed.append((slot, clip, first))
        if it.kind == "clip" and it.has_audio and settings.clip_audio:
            sound.append(otio.schema.Clip(
                name=Path(path).name,
                media_reference=otio.schema.ExternalReference(target_url=url(path), available_range=available),
                source_range=TR(frames(first), frames(own))))
            ducked.append([round(slot.start / fps, 4), round(slot.end / fps, 4)])
        else:
            sound.append(otio.schema.Gap(source_range=TR(frames(0), frames(own))))

    # the texts, as markers on the clip they are shown over (in its source time, as OTIO
    # wants clip markers; every adapter carries clip markers), for the frames they are on
    colours = {"title": otio.schema.MarkerColor.RED, "caption": otio.schema.MarkerColor.YELLOW}
    texts = [(ov.text, ov.role, round(ov.start * fps), round(ov.end * fps), False) for ov in tl.overlays]
    if title and tl.slots[0].item.kind == "cover":  # the cover carries the title, drawn on it
        texts.insert(0, (title, "title", 0, tl.slots[0].end, True))
    for text, role, a, b, on_cover in texts:
        slot, clip, first = next(((sl, c, f) for sl, c, f in placed if sl.start <= a < sl.end), placed[-1])
        b = min(b, slot.end)
        clip.markers.append(otio.schema.Marker(
            name=text, marked_range=TR(frames(first + a - slot.start), frames(max(1, b - a))),
            color=colours[role],
            metadata={"creator": {"role": role, "on_cover": on_cover, "start_frame": a, "end_frame": b,
                                  "safe_area": list(tl.safe_box)}}))
    out.tracks.append(video)

    music_track = otio.schema.Track(name="A1 music", kind=otio.schema.TrackKind.Audio)
    if music is not None:
        mpath, start, avail = music
        first = round(start * fps)
        n = min(tl.frames, int(avail * fps)) if avail else tl.frames
        music_track.append(otio.schema.Clip(
            name=Path(mpath).name,
            media_reference=otio.schema.ExternalReference(
                target_url=url(mpath), available_range=TR(frames(0), frames(first + n))),
            source_range=TR(frames(first), frames(n)),
            metadata={"creator": {"fade_in": settings.music_fade_in, "fade_out": settings.music_fade_out,
                                  "ducked": ducked, "duck_gain": settings.duck_gain,
                                  "loudness_lufs": settings.loudness}}))
        if n < tl.frames:
            music_track.append(otio.schema.Gap(source_range=TR(frames(0), frames(tl.frames - n))))
        out.tracks.append(music_track)
    if ducked:
        out.tracks.append(sound)
    return out


def _write(path: Path, text: str) -> None:
    from creator.drafts import atomic_write_text

    atomic_write_text(path, text)


def export_timeline(request, out: str | Path, *, settings: VideoSettings | None = None,
                    relative: bool = False) -> TimelineExport:
    """Plan ``request`` (a pipelines.video.VideoRequest) as the render would and write the
    timeline to ``out`` (.otio), and .fcpxml / .edl beside it when their adapters are
    installed. ``relative``: media paths relative to the folder of ``out`` (the .otio
    and the .edl; the .fcpxml keeps absolute file URLs, which Final Cut needs). Raises
    BackendUnavailable without opentimelineio, InputError for a bad ``out`` or request."""
    from .pipeline import Pipeline

    from creator.drafts import check_output_file

    out = check_output_file(out, field="timeline", suffix=".otio")  # InputError naming it
    otio = _otio()
    s = settings or VideoSettings()
    planned = Pipeline(s).plan(request)
    tl = planned.timeline
    base = out.parent if relative else None
    timeline = build_otio(tl, music=planned.music, settings=s, title=request.title, base=base,
                          made_from=planned.made_from)
    _write(out, otio.adapters.write_to_string(timeline, adapter_name="otio_json"))
    result = TimelineExport(path=str(out), clips=len(tl.slots), duration=tl.duration,
                            warnings=list(planned.warnings))
    known = set(otio.adapters.available_adapter_names())
    for suffix, (adapter, package) in FORMATS.items():
        if adapter not in known:
            result.warnings.append(f"{out.with_suffix(suffix).name}: not written ({package} is not installed)")
            continue
        # each writer gets its own copy (the EDL writer edits the tracks it is given)
        copy = timeline if suffix != ".fcpxml" or not relative else build_otio(
            tl, music=planned.music, settings=s, title=request.title, made_from=planned.made_from)
        text = otio.adapters.write_to_string(copy.deepcopy(), adapter_name=adapter)
        _write(out.with_suffix(suffix), text)
        result.extra[suffix] = str(out.with_suffix(suffix))
    return result
