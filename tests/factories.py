"""Test media made on the spot: photos with EXIF (time, GPS, orientation), clips and audio.

Nothing here downloads anything. Clips are made with the ffmpeg bundled by
imageio-ffmpeg; sample photos come from scikit-learn / scikit-image.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "sample_image",
    "make_photo",
    "make_clip",
    "make_tone",
    "make_click_track",
    "ffmpeg",
    "as_made",
]


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def sample_image(name: str) -> Image.Image:
    """A real photo bundled in a pip package: 'china', 'flower' (scikit-learn) or any
    scikit-image ``data`` image that ships offline ('astronaut', 'coffee', 'chelsea',
    'rocket', 'motorcycle_left'...)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image(f"{name}.jpg"))
    from skimage import data

    arr = getattr(data, name)()
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return Image.fromarray(arr[..., :3])


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (Fraction(d), Fraction(m), Fraction(s).limit_denominator(10000))


def make_photo(
    path: Path | str,
    image: Image.Image | str | None = None,
    *,
    size: tuple[int, int] | None = None,
    taken_at: datetime | None = None,
    gps: tuple[float, float] | None = None,
    orientation: int | None = None,
    fmt: str | None = None,
    quality: int = 90,
    offset: str | None = None,
    gps_utc: datetime | None = None,
) -> Path:
    """Write a photo with EXIF DateTimeOriginal, GPS and Orientation as asked.

    ``image`` is a PIL image, the name of a :func:`sample_image`, or None for a
    gradient. ``fmt`` defaults from the suffix (JPEG, PNG, WEBP, HEIF). ``offset`` is
    written as OffsetTimeOriginal ("+09:00"), ``gps_utc`` as the GPS receiver's
    GPSDateStamp and GPSTimeStamp (UTC).
    """
    path = Path(path)
    if image is None:
        w, h = size or (640, 480)
        x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
        arr = np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)),
                              np.full((h, w, 1), 128, np.float32)], axis=2)
        image = Image.fromarray(arr.astype(np.uint8))
    elif isinstance(image, str):
        image = sample_image(image)
    if size is not None and image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    exif = Image.Exif()
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp  # DateTime
        exif.get_ifd(0x8769)[0x9003] = stamp  # DateTimeOriginal
    if offset is not None:
        exif.get_ifd(0x8769)[0x9011] = offset  # OffsetTimeOriginal
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = _dms(lon)
    if gps_utc is not None:
        g = exif.get_ifd(0x8825)
        g[29] = gps_utc.strftime("%Y:%m:%d")  # GPSDateStamp
        g[7] = (Fraction(gps_utc.hour), Fraction(gps_utc.minute), Fraction(gps_utc.second))  # GPSTimeStamp
    fmt = fmt or {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP",
                  ".heic": "HEIF", ".heif": "HEIF"}.get(path.suffix.lower(), "JPEG")
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    kwargs: dict = {"exif": exif.tobytes()}
    if fmt in ("JPEG", "WEBP", "HEIF"):
        kwargs["quality"] = quality
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, format=fmt, **kwargs)
    return path


