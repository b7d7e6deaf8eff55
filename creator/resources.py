"""Loading packaged data: the prompts/ package and assets shipped by other packages."""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
from pathlib import Path
from typing import Any

import yaml

from .errors import BackendUnavailable, ConfigError

__all__ = ["prompt_path", "load_prompt", "package_file", "cjk_font_path", "CJK_FONT_PACKAGE"]


def prompt_path(name: str) -> Path:
    """Path of a file in the prompts/ package (``"tags.yaml"``, ``"caption/zh.yaml"``)."""
    root = importlib.resources.files("prompts")
    target = root.joinpath(*name.split("/"))
    if not target.is_file():
        raise ConfigError(f"prompt file {name!r} not found in the prompts package ({root})")
    return Path(str(target))


@functools.lru_cache(maxsize=64)
def _load_cached(name: str) -> Any:
    text = prompt_path(name).read_text(encoding="utf-8")
    if name.endswith((".yaml", ".yml")):
        return yaml.safe_load(text)
    return text


def load_prompt(name: str) -> Any:
    """Parsed content of a prompts/ file: YAML as Python objects, other files as text.

    The result is cached and shared: treat it as read-only.
    """
    return _load_cached(name)


def package_file(package: str, *parts: str, pip_name: str | None = None) -> Path:
    """Path of a data file shipped inside an installed package.

    Raises :class:`BackendUnavailable` naming the pip package when it is missing.
    """
    pip_name = pip_name or package.replace("_", "-")
    if importlib.util.find_spec(package) is None:
        raise BackendUnavailable(
            f"the package {pip_name!r} is not installed; install it with `pip install {pip_name}`"
        )
    path = Path(str(importlib.resources.files(package).joinpath(*parts)))
    if not path.exists():
        raise BackendUnavailable(
            f"{'/'.join(parts)} is missing from the installed package {pip_name!r}; "
            f"reinstall it with `pip install --force-reinstall {pip_name}`"
        )
    return path


CJK_FONT_PACKAGE = "pylopdf-fonts-zh-cn"  # Noto Sans SC / Noto Serif SC (OFL-1.1)


@functools.lru_cache(maxsize=4)
def cjk_font_path(family: str = "sans") -> Path:
    """The bundled Noto Sans SC (``"sans"``) or Noto Serif SC (``"serif"``) font file,
    used wherever text is drawn (covers, video captions)."""
    if family not in ("sans", "serif"):
        raise ConfigError(f"font family must be 'sans' or 'serif', got {family!r}")
    module = CJK_FONT_PACKAGE.replace("-", "_")
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(f"drawing titles needs a CJK font: install it with `pip install {CJK_FONT_PACKAGE}`")
    files = sorted(Path(str(f)) for f in importlib.resources.files(module).iterdir()
                   if str(f).lower().endswith((".otf", ".ttf", ".ttc")))
    for f in files:
        if family in f.name.lower():
            return f
    raise BackendUnavailable(f"no {family} font file in the installed package {CJK_FONT_PACKAGE!r}; reinstall it "
                             f"with `pip install --force-reinstall {CJK_FONT_PACKAGE}`")
