"""The interface strings (prompts/ui/strings.yaml): every key the editor uses exists in
zh and en, with the same {fields} in both."""

from __future__ import annotations

import re
import string
from pathlib import Path

from creator.resources import load_prompt

UI = Path(__file__).resolve().parents[2] / "ui"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_key_used_exists_in_both_languages():
    strings = load_prompt("ui/strings.yaml")["strings"]
    used = set()
    for path in UI.rglob("*.py"):
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+)"\s*[,)]', path.read_text(encoding="utf-8")))
    used |= {f"page_{p.stem}" for p in (UI / "panels").glob("*.py") if p.stem != "__init__"}
    assert used, "no t(...) calls found"
    missing = sorted(k for k in used if k not in strings)
    assert not missing
    for key, entry in strings.items():
        assert set(entry) == {"zh", "en"} and all(isinstance(v, str) and v for v in entry.values()), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key
