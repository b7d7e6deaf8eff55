"""AppTest of the carousel page (ui/panels/carousel.py) on a draft saved on disk: make the
carousel, reorder, remove, move a crop, label, swap, export to post/; each edit is in
draft.json at once, and the images shown are the posted ones."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from creator.types import Draft
from pipelines.carousel import post_zip
from tests.factories import make_photo
from tests.ui.test_panels import no_exceptions, panel


def _button(at, label: str, k: int = 0):
    return [b for b in at.button if b.label == label][k]


def test_carousel_page_edits_are_saved_and_posted(saved_draft):
    _, folder = saved_draft
    # the fixture's three photos are one gradient (the carousel shows a shot once): make
    # them three real, different photos
    from creator.media import content_id

    draft = Draft.load(folder)
    for item, name in zip(draft.context.items, ("china", "coffee", "flower")):
        make_photo(item.path, name, size=(240, 180))
        item.id = content_id(item.path)  # the editor reads a photo only with the content it was understood with
    draft.order = [i.id for i in draft.context.items]
    draft.save(folder)
    at = panel("carousel")
    no_exceptions(at)
    assert at.info  # no carousel yet
    _button(at, "重新挑选照片").click().run()
    no_exceptions(at)
    draft = Draft.load(folder)
    first = [e.item_id for e in draft.carousel]
    assert len(first) == 3 and [e.file for e in draft.carousel] == ["01.jpg", "02.jpg", "03.jpg"]
    assert len(at.get("image")) == 3  # previews rendered through the posting code

    _button(at, "▶", 0).click().run()  # first one later
    no_exceptions(at)
    assert [e.item_id for e in Draft.load(folder).carousel] == [first[1], first[0], first[2]]

    _button(at, "✕", 2).click().run()  # remove the last
    no_exceptions(at)
    draft = Draft.load(folder)
    assert [e.item_id for e in draft.carousel] == [first[1], first[0]]
    assert [e.file for e in draft.carousel] == ["01.jpg", "02.jpg"]

    at.slider[0].set_value(0.0).run()  # the 4:3 photo's 3:4 crop to the left edge
    no_exceptions(at)
    box = Draft.load(folder).carousel[0].box
    assert box[0] == 0.0 and abs((box[2] - box[0]) / (box[3] - box[1]) - 0.75) < 0.01

    at.toggle[1].set_value(True).run()  # the first tile's label (toggle 0 is the form's)
    no_exceptions(at)
    assert Draft.load(folder).carousel[0].label == "杭州"

    at.selectbox[1].set_value(first[2]).run()  # swap the first tile's photo for the removed one
    no_exceptions(at)
    draft = Draft.load(folder)
    assert draft.carousel[0].item_id == first[2] and draft.carousel[0].label == "杭州"

    _button(at, "写入 post/ 文件夹").click().run()
    no_exceptions(at)
    post = folder / "post"
    assert sorted(p.name for p in post.glob("*.jpg")) == ["01.jpg", "02.jpg"]
    assert all(Image.open(p).size == (1080, 1440) for p in post.glob("*.jpg"))
    assert (post / "caption.txt").read_text("utf-8") == draft.caption.text()
    assert at.success
    # the folder as a zip, and each text block on its own to copy
    assert at.get("download_button")
    zipped = zipfile.ZipFile(io.BytesIO(post_zip(post)))
    assert sorted(zipped.namelist()) == sorted(p.name for p in post.iterdir())
    assert zipped.read("caption.txt").decode("utf-8") == draft.caption.text()
    c = draft.caption
    assert [x.value for x in at.code] == [c.title, c.body.strip(), " ".join(f"#{h}" for h in c.hashtags)]


def test_a_photo_gone_from_the_draft_is_a_slot_to_remove_not_a_traceback(saved_draft):
    """A carousel entry for a photo the draft no longer has (removed before the fix that
    takes entries with it, or a hand-edited draft.json) was a KeyError traceback."""
    from creator.types import CarouselEntry

    _, folder = saved_draft
    draft = Draft.load(folder)
    draft.carousel = [CarouselEntry(item_id="0123456789abcdef", box=(0, 0, 10, 10), file="01.jpg")]
    draft.save(folder)
    at = panel("carousel")
    no_exceptions(at)
    assert any("01.jpg" in w.value and "不在草稿里" in w.value for w in at.warning)
    _button(at, "✕").click().run()
    no_exceptions(at)
    assert Draft.load(folder).carousel == []


def test_a_collage_of_every_photo_says_why_no_photo_follows(saved_draft):
    from creator.types import Cover

    _, folder = saved_draft
    draft = Draft.load(folder)
    draft.cover = Cover(title="西湖", style="collage", source=",".join(i.id for i in draft.context.items))
    draft.carousel = []
    draft.save(folder)
    at = panel("carousel")
    no_exceptions(at)
    assert any("拼图" in i.value for i in at.info)
