"""The demo trip: six real photos with invented times and places, a real-looking note."""

from __future__ import annotations

from creator.config import Settings
from creator.samples import DEMO_TRIP, copy_samples
from creator.understanding import understand


def test_the_demo_is_a_trip_with_days_places_and_its_attribution(tmp_path):
    folder = tmp_path / "演示" / "照片"
    paths = copy_samples(folder)
    assert len(paths) == len(DEMO_TRIP) == 6 and (folder / "ATTRIBUTION.md").is_file()
    assert "public domain" in (folder / "ATTRIBUTION.md").read_text(encoding="utf-8")
    ctx = understand(folder, Settings(cache_dir=tmp_path / "cache"))
    assert len(ctx.ok_items) == 6 and ctx.days == 3
    assert all(i.taken_at is not None and i.gps is not None for i in ctx.items)
    assert ctx.places and ctx.places[0].country_code == "HK" and "香港" in ctx.places[0].name_zh + (ctx.places[0].country_zh or "")
    assert [m.day for m in ctx.moments] == sorted(m.day for m in ctx.moments) and {m.day for m in ctx.moments} == {1, 2, 3}
    tags = {t.id for t in ctx.top_tags}
    assert tags & {"city", "sea", "beach", "sunset", "fog", "lake", "night"}  # a trip, not a cat and a coffee
