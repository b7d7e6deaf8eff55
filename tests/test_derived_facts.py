"""One source of truth for the note's facts: the items.

Moments' tags, the trip's top tags, places and mood are derived from the items whenever
a stage reads them, so an edit to the items (a tag added or removed, a photo taken out)
changes the next caption, soundtrack query and cover choice. Expected facts are written
here (this edit ⇒ this tag may no longer be said), not read from the checker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from creator.assistant import Assistant, _context
from creator.config import Settings
from creator.music.query import query_from_context
from creator.types import Draft
from creator.understanding.moments import derive_context
from creator.vocabulary import vocabulary
from tests.ui.conftest import make_context


@pytest.fixture
def draft(tmp_path) -> Draft:
    ctx = make_context(tmp_path / "照片")  # lake+autumn, temple+architecture, tea+food
    return Draft(context=ctx, order=[i.id for i in ctx.items])


@pytest.fixture
def assistant(tmp_path) -> Assistant:
    return Assistant(Settings(cache_dir=tmp_path / "cache"))


def test_derived_context_follows_a_removed_tag(draft):
    lake = draft.context.items[0]
    assert "lake" in {t.id for t in derive_context(draft.context).top_tags}
    lake.tags = [t for t in lake.tags if t.id != "lake"]  # as the editor's chips do
    ctx = derive_context(draft.context)
    assert "lake" not in {t.id for t in ctx.top_tags}
    assert all("lake" not in {t.id for t in m.tags} for m in ctx.moments)
    # the stored copy is stale; what a stage reads is not
    assert "lake" in {t.id for t in draft.context.top_tags}
    assert "lake" not in {t.id for t in _context(draft).top_tags}


def test_caption_follows_tag_edits_and_removed_photos(draft, assistant):
    zh = vocabulary()
    before = assistant.caption(draft, n=1)[0]
    assert "茶" in before.hashtags  # the tea photo's tag
    draft.remove_item(draft.context.items[2].id)  # the tea photo goes
    after = assistant.caption(draft, n=1)[0]
    assert "茶" not in after.hashtags and "茶" not in after.body
    lake = draft.context.items[0]
    lake.tags = [t for t in lake.tags if t.id != "lake"]
    again = assistant.caption(draft, n=1)[0]
    assert zh["lake"].zh not in again.text() and "湖" not in again.title
    # a tag the user added is a fact the caption may use
    lake.tags = lake.tags + [zh.tag("mountain", 1.0, "user")]
    added = assistant.caption(draft, n=1)[0]
    assert added.text() != again.text()
    assert any(w in added.text() for w in ("山", "登"))


def test_soundtrack_query_follows_the_items(draft):
    before = query_from_context(_context(draft), "en")
    draft.remove_item(draft.context.items[2].id)
    after = query_from_context(_context(draft), "en")
    assert before != after
    assert "tea" in str(before).lower() and "tea" not in str(after).lower()


def test_cover_choice_follows_the_items(draft, assistant, tmp_path):
    first = assistant.cover(draft, n=1, out_dir=tmp_path / "c1")[0]
    draft.remove_item(first.source.split(",")[0])
    second = assistant.cover(draft, n=1, out_dir=tmp_path / "c2")[0]
    assert first.source.split(",")[0] not in second.source.split(",")
