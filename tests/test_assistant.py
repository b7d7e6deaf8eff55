"""The SDK front door: stages on a real (small) trip, concurrency, create() into a folder."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from creator import Assistant, Draft
from creator.config import Settings
from creator.errors import InputError
from creator.understanding.backends import get_tagger
from tests.factories import make_photo


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("西湖")
    make_photo(root / "宫殿.jpg", "china", taken_at=datetime(2026, 10, 3, 9), gps=(30.25, 120.15))
    make_photo(root / "花.jpg", "flower", taken_at=datetime(2026, 10, 3, 10), gps=(30.251, 120.151))
    make_photo(root / "咖啡.jpg", "coffee", taken_at=datetime(2026, 10, 4, 16), gps=(30.26, 120.16))
    return root


@pytest.fixture(scope="module")
def assistant():
    return Assistant()


def test_concurrent_requests_share_one_model(assistant, photos):
    barrier = threading.Barrier(4)

    def request(k):
        barrier.wait()  # all four start together
        ctx = assistant.understand([photos])
        caps = assistant.caption(ctx, language="zh" if k % 2 else "en", n=1, seed=k)
        return ctx, caps[0]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(request, range(4)))
    contexts = [r[0] for r in results]
    assert all(c.model_dump() == contexts[0].model_dump() for c in contexts)
    assert {r[1].language for r in results} == {"zh", "en"}
    assert get_tagger(assistant.settings.tagging) is get_tagger(assistant.settings.tagging)


def test_create_saves_a_complete_draft_and_stages_rerun_on_it(assistant, photos, tmp_path):
    calls = []
    out = tmp_path / "笔记"
    draft = assistant.create([photos], language="zh", out_dir=out, progress=lambda s, d, t: calls.append(s))
    assert draft.warnings == []
    assert draft.caption and "杭州" in draft.caption.text()
    assert draft.track and draft.track.excerpt and draft.track.license == "MIT"
    assert draft.cover and (out / "cover.png").is_file()
    assert {"tag", "caption", "soundtrack", "cover"} <= set(calls)

    back = Draft.load(out)
    assert back.caption == draft.caption and back.order == draft.order
    # re-run a stage on the edited draft
    back.caption = back.caption.model_copy(update={"title": "我改过的标题"})
    covers = assistant.cover(back, out_dir=tmp_path / "again", n=1)
    assert covers[0].title == "我改过的标题"
    zipped = assistant.export_zip(out)
    assert zipped.is_file()


def test_nothing_usable_is_a_clear_error(assistant, tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    from creator.errors import MediaError

    with pytest.raises(MediaError, match="nothing usable"):  # the media's fault, not an argument's
        assistant.create([tmp_path / "a.txt"])


def test_excerpt_moves_onto_beats_and_rereads_them(tmp_path):
    from tests.factories import make_click_track

    lib = tmp_path / "歌"
    _, true_beats = make_click_track(lib / "clicks.wav", bpm=120, duration=30)
    settings = Settings(cache_dir=tmp_path / "cache")
    settings.music.library = lib
    a = Assistant(settings)
    track = a.soundtrack(query="relaxed seaside evening", length=10)[0]
    moved = a.excerpt(track, start=7.1, end=17.3)
    assert abs(moved.excerpt.start - 7.0) < 0.06 and abs(moved.excerpt.end - 17.5) < 0.06  # beats every 0.5 s
    inside = [b - moved.excerpt.start for b in true_beats if moved.excerpt.start - 0.01 <= b < moved.excerpt.end - 0.01]
    assert len(moved.beats) == len(inside)
    assert max(abs(x - y) for x, y in zip(moved.beats, inside)) < 0.06
    with pytest.raises(InputError):
        a.excerpt(track, start=5, end=4)


def test_create_into_a_folder_another_writer_holds_fails_at_once(assistant, photos, tmp_path):
    """The draft folder's lock (creator.drafts.draft_lock) is held by another writer (here
    a thread; tests/reliability has two processes): create refuses before any work."""
    from creator.drafts import draft_lock
    from creator.errors import DraftError

    out = tmp_path / "笔记"
    out.mkdir()
    held, done = threading.Event(), threading.Event()

    def writer():
        with draft_lock(out):
            held.set()
            done.wait(30)

    t = threading.Thread(target=writer)
    t.start()
    try:
        held.wait(10)
        reported = []
        with pytest.raises(DraftError, match="another process is writing"):
            assistant.create([photos], out_dir=out, progress=lambda *a: reported.append(a))
        assert reported == []  # refused before understanding anything
    finally:
        done.set()
        t.join()
    assert list(out.iterdir()) in ([], [out / ".draft.lock"])


def test_create_keeps_an_existing_draft_unless_overwrite(assistant, photos, tmp_path):
    from creator.types import Caption

    out = tmp_path / "笔记"
    mine = Draft(context=assistant.understand([photos]), caption=Caption(title="我改过的标题", body="正文"))
    mine.save(out)
    before = (out / "draft.json").read_bytes()
    with pytest.raises(InputError, match="already holds a draft.*overwrite=True"):
        assistant.create([photos], out_dir=out)
    assert (out / "draft.json").read_bytes() == before
    again = assistant.create([photos], out_dir=out, overwrite=True, language="en", n_captions=1)
    assert again.language == "en" and Draft.load(out).caption == again.caption != mine.caption


def test_create_checks_its_options_before_any_work(tmp_path):
    from creator.errors import InputError

    a = Assistant(Settings(cache_dir=tmp_path / "cache"))
    # an empty folder: had the run started, understanding would have failed first
    # ("nothing usable"); the bad option is named instead, and no folder is made
    (tmp_path / "空").mkdir()
    with pytest.raises(InputError, match="style: unknown style 'fancy'"):
        a.create([tmp_path / "空"], style="fancy", out_dir=tmp_path / "笔记")
    with pytest.raises(InputError, match="language"):
        a.create([tmp_path / "空"], language="fr")
    assert not (tmp_path / "笔记").exists()


def test_tests_never_write_to_the_users_cache(private_cache):
    real = Path.home() / ".cache"
    for settings in (Settings(), Assistant().settings):
        assert Path(settings.cache_dir) == private_cache
        assert not Path(settings.cache_dir).resolve().is_relative_to(real.resolve())
