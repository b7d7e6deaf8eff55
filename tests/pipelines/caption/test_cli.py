"""``creator caption`` through the real command line entry point (in-process)."""

from __future__ import annotations

from PIL import Image

from creator.cli import main
from tests.factories import make_photo


def test_caption_names_each_unreadable_file_on_stderr(tmp_path, capsys):
    trip = tmp_path / "西湖之旅"
    make_photo(trip / "断桥.jpg", "china")
    (trip / "空.jpg").write_bytes(b"")
    (trip / "笔记.png").write_text("这不是图片", encoding="utf-8")
    Image.new("RGB", (1, 1)).save(trip / "点.png")
    assert main(["caption", str(trip), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out.lstrip().startswith("{")  # stdout stays the caption
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 3, warnings
    for name, words in [("空.jpg", "empty file"), ("笔记.png", "not a valid image"),
                        ("点.png", "too small to assess (1x1")]:
        assert any(w.startswith("warning: ") and f"{name}: {words}" in w for w in warnings), (name, warnings)
        assert not any(f"{name}: {name}" in w for w in warnings), warnings  # the name once


def test_caption_with_nothing_usable_exits_non_zero_and_says_why(tmp_path, capsys):
    (tmp_path / "空.jpg").write_bytes(b"")
    assert main(["caption", str(tmp_path / "空.jpg")]) == 1  # a failure, not a usage error
    err = capsys.readouterr().err
    assert "空.jpg: empty file" in err and "none of the given paths" in err
