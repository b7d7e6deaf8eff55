"""The editor in a real browser: Debian's chromium, headless, driven by selenium.

`streamlit run ui/app.py` serves on 127.0.0.1 (a free port); the test uploads ten
photos, generates a draft (lite profile), edits the title, reloads the page and finds
the edit still there, then visits every page and saves a screenshot of each (in
tmp_path, copied to /tmp/ui_shots/). It prints the time from the upload to the
complete draft on screen.

Needs /usr/bin/chromium and /usr/bin/chromedriver (`make system-deps` installs them);
Selenium Manager is never asked to download a driver.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import make_photo
from ui.launch import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/ui_shots")
SAMPLES = ["china", "flower", "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field"]

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    # `make test` installs them: a missing browser fails loudly rather than skip the test
    raise RuntimeError("the browser test needs Debian's chromium and chromium-driver "
                       "(/usr/bin/chromium, /usr/bin/chromedriver): run `make system-deps`")
from selenium import webdriver  # noqa: E402  (the dev extra)
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """A `streamlit run ui/app.py` on a free local port; yields (base url, drafts folder)."""
    port = _free_port()
    drafts = tmp_path / "草稿"
    # CREATOR_CACHE_DIR and CREATOR_MUSIC__LIBRARY come from tests/ui/conftest.py
    # (the small library); UI_TEST_DEMO_MUSIC=1 keeps the user's cache and the demo library.
    # (and the small video settings)
    env = dict(os.environ, CREATOR_DRAFTS_DIR=str(drafts), PYTHONPATH=str(ROOT))
    # the command `creator ui` runs, on a free port
    if os.environ.get("UI_TEST_DEMO_MUSIC") == "1":
        env.pop("CREATOR_CACHE_DIR", None)
        env.pop("CREATOR_MUSIC__LIBRARY", None)
    cmd = streamlit_command(port=port, headless=True) + ["--server.fileWatcherType", "none"]
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    def healthy(_) -> bool:
        if proc.poll() is not None:
            raise RuntimeError("streamlit stopped:\n" + (tmp_path / "streamlit.log").read_text())
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        try:  # an explicit wait on the server's health route (selenium's wait, no driver needed)
            WebDriverWait(proc, 60, poll_frequency=0.3).until(healthy)
        except TimeoutException:
            raise RuntimeError("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text()) from None
        yield base, drafts
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1440,1100", "--lang=zh-CN",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _photos(folder: Path, n: int = 10) -> list[Path]:
    """``n`` real photos of a two-day trip to Hangzhou (EXIF time and GPS), Chinese names."""
    start = datetime(2025, 10, 3, 9, 0)
    return [make_photo(folder / f"杭州_{k:02d}.jpg", SAMPLES[k % len(SAMPLES)], size=(640, 480),
                       taken_at=start + timedelta(days=k // 5, hours=k % 5),
                       gps=(30.25 + 0.01 * (k % 3), 120.15))
            for k in range(n)]


def _wait(driver, seconds: float = 60):
    return WebDriverWait(driver, seconds, poll_frequency=0.2)


def _button(driver, label: str, seconds: float = 30):
    return _wait(driver, seconds).until(EC.element_to_be_clickable(
        (By.XPATH, f"//button[.//*[normalize-space(text())='{label}']]")))


def _header(driver, text: str, seconds: float = 60) -> None:
    _wait(driver, seconds).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "h2"), text))


class _Settled:
    """A wait condition: the app has finished its run and the page has drawn (images
    loaded, no placeholders left), seen on ``polls`` checks in a row, so that a run
    starting just after an action is waited for too (no fixed sleep)."""

    def __init__(self, polls: int = 4) -> None:
        self.polls, self.seen = polls, 0

    def __call__(self, driver) -> bool:
        done = driver.execute_script(
            "const app = document.querySelector('[data-testid=stApp]');"
            "return !!app && app.getAttribute('data-test-script-state') === 'notRunning'"
            " && Array.from(document.images).every(i => i.complete)"
            " && !document.querySelector('[data-testid=stSkeleton]');")
        self.seen = self.seen + 1 if done else 0
        return self.seen >= self.polls


def _idle(driver, seconds: float = 60) -> None:
    """Wait until the app has finished its run and the page has drawn."""
    _wait(driver, seconds).until(_Settled())


def _dropzones(driver) -> list[dict]:
    """What each uploader's dropzone shows: its button's and its limit line's own text
    (font size) and the text put over them (CSS content)."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('[data-testid=stFileUploaderDropzone]')).map(z => {
          const b = z.querySelector('button [data-testid=stMarkdownContainer] p');
          const l = z.querySelector('[data-testid=stFileUploaderDropzoneInstructions] span');
          return {button: getComputedStyle(b, '::after').content, button_size: getComputedStyle(b).fontSize,
                  limit: getComputedStyle(l, '::after').content, limit_size: getComputedStyle(l).fontSize,
                  label: z.getAttribute('aria-label')};
        });""")


def _shot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / "shots" / f"{name}.png"
    path.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(path))
    SHOTS.mkdir(exist_ok=True)
    shutil.copyfile(path, SHOTS / path.name)
    return path


def test_upload_generate_edit_reload(server, browser, tmp_path):
    try:
        _journey(server, browser, tmp_path)
    except Exception:
        _shot(browser, tmp_path, "failure")
        print((tmp_path / "streamlit.log").read_text(errors="replace")[-5000:])
        raise


def _journey(server, driver, tmp_path) -> None:
    base, drafts = server
    photos = _photos(tmp_path / "照片")
    timings: dict[str, float] = {}

    # 1. the start page; upload ten photos
    driver.get(base + "/")
    _header(driver, "开始")
    _idle(driver)
    # Streamlit's dropzone says "Upload" and "200MB per file" in English: the zh editor puts its own words there
    zones = _dropzones(driver)
    assert [z["button"] for z in zones] == ['"上传"', '"上传文件夹"'], zones
    assert all(z["limit"].startswith('"每个文件不超过 200 MB · JPG、PNG') for z in zones), zones
    assert all(z["button_size"] == z["limit_size"] == "0px" for z in zones)  # the English is not shown
    assert [z["label"] for z in zones] == ["照片和视频", "或者：选择整个文件夹上传"]
    _shot(driver, tmp_path, "0_start_dropzone")
    upload = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[type='file']")))
    t0 = time.monotonic()
    upload.send_keys("\n".join(str(p) for p in photos))
    _wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), photos[-1].name))
    _shot(driver, tmp_path, "1_start")

    # 2. generate: the caption page opens with the draft's title
    _button(driver, "生成草稿").click()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stProgress"]')))
    # the progress line has moved past its first second (or the draft is already there)
    _wait(driver).until(lambda d: d.execute_script(
        "const p = document.querySelector('[data-testid=stProgress]');"
        "return !p || /· [1-9][0-9]*s/.test(p.textContent);"))
    _shot(driver, tmp_path, "2_generating")
    title = _wait(driver, 240).until(lambda d: next(
        (e for e in d.find_elements(By.CSS_SELECTOR, "input[aria-label='标题']") if e.get_attribute("value")),
        False))
    timings["upload_to_draft_s"] = time.monotonic() - t0
    _idle(driver)
    assert "draft=" in driver.current_url
    draft_id = driver.current_url.split("draft=")[1].split("&")[0]
    draft_json = drafts / draft_id / "draft.json"
    saved = json.loads(draft_json.read_text(encoding="utf-8"))
    assert len(saved["context"]["items"]) == 10
    assert saved["caption"]["title"] == title.get_attribute("value")
    _shot(driver, tmp_path, "3_caption")

    # 3. edit the title; the edit reaches draft.json without pressing anything else
    new_title = "西湖边的两天｜浏览器测试"
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys(Keys.DELETE)
    title.send_keys(new_title)
    _wait(driver, 20).until(lambda d: json.loads(draft_json.read_text(encoding="utf-8"))["caption"]["title"]
                            == new_title)
    _wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), f"{len(new_title)}/20"))

    # 4. reload: the edit is still there
    driver.refresh()
    _header(driver, "文案")
    _wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "input[aria-label='标题']")
                        .get_attribute("value") == new_title)

    # 5. every other page, by URL (as a bookmark or a reload would open it)
    for k, (page, header) in enumerate([("media", "素材"), ("music", "配乐"), ("cover", "封面"),
                                         ("video", "视频"), ("export", "导出"), ("drafts", "草稿")], start=4):
        driver.get(f"{base}/{page}?draft={draft_id}&lang=zh")
        _header(driver, header)
        _idle(driver)
        if page == "video":
            t1 = time.monotonic()
            _button(driver, "一键生成视频").click()
            _wait(driver, 240).until(EC.presence_of_element_located((By.CSS_SELECTOR, "video")))
            timings["video_s"] = time.monotonic() - t1
            _idle(driver)
        _shot(driver, tmp_path, f"{k}_{page}")

    # 6. the interface in English
    driver.get(f"{base}/caption?draft={draft_id}&lang=en")
    _header(driver, "Caption")
    _idle(driver)
    _shot(driver, tmp_path, "10_caption_en")
    driver.get(f"{base}/music?draft={draft_id}&lang=en")  # a zh draft: its music reasons in English here
    _header(driver, "Music")
    _idle(driver, 120)
    _shot(driver, tmp_path, "11_music_en")
    print(f"\nbrowser timings: {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    (SHOTS / "timings.json").write_text(json.dumps(timings))


def _type_in_the_body(browser, base: str, did: str, text: str) -> None:
    """Open the draft's caption page and type ``text`` at the end of the body, leaving the
    focus in it (nothing committed yet)."""
    browser.get(f"{base}/caption?draft={did}&lang=zh")
    _header(browser, "文案")
    _idle(browser)
    body = _wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "textarea[aria-label='正文']")))
    body.click()
    body.send_keys(Keys.END, text)


def test_the_first_sidebar_click_after_typing_in_the_body_opens_its_page(server, browser, saved_draft, tmp_path):
    """Issue 14 item 10: typing in the body and then clicking a page in the sidebar
    (the body loses focus, which commits it) opens that page at the first click, and
    the typing is saved."""
    from creator.types import Draft

    base, _ = server
    did, folder = saved_draft
    _type_in_the_body(browser, base, did, "第二天：龙井喝茶。")
    link = _wait(browser).until(EC.element_to_be_clickable(
        (By.XPATH, "//*[@data-testid='stSidebarNav']//a[.//*[normalize-space(text())='配乐']]")))
    link.click()  # once
    try:
        _header(browser, "配乐", 20)
    except Exception:
        _shot(browser, tmp_path, "sidebar_click_failure")
        raise
    _wait(browser, 20).until(lambda d: "第二天：龙井喝茶。" in Draft.load(folder).caption.body)
    _idle(browser)
    assert "draft=" + did in browser.current_url


def test_regenerate_right_after_typing_keeps_the_typing(server, browser, saved_draft, tmp_path):
    """Typing in the body and then clicking 重新生成 at once: the click was lost (a second
    one was needed) and in some tries the typing too. One click now saves the typing,
    regenerates, and keeps the typed caption among the other versions."""
    from creator.types import Draft

    base, _ = server
    did, folder = saved_draft
    before = Draft.load(folder).caption.text()
    _type_in_the_body(browser, base, did, "第二天：龙井喝茶。")
    button = _wait(browser).until(EC.element_to_be_clickable(
        (By.XPATH, "//button[.//*[normalize-space(text())='重新生成']]")))
    button.click()  # once
    try:
        _wait(browser, 60).until(lambda d: Draft.load(folder).caption.text() != before
                                 and any("第二天：龙井喝茶。" in c.body for c in Draft.load(folder).alternatives))
    except Exception:
        _shot(browser, tmp_path, "regenerate_click_failure")
        raise
    _idle(browser)
    kept = [c for c in Draft.load(folder).alternatives if "第二天：龙井喝茶。" in c.body]
    assert kept and kept[0].edited


def test_streamlits_own_words_are_chinese_in_the_zh_interface(server, browser, saved_draft, tmp_path):
    """Issue 14 item 9: the accessibility labels Streamlit writes itself ("Remove 湖" on a
    tag chip) read Chinese in the zh interface, and stay English in the English one."""
    base, _ = server
    did, _folder = saved_draft
    browser.get(f"{base}/media?draft={did}&lang=zh")
    _header(browser, "素材")
    _idle(browser)

    def labels(d):
        return [e.get_attribute("aria-label") for e in d.find_elements(By.CSS_SELECTOR, "[aria-label]")]

    try:
        _wait(browser, 20).until(lambda d: any(a.startswith("移除 ") for a in labels(d)))
    except TimeoutException:
        _shot(browser, tmp_path, "frontend_words_failure")
        raise
    assert not [a for a in labels(browser) if a.startswith("Remove ")], labels(browser)
    _shot(browser, tmp_path, "media_zh_frontend_words")
    browser.get(f"{base}/media?draft={did}&lang=en")
    _header(browser, "Media")
    _idle(browser)
    _wait(browser, 20).until(lambda d: any(a.startswith("Remove ") for a in labels(d)))
    assert not [a for a in labels(browser) if a.startswith("移除 ")]
