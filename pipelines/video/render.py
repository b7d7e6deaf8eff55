"""The render: one ffmpeg process, one filter graph, from the timeline to an MP4.

Per slot: a photo is decoded and scaled once, cropped to the frame's shape around its
subject, then moved by ``zoompan`` (zoom toward or away from the subject) or by a
``crop`` whose position is an expression of the frame number (a pan across a photo of
another shape); a clip is seeked, scaled and trimmed to its best segment. Every picture
is converted to BT.709 limited range in the scale it goes through anyway (a clip from
the matrix and range it is read with: unlabelled is BT.601, as ffmpeg reads it). Slots are
joined by one ``concat``, the frames of each transition blended by ``xfade``, text PNGs are overlaid for their
seconds, the audio graph from audio.py is added, and libx264/AAC write a faststart MP4.
The MP4 carries no metadata of its inputs (a clip's GPS ``location``, title, comment,
chapters): only what the render itself writes (the encoder's name, the colour tags).

No Python touches a frame: the only per-frame work is ffmpeg's.
"""

from __future__ import annotations

import math
import queue
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from creator.config import VideoSettings
from creator.errors import Cancelled, MediaError
from creator.media import open_photo, photo_meta
from creator.media.ffmpeg import TO_SDR, ffmpeg_exe, input_arg, run_ffmpeg, spawn

from .audio import ClipSound, audio_filters
from .plan import Slot, Timeline, safe_margin
from .text import TextImage

__all__ = ["probe_audio", "fit_cover", "cover_box", "build_command", "run_render", "PhotoMotion",
           "photo_motion"]

PAN_SPEED = 0.35  # the fastest pan, in frame widths per second
INTRO_ZOOM = 1.04  # the cover's own slow push-in


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_audio(path: str | Path) -> tuple[float | None, bool]:
    """(duration in s or None, has an audio stream) of a music file, from ``ffmpeg -i``.

    Raises MediaError when ffmpeg cannot open it. (creator.media.ffmpeg.probe is for
    clips: it insists on a video stream.)
    """
    err = run_ffmpeg(["-i", input_arg(path)], check=False).stderr
    if "Stream #" not in err:
        last = err.strip().splitlines()[-1] if err.strip() else "no output"
        raise MediaError(f"{Path(path).name}: ffmpeg cannot read it ({last})")
    m = _DURATION.search(err)
    duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None
    return duration, ": Audio:" in err


