"""The package itself: light import, public surface, prompts from a checkout and a wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "transformers", "diffusers", "moviepy", "streamlit", "librosa", "cv2"]


def test_import_creator_is_light():
    code = (
        "import sys, json, creator, creator.types, creator.config, creator.errors, creator.cli;"
        "creator.Settings; creator.Draft;"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_public_surface_is_pinned():
    import creator

    assert set(creator.__all__) >= {
        "Assistant", "Settings", "Draft", "NoteContext", "MediaItem", "Caption", "TrackMatch",
        "Cover", "CreatorError", "understand", "load_media",
    }
    for name in creator.__all__:
        assert getattr(creator, name) is not None
    with pytest.raises(AttributeError):
        creator.no_such_thing  # noqa: B018


def test_prompts_load_from_checkout():
    from creator.resources import load_prompt, prompt_path

    assert prompt_path("tags.yaml").is_file()
    assert load_prompt("tags.yaml")["tags"]


def test_wheel_carries_prompts_and_loads_them(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheel_dir), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(wheel_dir.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "prompts/tags.yaml" in names
    assert "creator/types.py" in names and "pipelines/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    # The fresh venv borrows third-party packages (yaml, pydantic) from this one, *after*
    # its own site-packages, so `creator` and `prompts` come from the wheel.
    site = next((venv / "lib").glob("python*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_deps.pth").write_text("\n".join(deps) + "\n")
    code = (
        "import creator, prompts, json; from creator.resources import load_prompt;"
        "print(json.dumps([creator.__file__, prompts.__file__, len(load_prompt('tags.yaml')['tags'])]))"
    )
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    creator_file, prompts_file, n = json.loads(out.stdout)
    assert creator_file.startswith(str(venv)) and prompts_file.startswith(str(venv))
    assert n >= 60


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "creator.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "tag" in out.stdout
