"""``creator cover`` through argparse, with the real understanding stage."""

from __future__ import annotations

import argparse

from PIL import Image

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
    parser = argparse.ArgumentParser()
    add_cover_parser(parser.add_subparsers())
    args = parser.parse_args(["cover", str(photo), "-o", str(tmp_path / "c.png"), "--style", "nope"])
    assert args.func(args) == 2
    assert "style" in capsys.readouterr().err