def cover_box(size: tuple[int, int], area: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """Where the whole cover goes in the frame: the safe ``area`` less the text margin
    (plan.safe_margin), shrunk around its centre by the intro's push-in (INTRO_ZOOM,
    centred there too), so that everything drawn on the cover (its title) stays in the
    safe area on every frame of the intro. The whole frame when ``area`` is None or the
    whole frame."""
    w, h = size
    if area is None or tuple(area) == (0, 0, w, h):
        return (0, 0, w, h)
    m = safe_margin(size)
    x0, y0, x1, y1 = area[0] + m, area[1] + m, area[2] - m, area[3] - m
    bw, bh = math.floor((x1 - x0) / INTRO_ZOOM), math.floor((y1 - y0) / INTRO_ZOOM)
    bx, by = x0 + math.ceil((x1 - x0 - bw) / 2), y0 + math.ceil((y1 - y0 - bh) / 2)
    return (bx, by, bx + bw, by + bh)


def fit_cover(src: str | Path, dst: Path, size: tuple[int, int],
              area: tuple[int, int, int, int] | None = None) -> Path:
    """The cover as a full frame (a PNG at ``dst``).

    Without safe zones (``area`` None or the whole frame): scaled to fill when its shape
    is close to the frame's, otherwise fitted whole over a blurred, darkened copy of
    itself. With a safe ``area``: always whole, inside cover_box(size, area), over the
    blurred copy filling the frame; nothing of the cover is cropped or under the feed's
    buttons.

    Read with the one photo loader at the size the frame needs; raises MediaError
    (naming the file) when it cannot be read or is over the decode budget."""
    w, h = size
    bx0, by0, bx1, by1 = box = cover_box(size, area)  # the intro zooms around its centre
    bw, bh = bx1 - bx0, by1 - by0
    meta = photo_meta(src)  # the header: how large to decode it
    iw, ih = meta["width"], meta["height"]
    fill = box == (0, 0, w, h) and 0.92 <= (iw / ih) / (w / h) <= 1.087
    scale = max(w / iw, h / ih) if fill else min(bw / iw, bh / ih)
    scale = max(scale, w / iw / 8, h / ih / 8)  # the blurred fill is made at 1/8 of the frame
    im = open_photo(src, max_side=None if scale >= 1 else math.ceil(max(iw, ih) * scale) + 2)
    if fill:
        out = ImageOps.fit(im, (w, h), Image.Resampling.LANCZOS)
    else:
        small = ImageOps.fit(im, (max(1, w // 8), max(1, h // 8)), Image.Resampling.BILINEAR)
        bg = small.filter(ImageFilter.GaussianBlur(6)).resize((w, h), Image.Resampling.BILINEAR)
        bg = Image.eval(bg, lambda v: int(v * 0.6))
        fg = ImageOps.contain(im, (bw, bh), Image.Resampling.LANCZOS)
        px, py = bx0 + (bw - fg.width) // 2, by0 + (bh - fg.height) // 2
        bg.paste(fg, (px, py))
        out = bg
    dst.parent.mkdir(parents=True, exist_ok=True)
    out.save(dst, format="PNG", compress_level=1)
    return dst


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


@dataclass
class _Graph:
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)

    def add_input(self, args: list[str]) -> int:
        self.inputs.append(args)
        return len(self.inputs) - 1


def _cover_crop(iw: int, ih: int, cw: int, ch: int, aim: tuple[float, float]) -> tuple[int, int, int, int]:
    """Scale (sw, sh) so the picture covers (cw, ch), and the crop offset around ``aim``."""
    s = max(cw / iw, ch / ih)
    sw, sh = max(cw, math.ceil(iw * s)), max(ch, math.ceil(ih * s))
    sw += sw % 2
    sh += sh % 2
    x = min(max(aim[0] * sw - cw / 2, 0), sw - cw)
    y = min(max(aim[1] * sh - ch / 2, 0), sh - ch)
    return sw, sh, int(x) // 2 * 2, int(y) // 2 * 2


# what every picture is converted to where it is first scaled: BT.709, limited range, the
# output's labels. The input side is scale's own "auto": the frame's matrix and range as the
# decoder reports them (an unlabelled clip is BT.601, as ffmpeg reads it everywhere else; a
# "yuvj"/pc clip is full range), so each clip is converted once, in the scale it goes
# through anyway.
_TO_BT709 = "out_range=tv:out_color_matrix=bt709"


def _tail(fps: int) -> str:
    # the same timebase, frame numbering and pixel format on every slot, as xfade requires
    return f"settb=1/{fps},setpts=N,setsar=1,format=yuv420p"


@dataclass(frozen=True)
class PhotoMotion:
    """How a photo slot moves, for every renderer of the plan (this filter graph and
    moviepy_render): the photo is scaled once to ``size``; ``crop`` (x, y) is the
    frame-shaped part of it a zoom works in (0, 0 for a pan); ``box(k)`` is the part of
    the scaled photo shown on the slot's frame ``k``, as (x, y, w, h), scaled to the frame."""

    kind: str  # "zoom", "pan_x" or "pan_y"
    frame: tuple[int, int]
    frames: int
    size: tuple[int, int]
    crop: tuple[int, int] = (0, 0)
    zoom: tuple[float, float] = (1.0, 1.0)  # first and last frame's zoom
    aim: tuple[float, float] = (0.5, 0.5)  # where a zoom heads, in the crop (fractions)
    pan: tuple[float, float] = (0.0, 0.0)  # first and last frame's position along the pan
    fixed: int = 0  # the other coordinate of a pan

    def box(self, k: int) -> tuple[int, int, int, int]:
        """Whole pixels, as the graph's filters place it: zoompan truncates its crop's
        size and position (then to even, the chroma grid), crop rounds its position
        (then to even)."""
        W, H = self.frame
        u = k / max(1, self.frames - 1)
        if self.kind == "zoom":
            z = min(max(self.zoom[0] + (self.zoom[1] - self.zoom[0]) * u, 1.0), 10.0)
            w, h = int(W / z), int(H / z)
            x = int(min(max((W - W / z) * self.aim[0], 0), max(W - w, 0))) // 2 * 2
            y = int(min(max((H - H / z) * self.aim[1], 0), max(H - h, 0))) // 2 * 2
            return (self.crop[0] + x, self.crop[1] + y, w, h)
        pos = round(self.pan[0] + (self.pan[1] - self.pan[0]) * u) // 2 * 2
        return (pos, self.fixed, W, H) if self.kind == "pan_x" else (self.fixed, pos, W, H)


def photo_motion(slot: Slot, tl: Timeline, settings: VideoSettings) -> PhotoMotion:
    """The motion of a photo (or cover) slot: a pan across a photo of another shape
    (PAN_SPEED at most), else a zoom toward (or away from) its subject (the cover: its
    own slow push-in, INTRO_ZOOM)."""
    W, H, fps, n = tl.width, tl.height, tl.fps, slot.frames_in
    it = slot.item
    if slot.motion in ("pan_x", "pan_y"):
        horizontal = slot.motion == "pan_x"
        s = H / it.height if horizontal else W / it.width
        sw, sh = _even(max(W, it.width * s)), _even(max(H, it.height * s))
        excess = (sw - W) if horizontal else (sh - H)
        span = min(excess, PAN_SPEED * W * n / fps)
        centre = (it.aim[0] * sw - W / 2) if horizontal else (it.aim[1] * sh - H / 2)
        a = min(max(centre - slot.direction * span / 2, 0), excess)
        b = min(max(a + slot.direction * span, 0), excess)
        fixed = max(0, (sh - H) // 2) if horizontal else max(0, (sw - W) // 2)
        return PhotoMotion(slot.motion, (W, H), n, (sw, sh), pan=(a, b), fixed=fixed)
    sw, sh, cx, cy = _cover_crop(it.width, it.height, W, H, it.aim)
    ax = min(max((it.aim[0] * sw - cx) / W, 0.0), 1.0)
    ay = min(max((it.aim[1] * sh - cy) / H, 0.0), 1.0)
    z = INTRO_ZOOM if it.kind == "cover" else settings.zoom
    zoom = (1.0, z) if slot.motion == "zoom_in" else (z, 1.0)
    return PhotoMotion("zoom", (W, H), n, (sw, sh), crop=(cx, cy), zoom=zoom, aim=(round(ax, 4), round(ay, 4)))


def _photo_chain(g: _Graph, slot: Slot, path: str, tl: Timeline, settings: VideoSettings) -> str:
    W, H, fps, n = tl.width, tl.height, tl.fps, slot.frames_in
    k = g.add_input(["-framerate", str(fps), "-f", "image2", "-pattern_type", "none", "-i", input_arg(path)])
    label = f"[v{slot.index}]"
    m = photo_motion(slot, tl, settings)
    sw, sh = m.size
    if m.kind != "zoom":
        a, b = m.pan
        pos = f"{a:.2f}+({b - a:.2f})*n/{max(1, n - 1)}"
        fixed_x, fixed_y = (pos, str(m.fixed)) if m.kind == "pan_x" else (str(m.fixed), pos)
        g.chains.append(
            f"[{k}:v]scale={sw}:{sh}:flags=bicubic:{_TO_BT709},loop=loop={n - 1}:size=1:start=0,{_tail(fps)},"
            f"crop={W}:{H}:x='{fixed_x}':y='{fixed_y}'{label}")
        return label
    # zoom toward (or away from) the subject: crop to the frame's shape once, then zoompan
    (cx, cy), (ax, ay), (z0, z1) = m.crop, m.aim, m.zoom
    steps = max(1, n - 1)
    zexpr = (f"1+{z1 - 1:.4f}*on/{steps}" if z1 >= z0 else f"{z0:.4f}-{z0 - 1:.4f}*on/{steps}")
    g.chains.append(
        f"[{k}:v]scale={sw}:{sh}:flags=bicubic:{_TO_BT709},crop={W}:{H}:{cx}:{cy},"
        f"zoompan=z='{zexpr}':x='(iw-iw/zoom)*{ax:.4f}':y='(ih-ih/zoom)*{ay:.4f}':d={n}:s={W}x{H}:fps={fps},"
        f"{_tail(fps)}{label}")
    return label


def _clip_chain(g: _Graph, slot: Slot, path: str, tl: Timeline) -> str:
    W, H, fps, n = tl.width, tl.height, tl.fps, slot.frames_in
    src = slot.source
    start = src.start if src else 0.0
    take = n / fps + 0.5  # a little more than needed; trimmed to exact frames below
    k = g.add_input(["-ss", f"{start:.3f}", "-t", f"{take:.3f}", "-an", "-i", input_arg(path)])
    label = f"[v{slot.index}]"
    pre = (f"[{k}:v]fps={fps},tpad=stop_mode=clone:stop_duration={n / fps + 1:.3f},"
           f"trim=end_frame={n},{_tail(fps)}")
    it = slot.item
    # an HDR clip is tone-mapped at the size it is shown (zscale wants even sides)
    sdr, even = (f",{TO_SDR}", ":force_divisible_by=2") if it.hdr else ("", "")
    ratio = (it.width / it.height) / (W / H)
    if 0.77 <= ratio <= 1.3:
        g.chains.append(f"{pre},scale={W}:{H}:force_original_aspect_ratio=increase:{_TO_BT709},crop={W}:{H}{sdr}{label}")
    else:
        # a clip of another shape: whole, over a blurred fill made at 1/8 size (cheap)
        bw, bh = _even(W / 8), _even(H / 8)
        blur = max(0, min(6, min(bw, bh) // 4 - 1))  # boxblur wants it under half the chroma side
        i = slot.index
        g.chains.append(
            f"{pre},split[cf{i}][cb{i}];"
            f"[cb{i}]scale={bw}:{bh}:force_original_aspect_ratio=increase:{_TO_BT709},crop={bw}:{bh}{sdr},boxblur={blur},"
            f"scale={W}:{H},eq=brightness=-0.12[cbg{i}];"
            f"[cf{i}]scale={W}:{H}:force_original_aspect_ratio=decrease{even}:{_TO_BT709}{sdr},setsar=1[cfg{i}];"
            f"[cbg{i}][cfg{i}]overlay=(W-w)/2:(H-h)/2,format=yuv420p{label}")
    return label


def build_command(
    tl: Timeline,
    *,
    texts: list[tuple[TextImage, float, float]],
    music: tuple[str, float, float] | None,
    settings: VideoSettings,
    output: Path,
) -> list[str]:
    """The full ffmpeg command line for a timeline.

    ``texts`` are overlays with their (start, end) seconds; ``music`` is (path, excerpt
    start, seconds available).
    """
    g = _Graph()
    fps = tl.fps
    labels: list[str] = []
    sounds: list[ClipSound] = []
    for slot in tl.slots:
        path = slot.item.path
        if slot.item.kind == "clip":
            label = _clip_chain(g, slot, path, tl)
            if settings.clip_audio and slot.item.has_audio:
                # the sound is a separate input of the same file: the audio graph needs all of
                # it early (adelay), and sharing one demuxer would decode and queue every video
                # frame of the clip long before the picture needs them (gigabytes at 1080p)
                start = slot.source.start if slot.source else 0.0
                k = g.add_input(["-ss", f"{start:.3f}", "-t", f"{slot.frames_in / fps + 0.5:.3f}", "-vn",
                                 "-i", input_arg(path)])
                nxt = tl.slots[slot.index + 1] if slot.index + 1 < len(tl.slots) else None
                fade_in = slot.transition_frames / fps
                fade_out = (nxt.transition_frames / fps) if nxt else 0.2
                sounds.append(ClipSound(k, (slot.start - slot.lead) / fps, slot.frames_in / fps,
                                        max(0.05, fade_in), max(0.05, fade_out)))
        else:
            label = _photo_chain(g, slot, path, tl, settings)
        labels.append(label)

    # chain the slots: one concat of every slot's own frames, with only the frames of each
    # transition sent through xfade. xfade works in 4:4:4, so a chain of xfades would have
    # every frame of the video converted there and back; this way only transitions are.
    # Photos and clips were converted to BT.709 limited range where they were scaled
    # (_TO_BT709); these labels say so, alike on every slot, so concat sees one format.
    norm = "setsar=1,setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"
    parts: list[str] = []
    for i, (slot, label) in enumerate(zip(tl.slots, labels)):
        head = slot.transition_frames
        tail = tl.slots[i + 1].transition_frames if i + 1 < len(tl.slots) else 0
        body = slot.frames_in - head - tail
        pieces = [(name, a, b) for name, a, b in (("hd", 0, head), ("bd", head, head + body),
                                                   ("tl", head + body, slot.frames_in)) if b > a]
        if len(pieces) == 1:
            sources = [f"{label}{norm},"]
        else:
            g.chains.append(f"{label}{norm},split={len(pieces)}" + "".join(f"[{p}{i}s]" for p, _, _ in pieces))
            sources = [f"[{p}{i}s]" for p, _, _ in pieces]
        for src, (p, a, b) in zip(sources, pieces):
            g.chains.append(f"{src}trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[{p}{i}]")
        if head:
            g.chains.append(f"[tl{i - 1}][hd{i}]xfade=transition={slot.transition}:"
                            f"duration={head / fps:.6f}:offset=0,format=yuv420p,{norm}[xf{i}]")
            parts.append(f"[xf{i}]")
        if body > 0:
            parts.append(f"[bd{i}]")
    cur = "[vcat]"
    g.chains.append("".join(parts) + f"concat=n={len(parts)}:v=1:a=0,{_tail(fps)}{cur}")

    for j, (img, a, b) in enumerate(texts):
        k = g.add_input(["-f", "image2", "-pattern_type", "none", "-i", input_arg(img.path)])
        out = f"[ov{j}]"
        g.chains.append(f"{cur}[{k}:v]overlay=x={img.x}:y={img.y}:eof_action=repeat:"
                        f"enable='between(t,{a:.3f},{b:.3f})'{out}")
        cur = out
    g.chains.append(f"{cur}format=yuv420p[vout]")

    length = tl.frames / fps
    music_in = silence_in = None
    available = None
    if music is not None:
        mpath, mstart, available = music
        music_in = g.add_input(["-ss", f"{mstart:.3f}", "-t", f"{length + 0.5:.3f}", "-i", input_arg(mpath)])
    else:
        silence_in = g.add_input(["-f", "lavfi", "-t", f"{length + 0.5:.3f}", "-i",
                                  "anullsrc=r=48000:cl=stereo"])
    achains, alabel = audio_filters(length=length, music_input=music_in, silence_input=silence_in,
                                    clips=sounds, settings=settings, music_available=available)
    g.chains.extend(achains)

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
           "-progress", "pipe:1", "-nostats", "-stats_period", "0.25"]
    for args in g.inputs:
        cmd += args
    cmd += ["-filter_complex", ";\n".join(g.chains), "-map", "[vout]", "-map", alabel,
            "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf),
            "-pix_fmt", "yuv420p", "-r", str(fps), "-frames:v", str(tl.frames),
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
            "-c:a", "aac", "-b:a", settings.audio_bitrate, "-ar", "48000",
            # nothing of the inputs' metadata: by default ffmpeg copies the first input's
            # tags (a clip's location, title, comment, creation time) and chapters
            "-map_metadata", "-1", "-map_metadata:s:v", "-1", "-map_metadata:s:a", "-1",
            "-map_chapters", "-1",
            "-movflags", "+faststart", "-f", "mp4", str(output)]
    return cmd


def run_render(
    cmd: list[str],
    *,
    duration: float,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    stderr_path: Path,
) -> None:
    """Run ffmpeg, report progress (0..1) from its ``-progress`` output, stop on cancel.

    Raises Cancelled (after killing ffmpeg) or MediaError with ffmpeg's last error lines.
    """
    with open(stderr_path, "wb") as err:
        proc = spawn(cmd, stdout=subprocess.PIPE, stderr=err)
        lines: queue.Queue[bytes | None] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        done = False
        last = 0.0
        try:
            while not done:
                if cancel is not None and cancel.is_set():
                    proc.kill()
                    proc.wait()
                    raise Cancelled("render cancelled")
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    continue
                if line is None:
                    done = True
                    break
                key, _, value = line.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and progress is not None and value.isdigit() and duration > 0:
                    frac = min(0.99, int(value) / 1e6 / duration)
                    if frac > last:
                        last = frac
                        progress(frac)
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(timeout=2)
    if rc != 0:
        noise = ("Terminating thread", "Task finished", "before EOF", "Nothing was written")
        lines_ = [ln for ln in stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
                  if ln.strip() and not any(n in ln for n in noise)]
        tail = lines_[-8:] or ["(no message)"]
        raise MediaError("ffmpeg failed to render the video:\n" + "\n".join(tail))