def make_clip(
    path: Path | str,
    *,
    duration: float = 3.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    audio: bool = True,
    scenes: int = 1,
    rotate: int | None = None,
    creation_time: datetime | None = None,
    codec: str = "libx264",
    location: str | None = None,
) -> Path:
    """Make a clip with ffmpeg's test sources: ``scenes`` visibly different shots of equal
    length (hard cuts between them), an optional 440 Hz tone, optional rotation metadata.
    ``creation_time`` is written as a UTC stamp; ``location`` as the ISO 6709 tag."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    seg = duration / scenes
    sources = ["testsrc2", "mandelbrot", "smptebars", "rgbtestsrc", "life"]
    args = [ffmpeg(), "-y", "-loglevel", "error"]
    for i in range(scenes):
        src = sources[i % len(sources)]
        # ``-t`` as an input option: not every source (mandelbrot, life) has a duration option
        args += ["-f", "lavfi", "-t", str(seg), "-i", f"{src}=size={w}x{h}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-t", str(duration), "-i", "sine=frequency=440:sample_rate=44100"]
    concat = "".join(f"[{i}:v]" for i in range(scenes))
    args += ["-filter_complex", f"{concat}concat=n={scenes}:v=1:a=0,format=yuv420p[v]", "-map", "[v]"]
    if audio:
        args += ["-map", f"{scenes}:a", "-c:a", "aac" if path.suffix.lower() != ".webm" else "libopus"]
    if path.suffix.lower() == ".webm":
        codec = "libvpx-vp9" if codec == "libx264" else codec
        args += ["-c:v", codec, "-b:v", "300k", "-deadline", "realtime"]
    else:
        args += ["-c:v", codec, "-preset", "ultrafast"]
    meta = []
    if creation_time is not None:
        meta = ["-metadata", f"creation_time={creation_time.strftime('%Y-%m-%dT%H:%M:%S.000000Z')}"]
    if location is not None:
        meta += ["-metadata", f"location={location}"]
    out = path if rotate is None else path.with_name(f".unrotated-{path.name}")
    args += meta + ["-t", str(duration), str(out)]
    subprocess.run(args, check=True, capture_output=True)
    if rotate is not None:
        # ffmpeg >= 6 ignores the old ``-metadata:s:v rotate=`` tag; the display matrix is set
        # with the input option ``-display_rotation`` (counter-clockwise degrees) on a stream
        # copy. ``rotate`` keeps the phone tag's meaning: degrees clockwise to display upright.
        subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-display_rotation", str(-rotate),
                        "-i", str(out), "-map", "0", "-c", "copy", *meta, str(path)],
                       check=True, capture_output=True)
        out.unlink()
    return path


def make_tone(path: Path | str, *, freqs=(440.0,), duration: float = 5.0, sr: int = 22050,
              amplitude: float = 0.3) -> Path:
    """A WAV/FLAC/OGG of summed sine tones (a chord when several frequencies)."""
    import soundfile as sf

    t = np.arange(int(duration * sr)) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / max(1, len(freqs))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (amplitude * y).astype(np.float32), sr)
    return path


def make_song(path: Path | str, *, bpm: float, root_midi: int = 60, minor: bool = False,
              hats: str | None = "eighths", duration: float = 24.0, sr: int = 22050,
              seed: int = 0) -> Path:
    """A small synthetic song whose tempo, key and mode we know.

    Chords i-iv-V-i (I-IV-V-I in major), one bar of four beats each, with the chord
    root an octave below in the bass; a kick on every beat (accented on the one); hats
    on ``"eighths"``, ``"332"`` (the 3+3+2 sixteenths of a syncopated pop groove: hits
    every three quarters of a beat, the pulse that fools single-lag trackers) or none.
    """
    import soundfile as sf

    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    t = np.arange(n) / sr
    y = np.zeros(n, np.float64)
    beat = 60.0 / bpm
    bar = 4 * beat
    third = 3 if minor else 4
    progression = [(0, third), (5, third), (7, 4), (0, third)]  # (root, third) per bar

    def hz(midi: float) -> float:
        return 440.0 * 2 ** ((midi - 69) / 12)

    start, k = 0.0, 0
    while start < duration:
        root, th = progression[k % 4]
        i0, i1 = int(start * sr), min(n, int((start + bar) * sr))
        tt = t[i0:i1] - start
        env = 0.6 * np.exp(-1.5 * tt) + 0.4
        for step in (0, th, 7):
            y[i0:i1] += 0.12 * env * np.sin(2 * np.pi * hz(root_midi + root + step) * tt)
        y[i0:i1] += 0.25 * env * np.sin(2 * np.pi * hz(root_midi + root - 12) * tt)
        start += bar
        k += 1
    kick_len, hat_len = int(0.08 * sr), int(0.03 * sr)
    kick = np.exp(-np.linspace(0, 10, kick_len)) * np.sin(2 * np.pi * 60 * np.arange(kick_len) / sr)
    hat = np.exp(-np.linspace(0, 8, hat_len)) * rng.normal(size=hat_len)
    b, i = 0.0, 0
    while b < duration - 0.1:
        j = int(b * sr)
        y[j:j + kick_len] += (0.9 if i % 4 == 0 else 0.6) * kick[:n - j]
        b += beat
        i += 1
    offsets = {"eighths": (0, 0.5, 1.0, 1.5), "332": (0, 0.75, 1.5), None: ()}[hats]
    g = 0.0
    while g < duration - 0.1:
        for off in offsets:
            j = int((g + off * beat) * sr)
            if j + hat_len < n:
                y[j:j + hat_len] += 0.5 * hat
        g += 2 * beat
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.8 * y / np.max(np.abs(y))).astype(np.float32), sr)
    return path


def make_click_track(path: Path | str, *, bpm: float = 120.0, duration: float = 10.0,
                     sr: int = 22050, accent_every: int = 4) -> tuple[Path, np.ndarray]:
    """Clicks at ``bpm`` (accented downbeats); returns the path and the true beat times."""
    import soundfile as sf

    n = int(duration * sr)
    y = np.zeros(n, np.float32)
    period = 60.0 / bpm
    beats = np.arange(0, duration - 0.05, period)
    click_len = int(0.03 * sr)
    env = np.exp(-np.linspace(0, 8, click_len)).astype(np.float32)
    tt = np.arange(click_len) / sr
    for k, b in enumerate(beats):
        i = int(round(b * sr))
        f = 1500.0 if k % accent_every == 0 else 1000.0
        amp = 0.9 if k % accent_every == 0 else 0.5
        seg = amp * env * np.sin(2 * np.pi * f * tt).astype(np.float32)
        y[i:i + click_len] += seg[: max(0, min(click_len, n - i))]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr)
    return path, beats


def make_mixed_library(root: Path | str) -> Path:
    """A small music folder of what an indexer meets: a 120 BPM click track, a chord in a
    sub-folder (子目录/和弦.flac), a silent file (静音.wav), a file that is not audio
    (坏的.mp3) and a text file (notes.txt, not music). Returns ``root``."""
    root = Path(root)
    make_click_track(root / "节拍_120.wav", bpm=120, duration=6)
    make_tone(root / "子目录" / "和弦.flac", freqs=(523.25, 659.25, 783.99), duration=4)
    make_tone(root / "静音.wav", freqs=(440.0,), duration=2, amplitude=0.0)
    (root / "坏的.mp3").write_bytes(b"ID3\x03\x00 this is not audio" * 20)
    (root / "notes.txt").write_text("not music", encoding="utf-8")
    return root


def as_nobody(fn):
    """Run ``fn()`` in a forked child that has dropped to the 'nobody' user (root reads and
    writes anywhere, whatever the mode bits, and CI runs as root) and return its result,
    which must be JSON-serialisable."""
    import json
    import os

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: become nobody, run, report through the pipe
        code = 1
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, json.dumps(fn()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(data)


def make_hdr_clip(path: Path | str, *, transfer: str = "hlg", colour: tuple[int, int, int] = (200, 90, 50),
                  size: tuple[int, int] = (320, 240), duration: float = 2.0, fps: int = 10) -> Path:
    """A flat-colour clip recorded as a phone records HDR: BT.2020 primaries and matrix,
    HLG (``transfer="hlg"``) or PQ ("pq") transfer, tagged so; ``colour`` is the SDR BT.709
    colour it shows, its white put at the HDR reference white (203 cd/m2, ITU-R BT.2408).
    8-bit H.264 (the static ffmpeg has no 10-bit encoder): the tags and code values are
    what the readers act on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    trc = {"hlg": "arib-std-b67", "pq": "smpte2084"}[transfer]
    w, h = size
    hexc = "0x%02x%02x%02x" % colour
    vf = ("format=yuv420p,setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709,"
          "zscale=min=bt709:tin=bt709:pin=bt709:rin=tv:m=gbr:t=linear:p=bt709:npl=203,format=gbrpf32le,"
          f"zscale=min=gbr:tin=linear:pin=bt709:p=bt2020:t={trc}:m=bt2020nc:r=tv:npl=203,format=yuv420p")
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"color=c={hexc}:size={w}x{h}:rate={fps}:duration={duration}", "-vf", vf,
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "4", "-color_primaries", "bt2020",
                    "-color_trc", trc, "-colorspace", "bt2020nc", "-color_range", "tv", str(path)],
                   check=True, capture_output=True)
    return path


