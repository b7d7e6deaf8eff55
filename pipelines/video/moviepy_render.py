"""The moviepy backend (``Settings.video.backend = "moviepy"``): the same plan, composed
as a moviepy 2.x ``CompositeVideoClip`` that an SDK user may add layers to and write.

What the plan says is what this shows, read from the plan and not re-decided: each
photo's motion is render.photo_motion (the crop box of every frame, as the filter graph's
zoompan and crop use it), each clip's segment is its ``Slot.source``, the transitions
are the plan's xfade names with xfade's own formulas (fade, fadeblack, slides, wipes,
circles, zoomin...), the title and captions are the PNGs of text.render_text placed by
the same safe-zone layout, and the music is the same excerpt, faded and ducked under the
clips' sound (audio.py's curve), loudness-normalised when written.

Speed: one ``VideoClip`` draws the whole picture track. A photo is decoded once (the one
photo loader) and scaled once, and each frame is a crop of it (a numpy slice for a pan,
one Pillow resize of the crop box for a zoom) instead of moviepy's per-frame resize of
the whole photo; a clip is decoded by ffmpeg already scaled (``target_resolution``). The
text layers blend only their own box into the frame. moviepy is imported here only.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from creator.config import VideoSettings
from creator.errors import BackendUnavailable, Cancelled, MediaError
from creator.media import open_photo

from .audio import DUCK_RAMP, RATE
from .plan import Planned, Slot, Timeline
from .render import photo_motion
from .text import TextImage

__all__ = ["require_moviepy", "compose", "video_clip", "render", "release", "xfade", "duck_gain"]

INSTALL = "pip install '.[moviepy]'"


def require_moviepy():
    """The moviepy module; BackendUnavailable (how to install it) when it is missing."""
    try:
        import moviepy
    except ImportError as e:
        raise BackendUnavailable(f"video backend 'moviepy': moviepy is not installed ({INSTALL}, "
                                 "or pip install 'travel-note-creator[moviepy]')") from e
    return moviepy


# --- transitions: xfade's formulas, on RGB frames -------------------------------------------

def _smoothstep(e0: float, e1: float, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


_NOISE: dict[tuple[int, int], np.ndarray] = {}


def _noise(w: int, h: int) -> np.ndarray:
    if (w, h) not in _NOISE:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.sin(x * np.float32(12.9898) + y * np.float32(78.233)) * np.float32(43758.545)
        _NOISE[(w, h)] = r - np.floor(r)
    return _NOISE[(w, h)]


_DIST: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _polar(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the centre (over xfade's z) and xfade's angle, per pixel."""
    if (w, h) not in _DIST:
        y, x = np.ogrid[0:h, 0:w]
        dx, dy = (x - w // 2).astype(np.float32), (y - h // 2).astype(np.float32)
        _DIST[(w, h)] = (np.hypot(dx, dy) / np.float32(math.hypot(w // 2, h // 2)), np.arctan2(dx, dy))
    return _DIST[(w, h)]


def _weighted(a: np.ndarray, b: np.ndarray, wa: float, wb: float, c: float = 0.0) -> np.ndarray:
    """a * wa + b * wb + c, per pixel (Pillow's blend and a lookup table: no float frames)."""
    total = wa + wb
    if total <= 1e-6:
        return np.full_like(a, int(np.clip(c + 0.5, 0, 255)))
    img = Image.blend(Image.fromarray(a), Image.fromarray(b), wb / total)
    if abs(total - 1) > 1e-6 or c:
        lut = [int(np.clip(v * total + c + 0.5, 0, 255)) for v in range(256)]
        img = img.point(lut * 3)
    return np.asarray(img)


def _masked(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """a * s + b * (1 - s), ``s`` per pixel in 0..1 (xfade's mix(a, b, s))."""
    mask = Image.fromarray((s * 255 + 0.5).astype(np.uint8), "L")
    return np.asarray(Image.composite(Image.fromarray(a), Image.fromarray(b), mask))


# xfade's black and white in the graph's limited-range YUV (Y 0 and 255, below and above
# the picture's 16..235), as RGB: a fade through black is darker than through RGB 0
TV_BLACK, TV_WHITE = -16 * 255 / 219, (255 - 16) * 255 / 219


def xfade(name: str, a: np.ndarray, b: np.ndarray, progress: float, *, black: float = 0.0,
          white: float = 255.0) -> np.ndarray:
    """Frame ``a`` (the outgoing shot) into ``b`` with ffmpeg xfade's transition ``name``
    at xfade's ``progress`` (1 at the first frame of the transition, falling to 0).
    ``black``/``white``: fadeblack's and fadewhite's colour, as RGB (xfade on RGB frames:
    0, 255; on the filter graph's limited-range YUV: TV_BLACK, TV_WHITE)."""
    P = float(progress)
    H, W = a.shape[:2]
    if name in ("wipeleft", "wiperight", "wipeup", "wipedown", "slideleft", "slideright", "slideup",
                "slidedown", "coverleft", "coverright", "coverup", "coverdown", "revealleft", "revealright",
                "revealup", "revealdown"):
        horizontal = name.endswith(("left", "right"))
        n = W if horizontal else H
        idx = np.arange(n)
        if name.startswith("wipe"):
            if name in ("wipeleft", "wipeup"):
                take_b = idx > int(n * P)
            else:
                take_b = ~(idx > int(n * (1 - P)))
            src_a = src_b = idx
        else:
            z = int((-P if name.endswith(("left", "up")) else P) * n)
            zx = z + idx
            zz = zx % n
            take_b = (zx >= 0) & (zx < n)
            # slide: both move; cover: b moves over a; reveal: a moves off b
            src_a = zz if name.startswith(("slide", "reveal")) else idx
            src_b = zz if name.startswith(("slide", "cover")) else idx
        if horizontal:
            out = a[:, src_a]
            out[:, take_b] = b[:, src_b[take_b]]
        else:
            out = a[src_a]
            out[take_b] = b[src_b[take_b]]
        return out
    if name in ("fadeblack", "fadewhite"):
        # mix(mix(a, bg, s1), mix(bg, b, s2), P) = a*s1*P + b*(1-s2)*(1-P) + bg*((1-s1)*P + s2*(1-P))
        bg = black if name == "fadeblack" else white
        s1, s2 = float(_smoothstep(0.8, 1.0, P)), float(_smoothstep(0.2, 1.0, P))
        return _weighted(a, b, s1 * P, (1 - s2) * (1 - P), bg * ((1 - s1) * P + s2 * (1 - P)))
    if name == "dissolve":
        keep_a = _noise(W, H) * 2 + P * 2 - 1.5 >= 0.5
        return np.where(keep_a[..., None], a, b)
    if name in ("smoothleft", "smoothright", "smoothup", "smoothdown"):
        if name in ("smoothleft", "smoothright"):
            x = np.arange(W, dtype=np.float32)
            pos = (x if name == "smoothleft" else W - 1 - x) / W
            s = np.broadcast_to(_smoothstep(0.0, 1.0, 1.0 + pos - 2 * P)[None, :], (H, W))
        else:
            y = np.arange(H, dtype=np.float32)
            pos = (y if name == "smoothup" else H - 1 - y) / H
            s = np.broadcast_to(_smoothstep(0.0, 1.0, 1.0 + pos - 2 * P)[:, None], (H, W))
        return _masked(b, a, s)
    if name in ("circleopen", "circleclose", "radial"):
        dist, angle = _polar(W, H)
        if name == "radial":
            return _masked(b, a, _smoothstep(0.0, 1.0, angle - (P - 0.5) * (math.pi * 2.5)))
        p = ((P if name == "circleopen" else 1 - P) - 0.5) * 3
        s = _smoothstep(0.0, 1.0, dist + p)
        return _masked(a, b, s) if name == "circleopen" else _masked(b, a, s)
    if name == "zoomin":
        zf = float(_smoothstep(0.5, 1.0, P))
        u = 0.5 + (np.arange(W, dtype=np.float32) / W - 0.5) * zf
        v = 0.5 + (np.arange(H, dtype=np.float32) / H - 0.5) * zf
        iu = np.clip(np.ceil(u * (W - 1)).astype(int), 0, W - 1)
        iv = np.clip(np.ceil(v * (H - 1)).astype(int), 0, H - 1)
        m = float(_smoothstep(0.0, 0.5, P))
        return _weighted(a[iv][:, iu], b, m, 1 - m)
    # "fade", and any name the plan allows that has no formula here
    return _weighted(a, b, P, 1 - P)


# --- the picture track ----------------------------------------------------------------------

class _Photo:
    """A photo slot: decoded and scaled once; frame k is its motion's box of frame k."""

    def __init__(self, slot: Slot, tl: Timeline, settings: VideoSettings, image: Image.Image | None):
        self.motion = m = photo_motion(slot, tl, settings)
        it = slot.item
        if image is None:
            image = open_photo(it.origin or it.path, max_side=max(m.size))
        scaled = image.convert("RGB").resize(m.size, Image.Resampling.BICUBIC)
        W, H = tl.width, tl.height
        if m.kind == "zoom":
            cx, cy = m.crop
            self.image = scaled.crop((cx, cy, cx + W, cy + H))
            self.array = None
        else:
            self.image = None
            self.array = np.asarray(scaled)

    def frame(self, k: int) -> np.ndarray:
        m = self.motion
        W, H = m.frame
        x, y, w, h = m.box(k)
        if self.image is not None:
            x, y = x - m.crop[0], y - m.crop[1]
            return np.asarray(self.image.resize((W, H), Image.Resampling.BILINEAR, box=(x, y, x + w, y + h)))
        return self.array[y:y + H, x:x + W]

    def close(self) -> None:
        pass


_DARKER = [max(0, v - 36) for v in range(256)] * 3


class _Clip:
    """A clip slot: its segment (Slot.source), decoded by ffmpeg at the size it is shown,
    the last frame held where the clip ends early; a clip of another shape whole over a
    blurred, darkened copy of itself, as the filter graph shows it."""

    def __init__(self, slot: Slot, tl: Timeline):
        from moviepy import VideoFileClip

        it, W, H = slot.item, tl.width, tl.height
        self.W, self.H, self.fps = W, H, tl.fps
        ratio = (it.width / it.height) / (W / H)
        self.fill = 0.77 <= ratio <= 1.3
        s = max(W / it.width, H / it.height) if self.fill else min(W / it.width, H / it.height)
        size = (max(W, round(it.width * s)), max(H, round(it.height * s))) if self.fill else \
            (min(W, round(it.width * s)), min(H, round(it.height * s)))
        try:
            self.clip = VideoFileClip(it.path, audio=False, target_resolution=size)
        except (OSError, IOError) as e:
            raise MediaError(f"{Path(it.origin or it.path).name}: moviepy cannot read it ({e})") from e
        self.start = slot.source.start if slot.source else 0.0
        self.last = max(0.0, (self.clip.duration or 0.0) - 1.5 / (self.clip.fps or tl.fps))
        self.bw, self.bh = max(2, round(W / 16) * 2), max(2, round(H / 16) * 2)
        self.blur = max(0, min(6, min(self.bw, self.bh) // 4 - 1))

    def frame(self, k: int) -> np.ndarray:
        f = self.clip.get_frame(min(self.start + k / self.fps, self.last))
        W, H = self.W, self.H
        if self.fill:
            y, x = (f.shape[0] - H) // 2, (f.shape[1] - W) // 2
            return f[y:y + H, x:x + W]
        small = ImageOps.fit(Image.fromarray(f), (self.bw, self.bh), Image.Resampling.BILINEAR)
        for _ in range(2):  # boxblur's default power: twice
            small = small.filter(ImageFilter.BoxBlur(self.blur))
        small = small.point(_DARKER)  # eq=brightness=-0.12
        out = np.array(small.resize((W, H), Image.Resampling.BILINEAR))
        y, x = (H - f.shape[0]) // 2, (W - f.shape[1]) // 2
        out[y:y + f.shape[0], x:x + f.shape[1]] = f
        return out

    def close(self) -> None:
        self.clip.close()


class _Picture:
    """Frame f of the video: the slot (or the two slots of a transition) on screen then.
    Sources are made when first needed and the oldest dropped (at most ``keep`` open), so
    memory holds a few decoded photos, not all of them."""

    def __init__(self, tl: Timeline, settings: VideoSettings, images: dict[int, Image.Image],
                 cancel: threading.Event | None = None, keep: int = 3):
        self.tl, self.settings, self.images, self.cancel, self.keep = tl, settings, images, cancel, keep
        self.sources: OrderedDict[int, Any] = OrderedDict()
        slots = tl.slots
        self.first = [s.start - s.lead for s in slots]  # the output frame of each slot's frame 0
        self.last_frame: tuple[int, np.ndarray] | None = None

    def _source(self, i: int):
        src = self.sources.get(i)
        if src is None:
            slot = self.tl.slots[i]
            src = _Clip(slot, self.tl) if slot.item.kind == "clip" else \
                _Photo(slot, self.tl, self.settings, self.images.get(i))
            self.sources[i] = src
            while len(self.sources) > self.keep:
                _, old = self.sources.popitem(last=False)
                old.close()
        else:
            self.sources.move_to_end(i)
        return src

    def _slot_frame(self, i: int, k: int) -> np.ndarray:
        k = min(max(k, 0), self.tl.slots[i].frames_in - 1)
        return self._source(i).frame(k)

    def __call__(self, t: float) -> np.ndarray:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("render cancelled")
        tl = self.tl
        f = min(max(int(round(t * tl.fps)), 0), tl.frames - 1)
        if self.last_frame is not None and self.last_frame[0] == f:
            return self.last_frame[1]
        i = max(0, np.searchsorted(self.first, f, side="right") - 1)
        slot = tl.slots[i]
        j = f - self.first[i]
        if i > 0 and slot.transition_frames and j < slot.transition_frames:
            a = self._slot_frame(i - 1, f - self.first[i - 1])
            b = self._slot_frame(i, j)
            out = xfade(slot.transition, a, b, 1.0 - j / slot.transition_frames, black=TV_BLACK, white=TV_WHITE)
        else:
            out = np.ascontiguousarray(self._slot_frame(i, j))
        self.last_frame = (f, out)
        return out

    def close(self) -> None:
        while self.sources:
            self.sources.popitem()[1].close()


# --- text layers -------------------------------------------------------------------------------

def _text_layer_class():
    from moviepy import ImageClip
    from moviepy.tools import compute_position

    class TextLayer(ImageClip):
        """A title or caption (an RGBA picture) that blends only its own box into the
        frame below (moviepy's own compose_on blends a whole-frame canvas)."""

        def compose_on(self, background: Image.Image, t) -> Image.Image:
            ct = t - self.start
            img = Image.fromarray(self.get_frame(ct).astype("uint8")).convert("RGBA")
            if self.mask is not None:
                img.putalpha(Image.fromarray((self.mask.get_frame(ct) * 255).astype("uint8")).convert("L"))
            x, y = (int(v) for v in compute_position(img.size, background.size, self.pos(ct), self.relative_pos))
            box = (max(x, 0), max(y, 0), min(x + img.width, background.width), min(y + img.height, background.height))
            if box[0] >= box[2] or box[1] >= box[3]:
                return background
            region = background.crop(box).convert("RGBA")
            region.alpha_composite(img, source=(box[0] - x, box[1] - y))
            background.paste(region if background.mode == "RGBA" else region.convert(background.mode), box[:2])
            return background

    return TextLayer


def _composite_class():
    from moviepy import CompositeVideoClip

    class Composite(CompositeVideoClip):
        """moviepy's CompositeVideoClip, which hands on its background's frame as it is
        when no layer is on screen (moviepy's own converts it to a Pillow image and back)."""

        def frame_function(self, t):
            if not self.is_mask and not self.created_bg and self.bg.mask is None and not self.playing_clips(t):
                return self.bg.get_frame(t - self.bg.start)
            return super().frame_function(t)

        def close(self):
            """Also close what the composition opened: the clips' readers, the sound's."""
            release(self)
            super().close()

    return Composite


# --- sound ---------------------------------------------------------------------------------------

def duck_gain(t, windows: list[tuple[float, float]], gain: float, ramp: float = DUCK_RAMP):
    """audio.duck_expression's curve as numbers: 1 outside the windows, ``gain`` inside,
    with ``ramp``-second slopes; ``t`` a number or an array of seconds."""
    t = np.asarray(t, dtype=np.float64)
    depth = np.zeros_like(t)
    for a, b in windows:
        depth = np.maximum(depth, np.clip(np.minimum((t - (a - ramp)) / ramp, ((b + ramp) - t) / ramp), 0, 1))
    return 1 - (1 - gain) * depth


def _sound(planned: Planned, settings: VideoSettings):
    """The audio: the music excerpt faded (and ducked under the clips' sound) plus each
    clip's sound at its place, with the filter graph's timings (audio.audio_filters);
    silence when there is neither."""
    from moviepy import AudioClip, AudioFileClip, CompositeAudioClip
    from moviepy.audio.fx import AudioFadeIn, AudioFadeOut

    tl = planned.timeline
    fps, length = tl.fps, tl.frames / tl.fps
    parts = []
    windows = []
    if settings.clip_audio:
        for slot in tl.slots:
            if slot.item.kind != "clip" or not slot.item.has_audio:
                continue
            start = slot.source.start if slot.source else 0.0
            nxt = tl.slots[slot.index + 1] if slot.index + 1 < len(tl.slots) else None
            dur = slot.frames_in / fps
            fade_in = max(0.02, max(0.05, slot.transition_frames / fps))
            fade_out = max(0.02, max(0.05, (nxt.transition_frames / fps) if nxt else 0.2))
            src = AudioFileClip(slot.item.path, fps=RATE)
            end = min(start + dur, src.duration)
            if end - start <= 0.05:
                continue
            dur = end - start
            at = (slot.start - slot.lead) / fps
            parts.append(src.subclipped(start, end)
                         .with_effects([AudioFadeIn(min(fade_in, dur / 2)), AudioFadeOut(min(fade_out, dur / 2))])
                         .with_start(at))
            windows.append((at, at + slot.frames_in / fps))
    if planned.music is not None:
        path, mstart, available = planned.music
        end = min(length, available or length)
        fo = min(settings.music_fade_out, end / 3)
        fi = min(settings.music_fade_in, end / 3)
        music = AudioFileClip(path, fps=RATE)
        music = music.subclipped(mstart, min(mstart + end, music.duration))
        effects = ([AudioFadeIn(fi)] if fi > 0 else []) + ([AudioFadeOut(fo)] if fo > 0 else [])
        music = music.with_effects(effects) if effects else music
        if windows:
            g = settings.duck_gain
            music = music.transform(lambda get, t: get(t) * (duck_gain(t, windows, g)[..., None]
                                                          if np.ndim(t) else duck_gain(t, windows, g)),
                                    keep_duration=True)
        parts.insert(0, music.with_start(0))
    if not parts:
        return AudioClip(lambda t: np.zeros((len(t), 2)) if np.ndim(t) else np.zeros(2), duration=length,
                         fps=RATE), []
    return CompositeAudioClip(parts).with_duration(length).with_fps(RATE), parts


# --- the composition -----------------------------------------------------------------------------

def compose(planned: Planned, texts: list[tuple[TextImage, float, float]], settings: VideoSettings,
            cancel: threading.Event | None = None):
    """The plan as a moviepy ``CompositeVideoClip``: the picture track (one VideoClip) with
    the title and captions as layers over it, and the sound. Everything it reads later is
    in memory or the user's own files: the caller's work folder may go."""
    require_moviepy()
    from moviepy import VideoClip

    tl = planned.timeline
    fps = tl.fps
    duration = tl.frames / fps
    while int(duration * fps) < tl.frames:  # moviepy counts int(duration * fps) frames
        duration = math.nextafter(duration, math.inf)
    # the fitted cover (and anything else the plan made in the work folder) is read now
    images = {s.index: open_photo(s.item.path, max_side=None) for s in tl.slots if s.item.kind == "cover"}
    picture = _Picture(tl, settings, images, cancel)
    base = VideoClip(frame_function=picture, duration=duration).with_fps(fps)
    base.picture = picture  # its sources: release() closes them
    TextLayer = _text_layer_class()
    layers = []
    for img, a, b in texts:
        with Image.open(img.path) as im:
            rgba = np.asarray(im.convert("RGBA"))
        # the graph shows a text on frames with a <= t <= b
        layers.append(TextLayer(rgba).with_start(a).with_duration(b - a + 0.5 / fps).with_position((img.x, img.y)))
    Composite = _composite_class()
    if layers:
        comp = Composite([base, *layers], size=(tl.width, tl.height), use_bgclip=True)
    else:
        comp = Composite([base], size=(tl.width, tl.height), bg_color=(0, 0, 0))
    audio, parts = _sound(planned, settings)
    comp = comp.with_duration(duration).with_fps(fps).with_audio(audio)
    comp.sound_parts = parts  # their readers: close() closes them
    return comp


def video_clip(pipeline, request):
    """A VideoRequest composed as a moviepy ``CompositeVideoClip`` by ``pipeline``
    (pipeline.Pipeline: its settings, its plan), whatever ``settings.backend`` says, to
    add layers to and write. The plan's temporary files (the fitted cover, the text PNGs)
    are made in a work folder beside ``request.output`` and gone when it returns: the
    clip holds what it needs. BackendUnavailable without moviepy."""
    from creator.errors import InputError
    from creator.media.ffmpeg import work_folder

    require_moviepy()
    folder = Path(request.output).parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        work = work_folder(folder)
    except OSError as e:
        raise InputError(f"output: cannot write in {folder} ({e.strerror or e})") from e
    with work as tmp_name:
        tmp = Path(tmp_name)
        planned = pipeline.plan(request, tmp)
        return compose(planned, pipeline.texts(planned.timeline, tmp, request.style), pipeline.settings,
                       request.cancel)


def _logger(progress: Callable[[float], None] | None, cancel: threading.Event | None, frames: int):
    import proglog

    class Progress(proglog.ProgressBarLogger):
        def bars_callback(self, bar, attr, value, old_value=None):
            if cancel is not None and cancel.is_set():
                raise Cancelled("render cancelled")
            if progress is not None and bar == "frame_index" and attr == "index" and frames:
                progress(min(0.99, (value + 1) / frames))

    return Progress()


def render(planned: Planned, texts: list[tuple[TextImage, float, float]], *, settings: VideoSettings,
           output: Path, work: Path, progress: Callable[[float], None] | None = None,
           cancel: threading.Event | None = None) -> None:
    """Write the plan to ``output`` (the caller's temporary name; it renames it) with
    moviepy: libx264 at the settings' preset and crf, BT.709 limited range as the filter
    graph writes it, AAC at 48 kHz loudness-normalised (EBU R128, loudnorm) like it.
    Raises Cancelled or MediaError."""
    report = progress or (lambda f: None)
    comp = compose(planned, texts, settings, cancel)
    tl = planned.timeline
    length = tl.frames / tl.fps
    try:
        sound = work / "sound.m4a"
        # loudnorm needs 3 s and some sound (see audio.audio_filters)
        norm = (f"loudnorm=I={settings.loudness}:TP=-1.5:LRA=11,aresample={RATE},"
                if comp.sound_parts and length >= 3.0 else "")
        try:
            comp.audio.write_audiofile(str(sound), fps=RATE, codec="aac", bitrate=settings.audio_bitrate,
                                       ffmpeg_params=["-af", f"{norm}apad,atrim=0:{length:.4f}"], logger=None)
        except (OSError, IOError) as e:
            raise MediaError(f"moviepy failed to write the sound: {str(e).strip()[-500:]}") from e
        if cancel is not None and cancel.is_set():
            raise Cancelled("render cancelled")
        report(0.03)
        params = ["-crf", str(settings.crf),
                  "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
                  "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                  "-color_range", "tv", "-frames:v", str(tl.frames), "-t", f"{length:.4f}",
                  "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4"]
        try:
            comp.write_videofile(str(output), fps=tl.fps, codec="libx264", audio=str(sound),
                                 preset=settings.preset, ffmpeg_params=params,
                                 logger=_logger(lambda f: report(0.03 + 0.97 * f), cancel, tl.frames))
        except (OSError, IOError) as e:
            raise MediaError(f"moviepy failed to write the video: {str(e).strip()[-800:]}") from e
    finally:
        comp.close()
        with contextlib.suppress(OSError):
            os.unlink(work / "sound.m4a")


def release(comp) -> None:
    """Close what a composed clip holds open (its clips' ffmpeg readers, its sound's)."""
    for clip in [getattr(comp, "bg", None), *getattr(comp, "clips", [])]:
        picture = getattr(clip, "picture", None)
        if picture is not None:
            picture.close()
    for part in getattr(comp, "sound_parts", []):
        part.close()

