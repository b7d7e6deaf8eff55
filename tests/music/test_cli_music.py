"""`creator music` on bad input: a reason per file on stderr and a non-zero exit
(issue 11 item 14), one line for a bad argument; `creator library index` the same."""

import json

import pytest

from creator.cli import main
from tests.factories import make_click_track


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "缓存"))
    lib = tmp_path / "音乐"
    make_click_track(lib / "节拍.wav", bpm=120, duration=6)
    return tmp_path, lib


def test_no_usable_media_fails_with_a_reason_per_file(env, capsys):
    tmp, lib = env
    bad = tmp / "坏的"
    bad.mkdir()
    (bad / "文字.jpg").write_text("not a photo")
    missing = tmp / "不存在.jpg"
    assert main(["music", str(bad / "文字.jpg"), str(missing), "--library", str(lib), "--json"]) == 1
    cap = capsys.readouterr()
    assert cap.out == ""  # no tracks "for this note"
    lines = cap.err.strip().splitlines()
    assert any(str(bad / "文字.jpg") in ln for ln in lines)
    assert any(str(missing) in ln and "not found" in ln for ln in lines)
    assert "none of the given photos or clips could be used" in lines[-1]


@pytest.mark.parametrize("args,name", [(["--top", "0"], "--top"), (["--length", "-5"], "--length"),
                                       (["--length", "nan"], "--length")])
def test_bad_arguments_are_one_line_and_exit_2(env, capsys, args, name):
    _, lib = env
    assert main(["music", "--query", "海边", "--library", str(lib), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"creator music: {name}:"), err


def test_library_problems_are_one_line_each_on_stderr(env, capsys):
    import os

    _, lib = env
    os.symlink("环.mp3", lib / "环.mp3")
    assert main(["library", "index", str(lib), "--json"]) == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out)
    assert out["usable"] == 1 and out["failed"][0]["error"] == "a symlink loop"
    assert main(["music", "--query", "calm", "--library", str(lib), "--json"]) == 0
    cap = capsys.readouterr()
    assert len(json.loads(cap.out)) == 1
    assert cap.err.strip() == "creator music: warning: skipped 环.mp3: a symlink loop"
