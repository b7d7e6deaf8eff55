from __future__ import annotations

import json
from datetime import date

import pytest

from creator.errors import DraftError
from creator.types import Caption, Draft, MediaItem, MediaKind, NoteContext


def draft() -> Draft:
    items = [MediaItem(path=f"/照片/{k}.jpg", id=f"{k:016x}", kind=MediaKind.photo) for k in range(3)]
    ctx = NoteContext(items=items, start=date(2026, 10, 3), end=date(2026, 10, 4), days=2)
    return Draft(context=ctx, order=[items[2].id, items[0].id],
                 caption=Caption(title="杭州西湖两日｜秋天慢慢走", body="📍 杭州", hashtags=["杭州旅行", "西湖"]))


def test_save_and_load_round_trip(tmp_path):
    d = draft()
    path = d.save(tmp_path / "草稿")
    assert path.name == "draft.json"
    back = Draft.load(tmp_path / "草稿")
    assert back.caption == d.caption and back.context == d.context and back.order == d.order
    assert back.created_at is not None and back.updated_at is not None
    assert "# 杭州西湖两日｜秋天慢慢走" in (tmp_path / "草稿" / "caption.md").read_text(encoding="utf-8")
    assert not list((tmp_path / "草稿").glob("*.part"))  # no temporary file left behind


def test_ordered_items_follow_the_users_order():
    d = draft()
    assert [i.path for i in d.ordered_items()] == ["/照片/2.jpg", "/照片/0.jpg", "/照片/1.jpg"]


def test_damaged_missing_and_newer_drafts_fail_clearly(tmp_path):
    with pytest.raises(DraftError, match="no draft"):
        Draft.load(tmp_path)
    (tmp_path / "draft.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DraftError, match="not a readable draft"):
        Draft.load(tmp_path)
    data = json.loads(draft().model_dump_json())
    data["schema_version"] = 99
    (tmp_path / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DraftError, match="newer version"):
        Draft.load(tmp_path)
    data["schema_version"] = 1
    data["context"]["items"][0]["kind"] = "hologram"
    (tmp_path / "draft.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DraftError, match="damaged: context.items.0.kind"):
        Draft.load(tmp_path)


def test_remove_item_takes_it_out_of_items_order_and_moments():
    from creator.types import Moment

    d = draft()
    ids = [i.id for i in d.context.items]
    d.context = d.context.model_copy(update={"moments": [
        Moment(index=0, day=1, item_ids=[ids[0]]), Moment(index=1, day=1, item_ids=[ids[1], ids[2]])]})
    d.remove_item(ids[0])
    assert [i.id for i in d.context.items] == ids[1:]
    assert d.order == [ids[2]]
    assert [m.item_ids for m in d.context.moments] == [[ids[1], ids[2]]]
    with pytest.raises(KeyError):
        d.remove_item("nope")


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    """mkstemp makes 0600 files; drafts, covers and captions must be readable like any file."""
    import os

    from creator.drafts import _UMASK, atomic_write_bytes
    from pipelines.cover import save_image
    from PIL import Image

    a = atomic_write_bytes(tmp_path / "a.bin", b"x")
    b = save_image(Image.new("RGB", (8, 8)), tmp_path / "封面.png")
    for p in (a, b):
        assert os.stat(p).st_mode & 0o777 == 0o666 & ~_UMASK
