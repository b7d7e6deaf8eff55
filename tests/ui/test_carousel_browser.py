"""The carousel page and its phone preview in a real browser (Debian's chromium,
headless, selenium) at a phone's width, in zh and en: the feed card and the note page
are there, hold every posted picture, and nothing spills past the phone's width.
Screenshots go to /tmp/ui_shots/ (carousel_phone_zh.png, carousel_phone_en.png)."""

from __future__ import annotations

import shutil

from creator.assistant import Assistant
from creator.types import Caption, Draft
from tests.factories import make_photo
from tests.ui.conftest import DRAFT_ID, make_context
from tests.ui.test_browser import _header, _idle, _shot, _wait, browser, server  # noqa: F401  (fixtures)
from selenium.webdriver.common.by import By  # noqa: E402


def _draft(folder, photos) -> None:
    from creator.media import content_id

    ctx = make_context(photos)
    for item, name in zip(ctx.items, ("china", "coffee", "flower")):  # three different real photos
        make_photo(item.path, name, size=(640, 480))
        item.id = content_id(item.path)  # the editor shows a photo only with the content it was understood with
    caption = Caption(title="杭州｜秋天的西湖慢慢走", body="第一天：西湖边散步。\n第二天：龙井喝茶。",
                      hashtags=["杭州", "西湖", "秋天"], language="zh")
    draft = Draft(context=ctx, order=[i.id for i in ctx.items], caption=caption)
    a = Assistant()
    cover = a.cover(draft, style="magazine", n=1, out_dir=folder / "assets")[0]
    shutil.copyfile(cover.path, folder / "cover.png")
    draft.cover = cover.model_copy(update={"path": str(folder / "cover.png")})
    draft.carousel = a.carousel(draft, labels=True)
    draft.save(folder)


def test_phone_preview_at_phone_width(server, browser, tmp_path):  # noqa: F811
    base, drafts = server
    _draft(drafts / DRAFT_ID, drafts / DRAFT_ID / "media")  # uploads live in the draft's folder
    n_pictures = 1 + len(Draft.load(drafts / DRAFT_ID).carousel)
    browser.set_window_size(400, 1400)
    for lang, header in (("zh", "图文轮播"), ("en", "Carousel")):
        browser.get(f"{base}/carousel?draft={DRAFT_ID}&lang={lang}")
        _header(browser, header)
        _wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".tn-phone"))
        _idle(browser)
        phones = browser.find_elements(By.CSS_SELECTOR, ".tn-phone")
        assert len(phones) == 2  # the feed and the note page
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", phones[0])
        _idle(browser)
        _shot(browser, tmp_path, f"carousel_phone_{lang}")
        assert len(browser.find_elements(By.CSS_SELECTOR, ".tn-track img")) == n_pictures
        assert browser.find_element(By.CSS_SELECTOR, ".tn-title").text == "杭州｜秋天的西湖慢慢走"
        assert browser.find_element(By.CSS_SELECTOR, ".tn-tags").text == "#杭州 #西湖 #秋天"
        for phone in phones:  # nothing wider than the phone
            assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", phone)
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert all(p.rect["x"] >= 0 and p.rect["x"] + p.rect["width"] <= width + 1 for p in phones)
