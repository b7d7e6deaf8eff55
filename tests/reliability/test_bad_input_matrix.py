"""The bad-input matrix: kinds of bad (and odd but valid) file × commands.

Every cell runs a real ``creator`` command (in-process, through ``creator.cli.main``, see
``harness.run_cli``) on one kind of file *plus* a small good photo set, and checks:

- no traceback, no hang (a timeout per run);
- the originals are unchanged: a fingerprint of every input entry (sha256, mtime, links,
  types) before and after each command, and nothing added to the input folders;
- exit 0, since the good photos are still usable; and, run alone, a non-zero exit only
  when nothing usable is left (``tag``; ``caption`` and ``cover`` for the bad kinds);
- a bad file is named, with its reason, in the output (``tag --json``: its item's error;
  the other commands: a line on stderr); an odd but valid file is read (``tag``).

``tag``, ``caption`` and ``cover`` run once per kind. ``make`` and ``music`` run once over
every kind together (the realistic case: one folder with a bit of everything; a kind that
crashed them would fail every cell of that column), and ``make --video`` once over a few
kinds. ``python tests/reliability/test_bad_input_matrix.py`` prints the table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __name__ == "__main__":  # script mode: the worktree first on the path, as pytest does
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pytest
from PIL import Image

from tests.factories import ffmpeg, make_clip, make_photo, sample_image
from tests.reliability.harness import Run, make_good_set, mentions, run_cli, snapshot

# --- the kinds ----------------------------------------------------------------------------


@dataclass
class Case:
    """What a kind's builder made: the paths to give the command, the names a bad kind must
    be reported under, and what is expected: "bad" (reported, not used), "ok" (read as a
    photo or clip) or "any" (no crash, nothing lost; either way is right)."""

    paths: list[Path]
    expect: str
    names: list[str] = field(default_factory=list)


KINDS: dict[str, Callable[[Path], Case]] = {}
VIDEO_KINDS = ("rgba_png", "png_16bit", "cmyk_jpeg", "rotated_video", "garbled_mp4_data")


def kind(fn: Callable[[Path], Case]) -> Callable[[Path], Case]:
    KINDS[fn.__name__] = fn
    return fn


def _good_jpeg_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    sample_image("chelsea").resize((320, 240)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _bad(d: Path, name: str, data: bytes) -> Case:
    (d / name).write_bytes(data)
    return Case([d], "bad", [name])


def _photo(d: Path, name: str, image: Image.Image, **save) -> Case:
    image.save(d / name, **save)
    return Case([d], "ok")


def _exif_photo(d: Path, name: str, exif: Image.Exif) -> Path:
    sample_image("coffee").resize((320, 240)).save(d / name, "JPEG", exif=exif.tobytes())
    return d / name


def _clip(d: Path, name: str, **kw) -> Path:
    return make_clip(d / name, duration=kw.pop("duration", 1.0), size=(160, 120), **kw)


@kind
def empty_jpg(d):
    return _bad(d, "空.jpg", b"")


@kind
def truncated_jpeg(d):
    data = _good_jpeg_bytes()
    return _bad(d, "截断.jpg", data[: len(data) // 3])


@kind
def text_as_jpg(d):
    return _bad(d, "笔记.jpg", "这是一段文字, not a photo\n".encode() * 20)


@kind
def html_as_png(d):
    return _bad(d, "网页.png", b"<!doctype html><html><body><h1>404 Not Found</h1></body></html>")


@kind
def truncated_png(d):
    import io

    buf = io.BytesIO()
    sample_image("coffee").resize((320, 240)).save(buf, "PNG")
    return _bad(d, "截断.png", buf.getvalue()[:3000])


@kind
def random_heic(d):
    return _bad(d, "随机.heic", np.random.default_rng(0).bytes(20000))


@kind
def image_1x1(d):
    Image.new("RGB", (1, 1), (200, 10, 10)).save(d / "一像素.png")
    return Case([d], "bad", ["一像素.png"])


@kind
def image_16x16(d):
    return _photo(d, "小图.png", sample_image("coffee").resize((16, 16)))


@kind
def strip_1x5000(d):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (5000, 1, 3), np.uint8)).save(d / "细条.png")
    return Case([d], "any", ["细条.png"])


@kind
def huge_header_png(d):
    """A valid PNG header claiming 40000x40000 pixels, and no pixel data."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return _bad(d, "巨大.png", b"\x89PNG\r\n\x1a\n" + chunk)


