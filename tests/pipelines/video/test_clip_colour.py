"""A clip's colours survive the ffmpeg render whatever colour matrix and range it was
encoded with: the render converts each clip to the BT.709 limited range its output is
labelled with.

Each clip is two flat colours (a red left half, a green right half) encoded by the real
ffmpeg as a camera, a screen recorder or an old SD file would: unlabelled (read as BT.601,
as ffmpeg reads such files everywhere), tagged BT.601 (bt470bg, smpte170m), full range
("yuvj"), BT.709 (most phone footage: the regression guard) and BT.709 full range. One clip
alone is rendered, a frame from the middle decoded back to RGB honouring the output's own
BT.709 labels, and the mean of a patch in each half compared with the colour the clip was
made from. An HDR clip (HLG or PQ, BT.2020, as phones record) is tone-mapped to the SDR
colour it was made from, in the frames the other stages read and in the video."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from creator.types import MediaItem
from pipelines.video import Pipeline, VideoRequest
from tests.factories import ffmpeg, make_hdr_clip

W, H, FPS, LENGTH = 270, 480, 30, 1.5
RED, GREEN = (0xC0, 0x30, 0x20), (0x30, 0xA0, 0x40)
# the 8-bit conversion from the clip's YUV to the output's (and x264) leaves the flat colours
# up to 4/255 off per channel (measured); before the render converted them, a BT.601 clip
# came out 8-17 off and a full-range one 8-24 off
TOLERANCE = 4.5
# a slow, exact conversion back to RGB, so the check measures the render, not the decoder
TO_RGB = "scale=in_color_matrix=bt709:in_range=tv:flags=accurate_rnd+full_chroma_int,format=rgb24"

# name: (matrix and range the YUV is made in, pixel format, the labels written, size)
VARIANTS = {
    "无标签": ("bt601", "tv", "yuv420p", [], (320, 568)),
    "bt470bg": ("bt601", "tv", "yuv420p", ["-colorspace", "bt470bg", "-color_range", "tv"], (320, 568)),
    "smpte170m": ("bt601", "tv", "yuv420p", ["-colorspace", "smpte170m", "-color_primaries", "smpte170m",
                                             "-color_trc", "smpte170m", "-color_range", "tv"], (320, 568)),
    "全范围yuvj": ("bt601", "pc", "yuvj420p", ["-color_range", "pc"], (320, 568)),
    "bt709": ("bt709", "tv", "yuv420p", ["-colorspace", "bt709", "-color_primaries", "bt709",
                                         "-color_trc", "bt709", "-color_range", "tv"], (320, 568)),
    "bt709全范围": ("bt709", "pc", "yuv420p", ["-colorspace", "bt709", "-color_range", "pc"], (320, 568)),
    # another shape: the clip whole over its blurred fill (the graph's other branch)
    "横屏无标签": ("bt601", "tv", "yuv420p", [], (640, 360)),
}


def colour_clip(path: Path, matrix: str, rng: str, pix_fmt: str, labels: list[str], size: tuple[int, int]) -> Path:
    """Two seconds of a red left half and a green right half, converted to YUV with
    ``matrix``/``rng`` exactly and encoded with only the ``labels`` given."""
    w, h = size
    half = f"s={w // 2}x{h}:d=2:r={FPS}"
    graph = (f"color=c=0x{'%02X%02X%02X' % RED}:{half},format=rgb24[a];"
             f"color=c=0x{'%02X%02X%02X' % GREEN}:{half},format=rgb24[b];"
             f"[a][b]hstack,scale=out_color_matrix={matrix}:out_range={rng}:flags=accurate_rnd+full_chroma_int,"
             f"format={pix_fmt}[v]")
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-filter_complex", graph, "-map", "[v]",
                    "-c:v", "libx264", "-preset", "ultrafast", *labels, str(path)],
                   check=True, capture_output=True)
    return path


def video_labels(path: Path) -> str:
    err = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return re.search(r"Video: .*", err)[0]


def patches(path: Path, at: float) -> list[np.ndarray]:
    """The mean RGB of a 30x40 patch in the middle of the frame's left and right halves,
    the frame at ``at`` seconds decoded with the BT.709 limited-range matrix."""
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
                          "-vf", TO_RGB, "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(float)
    return [frame[H // 2 - 20:H // 2 + 20, x - 15:x + 15].reshape(-1, 3).mean(0) for x in (W // 4, 3 * W // 4)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("素材") / "色彩 片段"
    folder.mkdir()
    for name, (matrix, rng, pix, labels, size) in VARIANTS.items():
        colour_clip(folder / f"{name}.mp4", matrix, rng, pix, labels, size)
    return folder


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_clips_colours_come_out_as_they_went_in(clips, tmp_path, name):
    clip = clips / f"{name}.mp4"
    # the clip itself decodes (honouring its own labels) to the colours it was made from
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(clip), "-frames:v", "1", "-vf",
                          f"scale={W}:{H}:flags=accurate_rnd+full_chroma_int,format=rgb24", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    src = np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(float)
    for x, want in ((W // 4, RED), (3 * W // 4, GREEN)):
        assert np.abs(src[H // 2, x] - want).max() <= 2.5, (name, src[H // 2, x])

    out = tmp_path / "成片" / f"{name}.mp4"
    result = Pipeline()(VideoRequest(items=[MediaItem(path=str(clip), id="c", kind="clip")], output=out,
                                     size=(W, H), fps=FPS, length=LENGTH))
    assert result.warnings == [] and Path(result.path) == out
    assert "yuv420p(tv, bt709, progressive)" in video_labels(out)
    for got, want, side in zip(patches(out, LENGTH / 2), (RED, GREEN), ("left", "right")):
        error = got - np.array(want)
        assert np.abs(error).max() <= TOLERANCE, f"{name} {side}: {np.round(error, 1).tolist()} off {want}"


# HDR, as phones record by default: the round trip through HLG/PQ at 8 bits and the
# tone curve (linear below 90% of reference white) leave the colour up to ~11/255 off
# (measured); read without tone mapping the same clips came out 45-70 off in red
HDR_TOLERANCE = 16


@pytest.mark.parametrize("transfer", ["hlg", "pq"])
def test_an_hdr_clip_shows_the_colours_it_was_filmed_with(clips, tmp_path, transfer):
    from creator.media import read_frames
    from creator.media.ffmpeg import probe

    clip = make_hdr_clip(tmp_path / f"手机 HDR {transfer}.mp4", transfer=transfer, colour=RED, size=(320, 568))
    assert probe(clip)["hdr"] == transfer and probe(clips / "bt709.mp4")["hdr"] is None
    # its code values taken for BT.709 (as the readers did before): far off
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-i", str(clip), "-frames:v", "1", "-vf",
                          f"scale={W}:{H},format=rgb24", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    naive = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(float).mean(axis=0)
    assert np.abs(naive - RED).max() > 2 * HDR_TOLERANCE, naive
    # what understanding, the cover and the carousel see
    [frame] = read_frames(clip, [1.0])
    seen = np.asarray(frame, float).reshape(-1, 3).mean(axis=0)
    assert np.abs(seen - RED).max() <= HDR_TOLERANCE, seen
    # and the video, in both branches of the clip graph (fill, and whole over its blur)
    for size, name in (((320, 568), "竖"), ((640, 360), "横")):
        src = clip if name == "竖" else make_hdr_clip(tmp_path / "横屏 HDR.mp4", transfer=transfer, colour=RED,
                                                     size=size)
        out = tmp_path / "成片" / f"{transfer}{name}.mp4"
        result = Pipeline()(VideoRequest(items=[MediaItem(path=str(src), id="c", kind="clip")], output=out,
                                         size=(W, H), fps=FPS, length=LENGTH))
        assert result.warnings == [] and "yuv420p(tv, bt709, progressive)" in video_labels(out)
        middle = patches(out, LENGTH / 2)[0] if name == "竖" else _centre(out, LENGTH / 2)
        assert np.abs(middle - np.array(RED)).max() <= HDR_TOLERANCE, (name, middle)


def _centre(path: Path, at: float) -> np.ndarray:
    """The mean RGB of a patch at the frame's centre (where a landscape clip sits whole)."""
    raw = subprocess.run([ffmpeg(), "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
                          "-vf", TO_RGB, "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(float)
    return frame[H // 2 - 20:H // 2 + 20, W // 2 - 30:W // 2 + 30].reshape(-1, 3).mean(0)