def sure_and_unsure_trip(sure: str, unsure: str, unsure_score: float = 0.5):
    """A NoteContext of two photos that surely show ``sure`` (0.9 each), the first also
    carrying ``unsure`` at ``unsure_score``: a tag no draft may state (the caption's say
    rule), yet among the trip's top tags."""
    from creator.types import MediaItem
    from creator.understanding.moments import build_context
    from creator.vocabulary import vocabulary

    voc = vocabulary()
    items = [MediaItem(path=f"/照片/旅行/{k}.jpg", id=f"p{k}", taken_at=datetime(2024, 5, 1, 9 + k),
                       tags=[voc.tag(sure, 0.9, "test")] + ([voc.tag(unsure, unsure_score, "test")] if k == 0 else []))
             for k in range(2)]
    ctx = build_context(items)
    assert unsure in {t.id for t in ctx.top_tags}
    return ctx


def as_made(draft):
    """``draft`` (a :class:`creator.types.Draft` built by hand, with readable ids such as
    "id0") as a made draft has it: each item's id is its file's content id, wherever the
    draft names it (order, moments, carousel, a cover's source). A render reads only a
    file that is still the one its draft was made from, so a test draft whose items keep
    made-up ids would have every photo refused. Items without a readable file keep their
    ids."""
    import os

    from creator.media import content_id

    ids = {i.id: content_id(i.path) for i in draft.context.items if i.path and os.path.isfile(i.path)}

    def new(v):
        return ids.get(v, v)

    data = draft.model_dump(mode="json")
    for item in data["context"]["items"]:
        item["id"] = new(item["id"])
    for m in data["context"].get("moments") or []:
        m["item_ids"] = [new(v) for v in m["item_ids"]]
    data["order"] = [new(v) for v in data.get("order") or []]
    for e in data.get("carousel") or []:
        e["item_id"] = new(e["item_id"])
    for c in [data.get("cover"), *(data.get("covers") or [])]:
        if c and c.get("source"):
            c["source"] = ",".join(new(v) for v in c["source"].split(","))
    return type(draft).model_validate(data)
