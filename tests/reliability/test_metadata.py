"""What is shared carries none of the inputs' metadata: no GPS, no titles, no comments.

The inputs are a clip whose container and streams carry a location (``location``,
``location-eng``, Apple's ISO 6709 key), a title, a comment, a creation time, chapters and
a rotation, and photos with GPS EXIF and PNG text chunks. The outputs are real renders
(the clip first and no cover: ffmpeg's default copies the first input's tags; a photo
first) and real covers (PNG and JPEG) made from those photos. Each output is read back
with ffmpeg (tags, streams, chapters) or Pillow, and its bytes are scanned.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from creator.config import VideoSettings
from creator.types import MediaItem, MediaKind, NoteContext, Place, Quality
from pipelines.cover import CoverRequest
from pipelines.cover import Pipeline as CoverPipeline
from pipelines.video import Pipeline, VideoRequest
from tests.factories import ffmpeg, make_clip, make_photo

LAT, LON = 30.25, 120.15
ISO6709 = "+30.2500+120.1500/"
# what must not come out: the coordinates in every spelling used here, and the texts
LEAKS = ["30.25", "120.15", "secret", "隐私", "2024-10-03", "ISO6709"]


def tell(path: Path) -> str:
    """Everything ffmpeg says about a file: ``-i`` (tags, streams, side data, chapters)
    and the ffmetadata dump (global, stream and chapter tags)."""
    exe = ffmpeg()
    info = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    meta = subprocess.run([exe, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0",
                           "-f", "ffmetadata", "-"], capture_output=True, text=True).stdout
    return (info + "\n" + meta).replace(str(path), "FILE")  # "Input #0, ... from 'FILE'"


def leaks(path: Path, *extra: str) -> list[str]:
    text = tell(path) if path.suffix == ".mp4" else ""
    raw = path.read_bytes()
    return [s for s in [*LEAKS, *extra] if s in text or s.encode() in raw]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("隐私") / "西湖之旅"
    plain = make_clip(d / ".plain.mp4", duration=3.0, size=(240, 320), scenes=2)
    chapters = d / "章节.txt"
    chapters.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=secret chapter\n"
                        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=隐私章节\n", encoding="utf-8")
    clip = d / "游船.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(plain),
                    "-i", str(chapters), "-map", "0", "-map_chapters", "1", "-c", "copy",
                    "-movflags", "use_metadata_tags",
                    "-metadata", f"location={ISO6709}", "-metadata", f"location-eng={ISO6709}",
                    "-metadata", f"com.apple.quicktime.location.ISO6709={ISO6709}",
                    "-metadata", "title=secret title", "-metadata", "comment=隐私 secret comment",
                    "-metadata", "creation_time=2024-10-03T09:00:00.000000Z",
                    "-metadata:s:v", "title=secret video", "-metadata:s:a", "title=secret audio",
                    "-metadata:s:a", "language=eng", str(clip)], check=True, capture_output=True)
    plain.unlink()
    jpg = make_photo(d / "断桥.jpg", "china", size=(640, 480), gps=(LAT, LON),
                     taken_at=datetime(2024, 10, 3, 9, 0))
    # a PNG with GPS EXIF and text chunks
    png = d / "雷峰塔.png"
    exif = Image.open(make_photo(d / ".tmp.jpg", "coffee", gps=(LAT, LON))).getexif()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"secret {ISO6709}")
    info.add_itxt("Description", "隐私 30.25,120.15", lang="zh")
    Image.open(d / ".tmp.jpg").convert("RGB").resize((480, 640)).save(png, pnginfo=info, exif=exif.tobytes())
    (d / ".tmp.jpg").unlink()
    return d, clip, jpg, png


def test_the_inputs_do_carry_what_must_not_leak(media):
    _, clip, jpg, png = media
    text = tell(clip)
    for s in ("location-eng", ISO6709, "secret title", "隐私 secret comment", "secret video",
              "secret audio", "secret chapter", "隐私章节", "Display Matrix", "2024-10-03"):
        assert s in text, s
    for p in (jpg, png):
        with Image.open(p) as im:
            assert im.getexif().get_ifd(0x8825)  # GPS IFD
    with Image.open(png) as im:
        assert "secret" in im.info["Comment"]


@pytest.mark.parametrize("first", ["clip", "png"])
def test_the_video_carries_no_input_metadata(media, first):
    d, clip, jpg, png = media
    items = [MediaItem(path=str(clip), id="clip", kind="clip"),
             MediaItem(path=str(jpg), id="jpg", kind="photo"),
             MediaItem(path=str(png), id="png", kind="photo")]
    if first == "png":
        items = [items[2], items[0], items[1]]
    out = d / f"草稿-{first}" / "note.mp4"
    res = Pipeline(VideoSettings(preset="ultrafast"))(
        VideoRequest(items=items, output=out, size=(144, 256), length=4, title="西湖一日"))
    assert not res.warnings, res.warnings
    text = tell(out)
    assert "Video: h264" in text and "Audio: aac" in text  # it did read the output
    assert leaks(out, str(d), "location", "Chapter", "Display Matrix", "title", "comment") == []


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_covers_carry_no_exif_or_text(media, fmt):
    d, _, jpg, png = media
    items = []
    for p in (jpg, png):
        with Image.open(p) as im:
            w, h = im.size
        items.append(MediaItem(path=str(p), id=p.stem, kind=MediaKind.photo, width=w, height=h,
                               quality=Quality(sharpness=0.8, exposure=0.8, colourfulness=0.6, score=0.7)))
    ctx = NoteContext(items=items, places=[Place(name_zh="杭州", name_en="Hangzhou")],
                      start=date(2024, 10, 3), end=date(2024, 10, 3), days=1)
    out = CoverPipeline()(CoverRequest(context=ctx, title="西湖", n=2, width=270, format=fmt,
                                       out_dir=d / f"封面-{fmt}"))
    assert len(out.candidates) == 2
    for c in out.candidates:
        path = Path(c.cover.path)
        raw = path.read_bytes()
        with Image.open(path) as im:
            assert not im.getexif(), path.name
            assert not {k for k in im.info if k not in ("dpi", "jfif", "jfif_version", "jfif_unit",
                                                        "jfif_density", "progressive", "progression")}, im.info
        if fmt == "png":
            assert not any(chunk in raw for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"))
        else:
            assert b"Exif" not in raw and b"\xff\xfe" not in raw  # no APP1 EXIF, no COM segment
        assert leaks(path) == []
