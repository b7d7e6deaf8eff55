"""One exit-status rule for every command (README "Exit status"): 2 for a usage error
(an argument or option is wrong), 1 for a failure (nothing usable in the media given,
a draft that can't be read), one line on stderr either way, never a traceback."""

from __future__ import annotations

import pytest

from creator.cli import main

MISSING = "/不存在/的/照片"


@pytest.mark.parametrize("argv", [
    ["tag", MISSING, "--no-progress"],
    ["caption", MISSING],
    ["cover", MISSING],
    ["make", MISSING, "-o", "{out}", "--no-progress"],
    ["music", MISSING],
    ["video", MISSING],
    ["post", MISSING],
])
def test_a_missing_path_is_a_failure_exit_1(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rc = main([a.format(out=tmp_path / "出") for a in argv])
    err = capsys.readouterr().err
    assert rc == 1, (argv[0], rc, err)
    assert "Traceback" not in err and err.strip()


@pytest.mark.parametrize("argv", [
    ["make", "{photos}", "-o", "{out}", "--style", "fancy", "--no-progress"],
    ["caption", "{photos}", "--style", "fancy"],
    ["caption", "{photos}", "--n", "0"],
    ["cover", "{photos}", "--n", "0"],
    ["music", "-q", "calm", "--top", "0"],
    ["music", "-q", "calm", "--length", "-5"],
])
def test_a_wrong_option_is_a_usage_error_exit_2(argv, tmp_path, capsys, monkeypatch):
    from tests.factories import make_photo

    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photos = tmp_path / "照片"
    make_photo(photos / "西湖.jpg", "china", size=(240, 180))
    rc = main([a.format(out=tmp_path / "出", photos=photos) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, (argv, rc, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) >= 1
