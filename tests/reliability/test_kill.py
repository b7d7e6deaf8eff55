"""kill -9 of a render: ffmpeg dies with it, and the next render cleans what it left.

A real render (1080x1920, 20 s) runs in a child Python; once its ffmpeg is writing the
video, the child is killed with SIGKILL. Within a few seconds no ffmpeg of that render may
be left, nothing may have been put in the system temporary folder, and the debris it
left in the draft folder (its work folder and the ``.note.mp4.*.part``) must go at the
next render into that folder. Linux only (reads /proc), like the parent-death signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from creator.config import VideoSettings
from creator.types import MediaItem
from pipelines.video import Pipeline, VideoRequest
from tests.factories import make_photo

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from creator.config import VideoSettings
    from creator.types import MediaItem
    from pipelines.video import Pipeline, VideoRequest
    job = json.loads(sys.argv[2])
    items = [MediaItem(path=p, id=f"p{i}", kind="photo") for i, p in enumerate(job["photos"])]
    Pipeline(VideoSettings(preset="fast"))(VideoRequest(items=items, output=Path(job["out"]),
                                                        size=(1080, 1920), length=20))
""")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def ffmpeg_pids(marker: str) -> list[int]:
    """Live (not zombie) ffmpeg processes whose command line contains ``marker``."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not argv or b"ffmpeg" not in Path(os.fsdecode(argv[0])).name.encode():
            continue
        st = _stat(int(d))
        if st is not None and st[0] != "Z" and any(marker.encode() in a for a in argv):
            found.append(int(d))
    return found


def wait_for(cond, timeout: float, step: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


def test_kill_9_of_a_render_leaves_no_ffmpeg_and_the_next_render_cleans_up(tmp_path):
    media = tmp_path / "照片"
    photos = [str(make_photo(media / f"第{i}张.jpg", name, size=(1200, 1600)))
              for i, name in enumerate(["china", "astronaut", "coffee", "chelsea"])]
    draft = tmp_path / "我的草稿"
    draft.mkdir()
    out = draft / "note.mp4"
    private_tmp = tmp_path / "系统临时"
    private_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(private_tmp))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT),
                              json.dumps({"photos": photos, "out": str(out)})],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def rendering():
            pids = ffmpeg_pids(str(draft))
            parts = [p for p in draft.glob(".note.mp4.*.part") if p.stat().st_size > 0]
            return pids if pids and parts else None

        pids = wait_for(rendering, 90)
        if not pids:
            said = child.stdout.read().decode(errors="replace") if child.poll() is not None else ""
            raise AssertionError(f"the render never started (exit {child.poll()}): {said[-2000:]}")
        assert child.poll() is None, "the render ended before it could be killed"
        st = _stat(pids[0])
        # its own process group: a terminal's Ctrl-C goes to Python, which stops it itself
        assert st is not None and int(st[2]) != int(_stat(child.pid)[2])

        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        t0 = time.monotonic()
        wait_for(lambda: not ffmpeg_pids(str(draft)), 5)
        gone_after = time.monotonic() - t0
        survivors = ffmpeg_pids(str(draft))
        assert not survivors, f"ffmpeg {survivors} still renders {gone_after:.1f} s after its parent died"
        print(f"ffmpeg gone {gone_after:.3f} s after kill -9 of its parent")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in ffmpeg_pids(str(draft)):  # only the ffmpeg this test's child started
            os.kill(pid, signal.SIGKILL)
        child.stdout.close()

    # nothing went to the system's temporary folder; the debris is in the draft folder
    assert list(private_tmp.iterdir()) == []
    debris = sorted(p.name for p in draft.iterdir())
    assert any(n.startswith(f".creator-tmp-{child.pid}-") for n in debris), debris
    assert any(n.startswith(".note.mp4.") and n.endswith(".part") for n in debris), debris

    # the next render into that folder removes what the dead one left
    items = [MediaItem(path=p, id=f"p{i}", kind="photo") for i, p in enumerate(photos[:2])]
    res = Pipeline(VideoSettings(preset="ultrafast"))(
        VideoRequest(items=items, output=out, size=(144, 256), length=2))
    assert Path(res.path) == out and out.stat().st_size > 0
    assert sorted(p.name for p in draft.iterdir()) == ["note.mp4"]
