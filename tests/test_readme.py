"""The README's SDK example runs as written (on generated photos, at a small video size)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from tests.factories import make_photo

ROOT = Path(__file__).resolve().parents[1]


def test_readme_sdk_example_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    photos = tmp_path / "photos"
    make_photo(photos / "宫殿.jpg", "china", taken_at=datetime(2026, 10, 3, 9), gps=(30.25, 120.15))
    make_photo(photos / "花.jpg", "flower", taken_at=datetime(2026, 10, 3, 11), gps=(30.25, 120.15))
    env = {**os.environ, "CREATOR_VIDEO__WIDTH": "270", "CREATOR_VIDEO__HEIGHT": "480",
           "PYTHONPATH": str(ROOT)}
    code += "\nprint('OK', draft.caption.title, video.path)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("OK")
    assert (tmp_path / "note" / "note.mp4").stat().st_size > 10_000
    assert (tmp_path / "note" / "draft.json").is_file()
