"""The editor's caption follows the note's items, and Regenerate never loses the
creator's own text (AppTest, drafts on disk)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from creator.types import Draft
from tests.ui.test_panels import no_exceptions, panel


def regenerate(at: AppTest) -> None:
    [b for b in at.button if b.label == "重新生成"][0].click().run()
    no_exceptions(at)


def test_a_tag_removed_on_the_media_page_leaves_the_next_caption(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    regenerate(at)
    before = Draft.load(folder)
    assert any("茶" in c.text() for c in [before.caption, *before.alternatives])  # tea is said
    media = panel("media")
    tea = next(k for k, i in enumerate(Draft.load(folder).ordered_items()) if any(t.id == "tea" for t in i.tags))
    media.multiselect[tea].set_value(["food"]).run()
    no_exceptions(media)
    at = panel("caption")
    regenerate(at)
    after = Draft.load(folder)
    assert not any("茶" in c.text() for c in [after.caption, *after.alternatives])


def test_regenerate_gives_new_text_and_keeps_the_edited_caption(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    regenerate(at)
    first = Draft.load(folder).caption
    regenerate(at)
    second = Draft.load(folder).caption
    assert second.text() != first.text()  # a new seed each time
    at.text_area[0].set_value("我自己写的：西湖边走了一整天。").run()
    assert Draft.load(folder).caption.edited
    regenerate(at)
    draft = Draft.load(folder)
    assert draft.caption.body != "我自己写的：西湖边走了一整天。"
    kept = [c for c in draft.alternatives if c.body == "我自己写的：西湖边走了一整天。"]
    assert kept and kept[0].edited
    assert any("保留" in i.value for i in at.info)  # the editor says so
    assert any("你改过的" in c.value for c in at.caption)


def test_many_regenerates_keep_each_edited_text_once_three_to_a_row(saved_draft):
    """Every regenerate keeps the edited versions: the same edited text piled up, and six
    versions sat in six columns about 80 px wide each."""
    _, folder = saved_draft
    at = panel("caption")
    at.text_area[0].set_value("我自己写的：西湖边走了一整天。").run()
    for _ in range(4):
        regenerate(at)
        draft = Draft.load(folder)
        assert [c.body for c in draft.alternatives].count("我自己写的：西湖边走了一整天。") == 1
    no_exceptions(at)
    at.text_area[0].set_value("我自己写的第二版：苏堤走到白堤。").run()
    regenerate(at)
    n = len(Draft.load(folder).alternatives)
    assert n == 4
    # the versions' tiles, each in a column: their rows hold three at most
    tiles = [c for c in at.columns if any(b.label == "用这个" for b in c.button)]
    assert len(tiles) == n
    assert all(abs(c.weight - 1 / 3) < 1e-6 for c in tiles), [c.weight for c in tiles]  # st.columns(3)
