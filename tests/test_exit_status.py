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
    ["library", "index", MISSING, "--json"],
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
    ["library", "index", "{photos}", "--ray", "not an address"],
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


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`creator tag … --json | head -c 1`: the reader goes away; no BrokenPipeError traceback."""
    import os
    import subprocess
    import sys

    from tests.factories import make_photo

    for k in range(160):  # enough JSON (~150 KB) to overflow the pipe's 64 KB buffer
        make_photo(tmp_path / "照片" / f"{k:02d}.jpg", ["china", "flower"][k % 2], size=(64, 48))
    env = dict(os.environ, HF_HUB_OFFLINE="1", CREATOR_CACHE_DIR=str(tmp_path / "cache"),
               CREATOR_TAGGING__FACES="false")
    proc = subprocess.Popen([sys.executable, "-m", "creator.cli", "tag", str(tmp_path / "照片"), "--json",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.read(1) == b"["
    proc.stdout.close()  # as `head` does once it has what it wants
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "roken pipe" not in err.lower().replace("brokenpipe", "broken pipe"), err
    assert proc.returncode == 0, err  # the reader chose to stop: not a failure


def test_out_of_range_values_and_damaged_inputs_get_one_line(tmp_path, capsys, monkeypatch):
    """Found by trying: a frame of 100000x100000 was killed for memory rather than refused,
    --fps 0 was taken as "unset", a cover title of 20 000 characters ended in a
    RecursionError (6 000 in a DecompressionBombError after minutes), a music library of
    nothing usable in a reshape error, a draft.json nested 100 000 deep in a RecursionError,
    and a schema_version of "1" in "written by a newer version"."""
    import json

    from tests.factories import make_photo

    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photos = tmp_path / "照片"
    make_photo(photos / "西湖.jpg", "china", size=(240, 180))
    draft = tmp_path / "草稿"
    assert main(["make", str(photos), "-o", str(draft), "--no-progress"]) == 0
    capsys.readouterr()

    def run(argv, want: int, said: str) -> None:
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == want, (argv[:3], rc, err)
        assert "Traceback" not in err and said in err, err

    run(["video", str(draft), "--size", "100000x100000", "-o", str(draft / "a.mp4")], 2, "4096x4096")
    run(["video", str(draft), "--fps", "0", "-o", str(draft / "a.mp4")], 2, "fps: 0")
    assert not (draft / "a.mp4").exists()
    run(["cover", str(photos / "西湖.jpg"), "--n", "1", "-o", str(tmp_path / "封面.png"), "--title", "很长的标题" * 4000],
        2, "at most 200")
    lib = tmp_path / "空曲库"
    (lib / "坏.mp3").parent.mkdir()
    (lib / "坏.mp3").write_bytes(b"not audio")
    run(["music", "--library", str(lib), "-q", "calm"], 1, "no usable tracks")
    bad = tmp_path / "坏草稿"
    bad.mkdir()
    (bad / "draft.json").write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    run(["post", str(bad)], 1, "nested too deeply")
    for version in ("1", 0):
        (bad / "draft.json").write_text(json.dumps({"schema_version": version}), encoding="utf-8")
        run(["post", str(bad)], 1, "schema_version must be a whole number")
