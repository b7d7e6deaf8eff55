"""AppTest tests of the editor's small things that looked broken (issue 14 items 7, 8, 10):
the chosen cover is marked, regenerating keeps it, the cover title follows an edited
caption title, a new hashtag chip has its "#", progress never sits at "0%", the first
music match says the library is being indexed, no "1 items", no server folders."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from creator.resources import load_prompt
from creator.types import Draft
from tests.ui.conftest import no_exceptions, panel

TIMEOUT = 120
USE = "用这个"


def _created_with_covers(folder: Path) -> Draft:
    """Covers as `creator make` leaves them: candidates in assets/, the chosen one copied
    to cover.png (the real cover stage)."""
    from creator.assistant import Assistant

    draft = Draft.load(folder)
    draft.covers = Assistant().cover(draft, out_dir=folder / "assets")  # the configured n, as the editor
    shutil.copyfile(draft.covers[0].path, folder / "cover.png")
    draft.cover = draft.covers[0].model_copy(update={"path": str(folder / "cover.png")})
    draft.save(folder)
    return Draft.load(folder)


def _use_buttons(at: AppTest):
    return [b for b in at.button if b.label == USE]


def test_the_cover_chosen_at_creation_is_marked_and_regenerating_keeps_a_choice(saved_draft):
    _, folder = saved_draft
    draft = _created_with_covers(folder)
    assert Path(draft.cover.path).name == "cover.png"
    at = panel("cover")
    no_exceptions(at)
    buttons = _use_buttons(at)
    n = len(draft.covers)
    assert len(buttons) == n >= 3
    assert [b.disabled for b in buttons] == [True] + [False] * (n - 1)  # the first is the chosen one
    assert sum("✅" in c.value for c in at.caption) == 1
    # choose the last, then regenerate the same covers: the choice stays on it
    buttons[-1].click().run()
    no_exceptions(at)
    last = Draft.load(folder).covers[-1]
    assert Draft.load(folder).cover == last
    at.button[0].click().run()  # the form's "regenerate covers", same title, all styles
    no_exceptions(at)
    after = Draft.load(folder)
    assert after.cover.style == last.style and after.cover.source == last.source
    assert after.cover != after.covers[0]
    assert [b.disabled for b in _use_buttons(at)] == [False] * (n - 1) + [True]


def test_the_cover_title_follows_the_caption_title_once_edited(saved_draft):
    _, folder = saved_draft
    _created_with_covers(folder)
    assert panel("cover").text_input[0].value == "杭州｜秋天的西湖慢慢走"
    caption = panel("caption")
    caption.text_input[0].set_value("西湖雾里的一天｜杭州慢游").run()
    no_exceptions(caption)
    assert Draft.load(folder).caption.title == "西湖雾里的一天｜杭州慢游"
    at = panel("cover")
    no_exceptions(at)
    assert at.text_input[0].value == "西湖雾里的一天｜杭州慢游"


def test_a_new_hashtag_chip_shows_its_hash(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    tags = at.multiselect[0]
    tags.set_value(["杭州", "西湖", "断桥"]).run()
    no_exceptions(at)
    assert Draft.load(folder).caption.hashtags == ["杭州", "西湖", "断桥"]
    chips = at.multiselect[0]
    assert chips.value == ["杭州", "西湖", "断桥"]
    assert "#断桥" in chips.options and "断桥" not in chips.options, chips.options


def test_a_warning_names_the_file_not_the_server_folder(saved_draft):
    _, folder = saved_draft
    draft = Draft.load(folder)
    hidden = str(folder / "media" / "西湖_9.jpg")
    draft.context.warnings = [f"{hidden}: cannot identify image file"]
    draft.save(folder)
    at = panel("caption")
    no_exceptions(at)
    shown = [w.value for w in at.warning]
    assert "西湖_9.jpg: cannot identify image file" in shown, shown
    assert not any(str(folder) in w or "/media/" in w for w in shown), shown


def test_the_first_music_match_says_the_library_is_being_indexed(saved_draft):
    # this module's cache is new (tests/ui/conftest.py): the library has no index yet
    from ui.panels.music import library_indexed

    notice = load_prompt("ui/strings.yaml")["strings"]["music_indexing"]["zh"]
    at = panel("music")
    no_exceptions(at)
    assert notice in [i.value for i in at.info]
    again = panel("music")  # the first page view indexed it
    no_exceptions(again)
    assert notice not in [i.value for i in again.info]
    assert library_indexed()


def test_a_stage_without_steps_never_shows_a_frozen_0_percent():
    from ui.session import _progress_view

    frac, text = _progress_view({"stage": "", "done": 0, "total": 1}, "挑配乐", 12.0)
    assert "0%" not in text and "12s" in text
    frac, text = _progress_view({"stage": "", "done": 0.4, "total": 1}, "video", 3.0)
    assert "40%" in text and frac == 0.4
    assert "3/10" in _progress_view({"stage": "", "done": 3, "total": 10}, "tag", 1.0)[1]


def test_no_string_says_1_items():
    """English strings with a count never put it before a plural noun ("1 items")."""
    strings = load_prompt("ui/strings.yaml")["strings"]
    plural = re.compile(r"\{n[^}]*\} (items|files|photos|clips|tracks|covers|drafts|days)\b")
    bad = {k: v["en"] for k, v in strings.items() if isinstance(v, dict) and plural.search(str(v.get("en", "")))}
    assert not bad, bad


def test_the_mood_map_colours_each_mood_by_its_id_in_both_languages():
    from ui.panels.music import mood_label, mood_map_spec

    points = [{"track_id": f"t{k}", "title": f"t{k}", "mood": m, "valence": 0.5, "energy": 0.5}
              for k, m in enumerate(["tender", "calm", "happy", "energetic"])]

    def spec(lang: str, pts) -> dict:
        labels = {"valence": "v", "energy": "e", "mood": "m", "this_note": "n"}
        labels.update({f"mood:{p['mood']}": mood_label(p["mood"], lang) for p in pts})
        return mood_map_spec(pts, (0.5, 0.5), chosen=None, labels=labels)["layer"][0]

    def colours(lang: str, pts) -> dict[str, str]:
        color = spec(lang, pts)["encoding"]["color"]
        assert color["field"] == "mood_id"  # the colour follows the id, never the localised name
        return dict(zip(color["scale"]["domain"], color["scale"]["range"]))

    zh, en = colours("zh", points), colours("en", points)
    assert zh == en and set(zh) == {"tender", "calm", "happy", "energetic"} and len(set(zh.values())) == 4
    assert colours("en", points[1:]) == {m: c for m, c in en.items() if m != "tender"}  # not by position
    # the legend and the tooltips say each mood in the interface language
    layer = spec("zh", points)
    assert "温柔" in layer["encoding"]["color"]["legend"]["labelExpr"]
    assert {r["mood"] for r in layer["data"]["values"]} == {mood_label(m, "zh") for m in zh}


def test_the_excerpt_slider_shows_the_saved_excerpt(saved_draft):
    _, folder = saved_draft
    at = panel("music")
    [b for b in at.button if b.label == "重新匹配配乐"][0].click().run()
    at.slider[0].set_range(1.3, 9.1).run()  # off the beats: the SDK snaps it
    no_exceptions(at)
    saved = Draft.load(folder).track.excerpt
    assert (saved.start, saved.end) != (1.3, 9.1)
    shown = at.slider[0]
    assert shown.value == (round(saved.start, 1), round(saved.end, 1)), (shown.value, saved)
    assert shown.step == 0.1 and "%.1f" in shown.format
