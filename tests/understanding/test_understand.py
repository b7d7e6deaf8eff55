"""The whole understanding stage on real photos, a clip and bad files, with no network."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime

import pytest

from creator.understanding import understand
from tests.factories import make_clip, make_photo


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("trip") / "杭州 三日"
    make_photo(root / "颐和园.jpg", "china", taken_at=datetime(2026, 10, 3, 9, 0), gps=(30.25, 120.15))
    make_photo(root / "花.jpg", "flower", taken_at=datetime(2026, 10, 3, 9, 30), gps=(30.251, 120.151))
    make_photo(root / "咖啡.png", "coffee", taken_at=datetime(2026, 10, 4, 15, 0), gps=(30.27, 120.16))
    make_photo(root / "猫.webp", "chelsea", taken_at=datetime(2026, 10, 5, 20, 0))
    make_clip(root / "片段.mp4", duration=2.0, scenes=2, creation_time=datetime(2026, 10, 5, 21, 0))
    (root / "坏的.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "空.jpg").write_bytes(b"")
    (root / "笔记.txt").write_text("not media", encoding="utf-8")
    return root


def _hashes(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_understand_offline_end_to_end(trip, no_network):
    before = _hashes(trip)
    calls = []
    ctx = understand([trip, trip / "笔记.txt"], progress=lambda s, d, t: calls.append((s, d, t)))
    assert _hashes(trip) == before  # originals untouched

    by_name = {i.path.rsplit("/", 1)[-1]: i for i in ctx.items}
    assert set(by_name) >= {"颐和园.jpg", "花.jpg", "咖啡.png", "猫.webp", "片段.mp4", "坏的.jpg", "空.jpg", "笔记.txt"}
    for bad in ("坏的.jpg", "空.jpg", "笔记.txt"):
        assert by_name[bad].error, bad
    for good in ("颐和园.jpg", "花.jpg", "咖啡.png", "猫.webp", "片段.mp4"):
        item = by_name[good]
        assert item.error is None, (good, item.error)
        assert item.tags and item.quality is not None
        assert all(t.source for t in item.tags)
        assert [t.score for t in item.tags] == sorted((t.score for t in item.tags), reverse=True)

    top5 = lambda name: [t.id for t in by_name[name].tags[:5]]  # noqa: E731
    assert "palace" in top5("颐和园.jpg") or "architecture" in top5("颐和园.jpg")
    assert "flower" in top5("花.jpg")
    assert "coffee" in top5("咖啡.png")
    assert "cat" in top5("猫.webp")

    assert by_name["颐和园.jpg"].place.name_zh == "杭州"
    assert ctx.places[0].name_en == "Hangzhou"
    assert (ctx.days, len({m.day for m in ctx.moments})) == (3, 3)
    assert len(ctx.warnings) >= 3
    assert calls and calls[-1][0] == "place"


def test_cli_tag_json(trip):
    out = subprocess.run([sys.executable, "-m", "creator.cli", "tag", str(trip), "--json", "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {"path", "id", "kind", "taken_at", "place", "tags", "quality", "error"} <= set(rows[0])
    palace = next(r for r in rows if r["path"].endswith("颐和园.jpg"))
    assert palace["place"] == {"name_zh": "杭州", "name_en": "Hangzhou", "country": "China"}
    assert {"id", "label_zh", "label_en", "score", "source"} == set(palace["tags"][0])
    assert any(r["error"] for r in rows)


def test_cli_tag_table_and_missing_path(tmp_path):
    out = subprocess.run([sys.executable, "-m", "creator.cli", "tag", str(tmp_path / "nowhere"), "--no-progress"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
