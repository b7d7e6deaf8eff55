"""``creator cover`` through argparse, with the real understanding stage."""

from __future__ import annotations

import argparse

from pathlib import Path

from PIL import Image

from creator.cli import main
from pipelines.cover.cli import add_cover_parser
from tests.factories import make_photo


def test_cover_command_writes_candidates(tmp_path, capsys):
    photos = [make_photo(tmp_path / "相册" / f"{n}.jpg", n) for n in ("china", "flower", "coffee")]
    parser = argparse.ArgumentParser()
    add_cover_parser(parser.add_subparsers())
    out = tmp_path / "输出" / "封面.jpg"
    args = parser.parse_args(["cover", *map(str, photos), "-o", str(out), "--title", "北京的秋天",
                              "--n", "2", "--ratio", "1:1"])
    assert args.func(args) == 0
    second = out.with_name("封面-2.jpg")
    for p in (out, second):
        img = Image.open(p)
        assert img.format == "JPEG" and img.size == (1080, 1080)
    printed = capsys.readouterr().out
    assert str(out) in printed and "bold_sticker" in printed


def test_cover_command_reports_bad_style(tmp_path, capsys):
    photo = make_photo(tmp_path / "a.jpg", "coffee")
    assert main(["cover", str(photo), "-o", str(tmp_path / "c.png"), "--style", "nope"]) == 2
    assert "style" in capsys.readouterr().err
    # a name of another image type is refused rather than quietly written as .png
    assert main(["cover", str(photo), "-o", str(tmp_path / "封面.gif")]) == 2
    assert ".png or .jpg" in capsys.readouterr().err and not list(tmp_path.glob("封面*"))


def _cover_args(*argv: str) -> list[str]:
    """``creator cover ARGV``'s command line, run through ``creator.cli.main`` as a user's is
    (its errors are printed and given an exit status there)."""
    return ["cover", *argv]


def _as_nobody(fn) -> tuple[int, str]:
    """``fn() -> int`` as the 'nobody' user; its exit status and what it wrote to stderr."""
    import io
    import sys

    from tests.factories import as_nobody

    def run():
        sys.stderr = io.StringIO()
        return [fn(), sys.stderr.getvalue()]

    rc, err = as_nobody(run)
    return rc, err


def test_cover_output_problems_are_one_line_before_any_work(tmp_path, capsys):
    """-o a folder, an input photo, a path under a file: exit 2, one line on stderr, and
    nothing understood (the bad photo given along is never reported: no work was done)."""
    photo = make_photo(tmp_path / "相册" / "西湖.jpg", "coffee")
    bad = tmp_path / "相册" / "坏.jpg"
    bad.write_bytes(b"not a photo")
    before = photo.read_bytes()
    folder = tmp_path / "封面们"
    folder.mkdir()
    (tmp_path / "c-2.png").mkdir()  # the second candidate's name is checked too
    for out, words in [(folder, "is a folder"),
                       (photo, "is one of the photos being read"),
                       (tmp_path / "c.png", "c-2.png: is a folder"),
                       (photo / "封面.png", "is a file, not a folder")]:
        argv = _cover_args(str(photo), str(bad), "-o", str(out), "--n", "2")
        rc = main(argv)
        captured = capsys.readouterr()
        assert rc == 2, out
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and lines[0].startswith("creator cover: -o "), lines
        assert "坏.jpg" not in captured.err and captured.out == ""
    assert photo.read_bytes() == before
    assert list(folder.iterdir()) == []


def test_cover_into_a_read_only_folder(tmp_path):
    import os
    import shutil
    import tempfile

    import creator.understanding  # noqa: F401  (imported before dropping privileges)
    import pipelines.cover.pipeline  # noqa: F401

    top = Path(tempfile.mkdtemp(prefix="creator-ro-"))
    try:
        top.chmod(0o755)
        photo = make_photo(top / "西湖.jpg", "coffee")
        photo.chmod(0o644)
        locked = top / "只读"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        argv = _cover_args(str(photo), "-o", str(locked / "封面.png"), "--n", "1")
        if os.geteuid() == 0:
            rc, err = _as_nobody(lambda: main(argv))
        else:
            import contextlib
            import io

            buf = io.StringIO()
            with contextlib.redirect_stderr(buf):
                rc = main(argv)
            err = buf.getvalue()
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(top)
    assert rc == 2
    assert err.strip() == f"creator cover: -o {locked / '封面.png'}: cannot write in {locked} (permission denied)"


def test_cover_names_each_unreadable_photo_on_stderr(tmp_path, capsys):
    good = make_photo(tmp_path / "相册" / "西湖.jpg", "coffee")
    empty = tmp_path / "相册" / "空.jpg"
    empty.write_bytes(b"")
    tiny = tmp_path / "相册" / "小.png"
    Image.new("RGB", (1, 1)).save(tiny)
    argv = _cover_args(str(tmp_path / "相册"), "-o", str(tmp_path / "c.png"), "--n", "1")
    assert main(argv) == 0
    captured = capsys.readouterr()
    warnings = [ln for ln in captured.err.splitlines() if ln.startswith("warning: ")]
    assert any("空.jpg: empty file" in w for w in warnings), captured.err
    assert any("小.png: too small to assess (1x1" in w for w in warnings), captured.err
    assert captured.out.startswith(str(tmp_path / "c.png"))
    # nothing usable: a failure, exit 1 (README: Exit status), the reasons still named
    argv = _cover_args(str(empty), str(tiny), "-o", str(tmp_path / "d.png"))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "空.jpg: empty file" in err and "小.png: too small" in err and "creator cover: " in err