@kind
def cmyk_jpeg(d):
    return _photo(d, "印刷.jpg", sample_image("china").resize((320, 240)).convert("CMYK"), quality=85)


@kind
def png_16bit(d):
    grey = np.asarray(sample_image("coffee").resize((320, 240)).convert("L"), np.uint16) * 257
    return _photo(d, "十六位.png", Image.fromarray(grey.astype(np.uint16)))


@kind
def rgba_png(d):
    im = sample_image("coffee").resize((320, 240)).convert("RGBA")
    alpha = np.zeros((240, 320), np.uint8)
    alpha[40:200, 60:260] = 255
    im.putalpha(Image.fromarray(alpha))
    return _photo(d, "透明.png", im)


@kind
def palette_png_transparency(d):
    im = sample_image("china").resize((320, 240)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return _photo(d, "调色板.png", im, transparency=0)


@kind
def grey_jpeg(d):
    return _photo(d, "黑白.jpg", sample_image("china").resize((320, 240)).convert("L"), quality=85)


@kind
def exif_orientation_invalid(d):
    exif = Image.Exif()
    exif[0x0112] = 9
    _exif_photo(d, "方向错.jpg", exif)
    return Case([d], "ok")


@kind
def exif_malformed(d):
    """A JPEG whose APP1 Exif segment is noise."""
    data = _good_jpeg_bytes()
    junk = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + np.random.default_rng(1).bytes(300)
    seg = b"\xff\xe1" + (len(junk) + 2).to_bytes(2, "big") + junk
    (d / "坏EXIF.jpg").write_bytes(data[:2] + seg + data[2:])
    return Case([d], "ok")


@kind
def gps_zero(d):
    make_photo(d / "零点.jpg", "coffee", size=(320, 240), gps=(0.0, 0.0))
    return Case([d], "ok")


@kind
def gps_out_of_range(d):
    from fractions import Fraction

    exif = Image.Exif()
    g = exif.get_ifd(0x8825)
    g[1], g[2] = "N", (Fraction(95), Fraction(0), Fraction(0))
    g[3], g[4] = "E", (Fraction(200), Fraction(0), Fraction(0))
    _exif_photo(d, "越界GPS.jpg", exif)
    return Case([d], "ok")


@kind
def exif_date_2099(d):
    make_photo(d / "未来.jpg", "coffee", size=(320, 240), taken_at=datetime(2099, 1, 1, 12, 0))
    return Case([d], "ok")


@kind
def exif_date_zero(d):
    exif = Image.Exif()
    exif[0x0132] = "0000:00:00 00:00:00"
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    _exif_photo(d, "零日期.jpg", exif)
    return Case([d], "ok")


@kind
def chinese_names(d):
    make_photo(d / "杭州" / "西湖十景之一.jpg", "china", size=(320, 240))
    return Case([d], "ok")


@kind
def spaces_emoji_names(d):
    make_photo(d / "海边 日落 🌊🌅 (1).jpg", "coffee", size=(320, 240))
    return Case([d], "ok")


@kind
def folder_named_jpg(d):
    make_photo(d / "假的.jpg" / "真的.jpg", "coffee", size=(320, 240))
    return Case([d / "假的.jpg"], "ok")


@kind
def broken_symlink(d):
    (d / "断链.jpg").symlink_to(d / "不在了.jpg")
    return Case([d], "bad", ["断链.jpg"])


@kind
def self_loop_symlink(d):
    (d / "自己.jpg").symlink_to("自己.jpg")
    return Case([d], "bad", ["自己.jpg"])


@kind
def symlink_loop_folder(d):
    make_photo(d / "相册" / "一张.jpg", "coffee", size=(320, 240))
    (d / "相册" / "循环").symlink_to("..")
    return Case([d], "ok")


@kind
def fifo_jpg(d):
    os.mkfifo(d / "管道.jpg")
    return Case([d], "bad", ["管道.jpg"])


@kind
def missing_file(d):
    return Case([d / "不存在.jpg"], "bad", ["不存在.jpg"])


@kind
def unsupported_suffix(d):
    (d / "行程.txt").write_text("第一天: 西湖", encoding="utf-8")
    return Case([d / "行程.txt"], "bad", ["行程.txt"])


@kind
def unreadable_subfolder(d):
    """A subfolder nobody can list, root included: its full path is longer than PATH_MAX
    (root ignores chmod 000, see README.md; the permission case is in tests/media)."""
    top = d / "深"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(18):
            os.mkdir("深" * 80, dir_fd=fd)
            nfd = os.open("深" * 80, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        with open(os.open("藏.jpg", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd), "wb") as f:
            f.write(_good_jpeg_bytes())
    finally:
        os.close(fd)
    return Case([d], "bad", ["深" * 80])


@kind
def odd_name_newline_tab(d):
    (d / "第一行\n第二行\t.jpg").write_bytes(_good_jpeg_bytes())
    return Case([d], "ok")


@kind
def odd_name_not_utf8(d):
    """A name in another encoding (GBK bytes, as an old zip leaves them): reported, since
    such a name cannot go into JSON, a draft or a terminal."""
    name = os.fsdecode(b"\xb0\xa1\xc4\xe3-gbk.jpg")
    (d / name).write_bytes(_good_jpeg_bytes())
    return Case([d], "bad", [name])


@kind
def odd_name_dash(d):
    (d / "-rf --help.jpg").write_bytes(_good_jpeg_bytes())
    return Case([d / "-rf --help.jpg"], "ok")


@kind
def duplicate_content(d):
    data = _good_jpeg_bytes()
    (d / "原图.jpg").write_bytes(data)
    (d / "原图 副本.jpg").write_bytes(data)
    return Case([d], "ok")


@kind
def very_long_name(d):
    (d / ("很长的名字" * 16 + ".jpg")).write_bytes(_good_jpeg_bytes())  # 244 bytes
    return Case([d], "ok")


@kind
def animated_webp(d):
    frames = [sample_image("coffee").resize((160, 120)).rotate(a) for a in (0, 10, 20)]
    frames[0].save(d / "动图.webp", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return Case([d], "ok")


@kind
def gif_as_jpg(d):
    sample_image("coffee").resize((160, 120)).save(d / "其实是GIF.jpg", format="GIF")
    return Case([d], "ok")


@kind
def png_as_jpg(d):
    sample_image("coffee").resize((160, 120)).save(d / "其实是PNG.jpg", format="PNG")
    return Case([d], "ok")


@kind
def jpeg_trailing_garbage(d):
    (d / "尾巴.jpg").write_bytes(_good_jpeg_bytes() + np.random.default_rng(2).bytes(5000))
    return Case([d], "ok")


@kind
def heic_real(d):
    make_photo(d / "苹果.heic", "coffee", size=(320, 240))
    return Case([d], "ok")


@kind
def zero_byte_mp4(d):
    return _bad(d, "空视频.mp4", b"")


@kind
def truncated_mp4(d):
    data = _clip(d, "完整.mp4").read_bytes()
    (d / "完整.mp4").unlink()
    return _bad(d, "截断视频.mp4", data[: len(data) // 2])


@kind
def truncated_mp4_faststart(d):
    src = _clip(d, ".src.mp4", duration=2.0)
    out = d / "快启截断.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(src), "-c", "copy",
                    "-movflags", "+faststart", str(d / ".fast.mp4")], check=True)
    data = (d / ".fast.mp4").read_bytes()
    out.write_bytes(data[: len(data) // 3])
    src.unlink()
    (d / ".fast.mp4").unlink()
    return Case([d], "any", ["快启截断.mp4"])


@kind
def corrupt_mp4_header(d):
    return _bad(d, "坏头.mp4", b"\x00\x00\x00\x20ftypisom" + np.random.default_rng(3).bytes(8000))


@kind
def garbled_mp4_data(d):
    src = _clip(d, ".src.mp4", duration=2.0)
    fast = d / ".fast.mp4"
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(src), "-c", "copy",
                    "-movflags", "+faststart", str(fast)], check=True)
    data = bytearray(fast.read_bytes())
    start = data.find(b"mdat") + 100
    data[start::7] = np.random.default_rng(1).integers(0, 256, len(data[start::7]), dtype=np.uint8).tobytes()
    src.unlink()
    fast.unlink()
    return _bad(d, "花屏.mp4", bytes(data))


@kind
def audio_only_mp4(d):
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-t", "1", "-i",
                    "sine=frequency=440", "-c:a", "aac", str(d / "只有声音.mp4")], check=True)
    return Case([d], "bad", ["只有声音.mp4"])


@kind
def rotated_video(d):
    _clip(d, "竖拍.mp4", rotate=90)
    return Case([d], "ok")


@kind
def one_frame_video(d):
    _clip(d, "一帧.mp4", duration=0.04, audio=False)
    return Case([d], "any", ["一帧.mp4"])


@kind
def webm_vp9(d):
    _clip(d, "网页视频.webm")
    return Case([d], "ok")


# --- the commands -------------------------------------------------------------------------

PER_KIND = ("tag", "caption", "cover")
BATCHED = ("make", "music", "make --video")
COMMANDS = PER_KIND + BATCHED


def _argv(command: str, paths: list[Path], out: Path) -> list[str]:
    p = [os.fspath(x) for x in paths]
    return {
        "tag": ["tag", *p, "--json", "--no-progress"],
        "caption": ["caption", *p, "--json"],
        "cover": ["cover", *p, "-o", str(out / "封面.png"), "--n", "1"],
        "make": ["make", *p, "-o", str(out / "草稿"), "--no-progress"],
        "music": ["music", *p, "--json", "--top", "1"],
        "make --video": ["make", *p, "-o", str(out / "草稿"), "--video", "--no-progress"],
    }[command]


_TIMEOUT = {"tag": 60, "caption": 60, "cover": 60, "make": 240, "music": 120, "make --video": 400}


class Matrix:
    """Builds the files once and runs (and caches) what the cells need."""

    def __init__(self, root: Path):
        self.root = root
        self.good = make_good_set(root / "好照片")
        self.cases: dict[str, Case] = {}
        for name, build in KINDS.items():
            d = root / "kinds" / name
            d.mkdir(parents=True)
            self.cases[name] = build(d)
        self._runs: dict[tuple, tuple[Run, bool]] = {}

    def inputs(self) -> list[Path]:
        return [self.root / "kinds", self.good]

    def run(self, command: str, kinds: tuple[str, ...], *, with_good: bool = True) -> tuple[Run, bool]:
        """(the run, whether every input was left unchanged)."""
        key = (command, kinds, with_good)
        if key not in self._runs:
            out = self.root / "out" / f"{len(self._runs)}"
            out.mkdir(parents=True)
            paths = [p for k in kinds for p in self.cases[k].paths] + ([self.good] if with_good else [])
            before = snapshot(*self.inputs())
            run = run_cli(_argv(command, paths, out), timeout=_TIMEOUT[command])
            after = snapshot(*self.inputs())
            if before != after:
                changed = sorted(set(before.items()) ^ set(after.items()))[:4]
                run.notes.append(f"inputs changed: {changed}")
            self._runs[key] = (run, before == after)
        return self._runs[key]


def _tag_items(run: Run) -> list[dict]:
    try:
        return json.loads(run.out)
    except ValueError:
        return []


def _in_kind(item_path: str, case: Case) -> bool:
    return any(item_path == os.path.abspath(p) or item_path.startswith(os.path.abspath(p) + os.sep)
               for p in case.paths)


def problems(m: Matrix, kind_name: str, command: str) -> list[str]:
    """Why a cell is not handled (empty: handled)."""
    case = m.cases[kind_name]
    kinds = tuple(KINDS) if command in ("make", "music") else (
        VIDEO_KINDS if command == "make --video" else (kind_name,))
    run, unchanged = m.run(command, kinds)
    bad: list[str] = []
    if run.timed_out:
        return [f"no answer within {_TIMEOUT[command]} s"]
    if run.traceback:
        bad.append("traceback: " + run.traceback.strip().splitlines()[-1])
    if not unchanged:
        bad.extend(run.notes)
    if run.rc != 0:
        bad.append(f"exit {run.rc} although good photos were given: {run.err.strip()[-300:]}")
    if command == "tag":
        items = [i for i in _tag_items(run) if _in_kind(i["path"], case)]
        if case.expect == "ok" and (not items or any(i["error"] for i in items)):
            bad.append(f"not read as a photo or clip: {[i['error'] for i in items] or 'no item'}")
        if kind_name == "exif_date_2099" and any((i["taken_at"] or "").startswith("2099") for i in items):
            bad.append("a date in 2099 was accepted")
    if case.expect == "bad":
        for name in case.names:
            if command == "tag":
                named = any(i["error"] and mentions(i["error"], name) for i in _tag_items(run))
            else:
                named = any(mentions(line, name) for line in run.err.splitlines())
            if not named:
                bad.append(f"{name!r} is not named in the output")
    # alone: a non-zero exit exactly when nothing usable is left
    if command == "tag" or (command in PER_KIND and case.expect == "bad"):
        alone, unchanged = m.run(command, (kind_name,), with_good=False)
        if alone.traceback or alone.timed_out:
            bad.append("alone: " + ("timed out" if alone.timed_out else alone.traceback.strip().splitlines()[-1]))
        elif case.expect == "bad" and alone.rc == 0:
            bad.append(f"alone: exit 0 with nothing usable ({command})")
        elif case.expect == "ok" and alone.rc != 0:
            bad.append(f"alone: exit {alone.rc} although the file is usable: {alone.err.strip()[-200:]}")
        if not unchanged:
            bad.extend(alone.notes)
    return bad


def _cells() -> list:
    cells = []
    for k in KINDS:
        for c in COMMANDS:
            if c == "make --video" and k not in VIDEO_KINDS:
                continue
            cells.append(pytest.param(k, c, id=f"{k}-{c.replace(' ', '')}"))
    return cells


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    return Matrix(tmp_path_factory.mktemp("matrix"))


@pytest.mark.parametrize("kind_name, command", _cells())
def test_cell(matrix, kind_name, command):
    found = problems(matrix, kind_name, command)
    assert not found, "\n".join(found)


def test_the_matrix_is_big_enough():
    assert len(KINDS) >= 40 and set(VIDEO_KINDS) <= set(KINDS)


def main() -> int:
    """Script mode: every cell, then the table kinds × commands."""
    import tempfile
    import time

    root = Path(tempfile.mkdtemp(prefix="creator-matrix-"))
    start = time.perf_counter()
    try:
        m = Matrix(root)
        table: dict[tuple[str, str], list[str] | None] = {}
        for k in KINDS:
            for c in COMMANDS:
                if c == "make --video" and k not in VIDEO_KINDS:
                    table[k, c] = None
                    continue
                table[k, c] = problems(m, k, c)
        spent: dict[str, float] = {}
        for (command, _, _), (run, _) in m._runs.items():
            spent[command] = spent.get(command, 0.0) + run.seconds
    finally:
        shutil.rmtree(root, ignore_errors=True)
    width = max(map(len, KINDS))
    print(f"{'kind':<{width}}  " + "  ".join(f"{c:>12}" for c in COMMANDS))
    for k in KINDS:
        row = []
        for c in COMMANDS:
            cell = table[k, c]
            mark = "-" if cell is None else ("ok" if not cell else "FAIL")
            row.append(f"{mark:>12}")
        print(f"{k:<{width}}  " + "  ".join(row))
    totals = []
    for c in COMMANDS:
        ran = [table[k, c] for k in KINDS if table[k, c] is not None]
        totals.append(f"{sum(1 for t in ran if not t)}/{len(ran)}".rjust(12))
    print(f"{'handled':<{width}}  " + "  ".join(totals))
    print(f"{len(KINDS)} kinds, {sum(1 for v in table.values() if v is not None)} cells, "
          f"{time.perf_counter() - start:.0f} s (" + ", ".join(f"{c} {t:.0f} s" for c, t in spent.items()) + ")")
    for (k, c), found in table.items():
        if found:
            print(f"{k} × {c}: " + "; ".join(found))
    return 0 if not any(table.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
