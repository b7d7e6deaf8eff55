"""Peak memory of a decompression bomb in every command, each run in a child process
under an address-space limit (RLIMIT_AS), its peak RSS read from the kernel (getrusage).

The bomb is a 2 MB RGBA PNG of 19500x19500 pixels (1.5 GB decoded). Before the one
loader it took 9 GB in ``creator tag`` and 12 GB in ``make --video`` (then a
traceback); under a 3 GB limit every command must now name it in a per-item error, go
on with the other photos, and exit without a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_click_track, make_photo
from tests.reliability.bombs import png_bomb

LIMIT = 3 << 30  # bytes of address space for the child
ROOT = Path(__file__).resolve().parents[2]


# A small launcher between pytest and the command: a child forked from pytest starts
# with pytest's resident pages (torch and all) counted in its peak RSS, which exec keeps;
# forked from this launcher, the command's peak is its own (and its ffmpeg's).
_LAUNCHER = """
import json, resource, subprocess, sys
limit, report, timeout = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rc = subprocess.run(sys.argv[4:], preexec_fn=cap, timeout=timeout).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
open(report, "w").write(json.dumps({"rc": rc, "peak_mib": peak}))
"""


def run_limited(args: list[str], tmp: Path, env: dict[str, str] | None = None,
                timeout: float = 300) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in MiB) of ``python args`` under LIMIT."""
    out, err, report = tmp / "stdout.txt", tmp / "stderr.txt", tmp / "report.json"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(LIMIT), str(report), str(timeout),
                        sys.executable, *args], stdout=fo, stderr=fe, cwd=ROOT,
                       env={**os.environ, **(env or {})}, timeout=timeout + 30, check=True)
    result = json.loads(report.read_text())
    return (result["rc"], out.read_text(encoding="utf-8", errors="replace"),
            err.read_text(encoding="utf-8", errors="replace"), result["peak_mib"])


@pytest.fixture(scope="module")
def trip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("可靠性") / "旅行 相册"
    png_bomb(d / "炸弹.png")
    make_photo(d / "长城.jpg", "china", size=(640, 480))
    make_photo(d / "咖啡.jpg", "coffee", size=(600, 400))
    return d


@pytest.fixture(scope="module")
def isolated(tmp_path_factory) -> dict[str, str]:
    """Settings for a quick `make`: own cache, a one-track library, a small short video."""
    d = tmp_path_factory.mktemp("设置")
    make_click_track(d / "曲库" / "click.wav", bpm=100, duration=8.0)
    return {"CREATOR_CACHE_DIR": str(d / "cache"), "CREATOR_MUSIC__LIBRARY": str(d / "曲库"),
            "CREATOR_VIDEO__WIDTH": "270", "CREATOR_VIDEO__HEIGHT": "480", "CREATOR_VIDEO__LENGTH": "4",
            "CREATOR_VIDEO__MIN_LENGTH": "3", "CREATOR_COVER__WIDTH": "270", "CREATOR_COVER__N": "1"}


def test_open_photo_refuses_the_bomb_before_decoding(trip, tmp_path):
    code = ("import sys; from creator.media import open_photo; from creator.errors import MediaError\n"
            "try:\n    open_photo(sys.argv[1])\nexcept MediaError as e:\n    print(e)\n")
    rc, out, err, peak = run_limited(["-c", code, str(trip / "炸弹.png")], tmp_path)
    assert rc == 0 and "Traceback" not in err, err
    assert out.startswith("炸弹.png: 19500x19500 RGBA PNG is too large to decode"), out
    assert "budget" in out
    assert peak < 300, f"peak RSS {peak} MiB"  # was 8.9 GB: the header alone is read


def test_a_large_png_within_budget_holds_one_full_copy(tmp_path):
    # 8000x8000 RGBA with transparency: 244 MiB decoded. Converting the full image
    # (RGBA copy, white layer, composite, RGB) took over a gigabyte; reduced in strips
    # the peak is that one decode plus the interpreter.
    path = png_bomb(tmp_path / "大图.png", 8000, 8000, rgba=(200, 30, 30, 0))
    code = ("import sys; from creator.media import open_photo\n"
            "im = open_photo(sys.argv[1], max_side=448)\n"
            "print(im.size, im.getpixel((10, 10)))\n")
    rc, out, err, peak = run_limited(["-c", code, str(path)], tmp_path)
    assert rc == 0, err
    assert out.strip() == "(448, 448) (255, 255, 255)"  # transparent: white, not the red under it
    assert peak < 244 + 200, f"peak RSS {peak} MiB"


def test_creator_tag_names_the_bomb_and_tags_the_rest(trip, tmp_path):
    rc, out, err, peak = run_limited(["-m", "creator.cli", "tag", str(trip), "--json", "--no-progress"], tmp_path)
    assert rc == 0 and "Traceback" not in err, err
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert "too large to decode" in rows["炸弹.png"]["error"] and "炸弹.png" in rows["炸弹.png"]["error"]
    assert rows["长城.jpg"]["error"] is None and rows["长城.jpg"]["tags"]
    assert rows["咖啡.jpg"]["error"] is None and rows["咖啡.jpg"]["tags"]
    assert peak < 1500, f"peak RSS {peak} MiB"  # was 9 GB


def test_make_video_leaves_the_bomb_out_and_renders(trip, isolated, tmp_path):
    outdir = tmp_path / "草稿"
    rc, out, err, peak = run_limited(["-m", "creator.cli", "make", str(trip), "-o", str(outdir), "--video",
                                      "--no-progress"], tmp_path, env=isolated)
    assert rc == 0 and "Traceback" not in err, err
    assert "炸弹.png" in err and "too large to decode" in err
    assert (outdir / "draft.json").is_file() and (outdir / "note.mp4").stat().st_size > 0
    assert peak < 1500, f"peak RSS {peak} MiB"  # was 12 GB, then a traceback
