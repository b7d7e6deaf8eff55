"""The backend cache and contract."""

from __future__ import annotations

import threading

from creator.config import TaggingSettings
from creator.understanding.backends import TaggingBackend, clear_taggers, get_tagger
from creator.understanding.lite import LiteTagger


def test_lite_is_cached_once_per_settings_even_across_threads():
    clear_taggers()
    settings = TaggingSettings()
    got = []
    threads = [threading.Thread(target=lambda: got.append(get_tagger(settings))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(g) for g in got}) == 1
    tagger = got[0]
    assert isinstance(tagger, LiteTagger) and isinstance(tagger, TaggingBackend)
    assert tagger.min_score == settings.min_score and tagger.max_tags == settings.max_tags
    assert get_tagger(TaggingSettings(min_score=0.3)) is not tagger


def test_clip_backend_is_built_lazily():
    # building the clip backend must not load anything yet (no model, no network)
    tagger = get_tagger(TaggingSettings(backend="clip", clip_model="/nonexistent/模型"))
    assert tagger.name == "clip" and isinstance(tagger, TaggingBackend)
