"""AppTest tests of each editor panel, against drafts saved on disk.

Each test renders one panel (ui/panels/<name>.py) headlessly, acts on its widgets as a
user would, and checks what was saved in draft.json: the editor keeps no state that
the draft on disk lacks.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from creator.types import Cover, Draft
from creator.vocabulary import vocabulary
from tests.ui.conftest import DRAFT_ID, panel_script

TIMEOUT = 60


def panel(name: str, draft_id: str | None = DRAFT_ID, lang: str = "zh") -> AppTest:
    at = AppTest.from_string(panel_script(name), default_timeout=TIMEOUT)
    if draft_id:
        at.query_params["draft"] = draft_id
    at.query_params["lang"] = lang
    return at.run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# -- media ---------------------------------------------------------------------------

def test_media_shows_every_item_with_its_tags_as_chips(saved_draft):
    _, folder = saved_draft
    at = panel("media")
    no_exceptions(at)
    draft = Draft.load(folder)
    assert len(at.multiselect) == len(draft.context.items) == 3
    assert len(at.get("image")) == 3  # real thumbnails decoded from the photos
    assert at.multiselect[0].value == [t.id for t in draft.ordered_items()[0].tags]
    assert at.multiselect[0].format_func("lake") == vocabulary()["lake"].zh


def test_media_says_why_a_photo_is_not_shown(saved_draft, tmp_path):
    """A hand-edited draft's item pointing at /etc/passwd or a missing file was a bare 🖼️
    with tags and no word of why."""
    _, folder = saved_draft
    draft = Draft.load(folder)
    draft.context.items[0].path = "/etc/passwd"
    draft.context.items[1].path = str(folder / "media" / "不见了.jpg")
    draft.save(folder)
    at = panel("media")
    no_exceptions(at)
    said = [w.value for w in at.warning]
    assert any("passwd" in w and "不在草稿文件夹" in w for w in said), said
    assert any("找不到文件：不见了.jpg" in w for w in said), said
    assert not any("/etc" in w or str(folder) in w for w in said)
    assert len(at.get("image")) == 1


def test_media_shows_a_frame_of_a_clip(saved_draft, tmp_path):
    from creator.types import ClipInfo, MediaItem, MediaKind
    from tests.factories import make_clip

    from creator.media import content_id

    _, folder = saved_draft
    clip = make_clip(folder / "media" / "视频.mp4", duration=1.0, audio=False)  # an upload
    draft = Draft.load(folder)
    draft.context.items = draft.context.items + [MediaItem(
        path=str(clip), id=content_id(clip), kind=MediaKind.clip, width=320, height=240,
        clip=ClipInfo(duration=1.0, fps=25, width=320, height=240))]
    draft.save(folder)
    at = panel("media")
    no_exceptions(at)
    assert len(at.multiselect) == 4
    assert len(at.get("image")) == 4  # the clip's tile shows one of its frames
    assert "视频.mp4" in [c.value for c in at.caption]


def test_media_tag_edit_replaces_the_items_tags_and_saves(saved_draft):
    _, folder = saved_draft
    at = panel("media")
    first = Draft.load(folder).ordered_items()[0]
    at.multiselect[0].set_value(["lake", "sunset"]).run()
    no_exceptions(at)
    item = Draft.load(folder).context.item(first.id)
    assert [t.id for t in item.tags] == ["lake", "sunset"]
    assert item.tags[0].source == first.tags[0].source  # a kept tag keeps its evidence
    assert item.tags[1].source == "user" and item.tags[1].score == 1.0
    assert item.tags[1].label_zh and item.tags[1].label_en


def test_media_reorder_and_remove_are_saved(saved_draft):
    _, folder = saved_draft
    ids = [i.id for i in Draft.load(folder).ordered_items()]
    at = panel("media")
    down = [b for b in at.button if b.label == "↓"]
    down[0].click().run()
    no_exceptions(at)
    assert [i.id for i in Draft.load(folder).ordered_items()] == [ids[1], ids[0], ids[2]]
    remove = [b for b in at.button if b.label == "✕"]
    remove[-1].click().run()
    no_exceptions(at)
    draft = Draft.load(folder)
    assert [i.id for i in draft.ordered_items()] == [ids[1], ids[0]]
    assert len(at.multiselect) == 2
    assert Path(Draft.load(folder).ordered_items()[0].path).exists()


def test_media_same_content_twice_has_a_tile_each(saved_draft):
    """Two files with identical content share one item id (a folder may hold copies):
    each tile's widgets still get their own keys (it was StreamlitDuplicateElementKey),
    and moving the second tile moves that one."""
    _, folder = saved_draft
    draft = Draft.load(folder)
    first = draft.context.items[0]
    copy = first.model_copy(update={"path": first.path.replace("西湖_0", "西湖_0 副本")})
    draft.context.items = draft.context.items + [copy]
    draft.order = draft.order + [first.id]
    draft.save(folder)
    ids = [i.id for i in Draft.load(folder).ordered_items()]
    assert ids.count(first.id) == 2
    at = panel("media")
    no_exceptions(at)
    assert len(at.multiselect) == 4
    up = [b for b in at.button if b.label == "↑"]
    up[-1].click().run()  # the copy, last, one place up
    no_exceptions(at)
    assert [i.id for i in Draft.load(folder).ordered_items()] == [ids[0], ids[1], ids[0], ids[2]]


# -- caption -------------------------------------------------------------------------

def test_caption_title_edit_is_counted_and_saved(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    no_exceptions(at)
    title = at.text_input[0]
    assert title.value == "杭州｜秋天的西湖慢慢走"
    title.set_value("西湖的秋天，一个人慢慢走完苏堤白堤再去龙井村喝一杯茶").run()
    no_exceptions(at)
    assert Draft.load(folder).caption.title == "西湖的秋天，一个人慢慢走完苏堤白堤再去龙井村喝一杯茶"
    assert at.error and "20" in at.error[0].value  # over the limit: said in red
    at.text_input[0].set_value("西湖秋日").run()
    assert not at.error
    assert any("4/20" in c.value for c in at.caption)


def test_caption_body_and_hashtags_are_saved(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    at.text_area[0].set_value("第一天：苏堤。\n第二天：龙井。").run()
    at.multiselect[0].set_value(["杭州", "#秋天"]).run()
    no_exceptions(at)
    caption = Draft.load(folder).caption
    assert caption.body == "第一天：苏堤。\n第二天：龙井。"
    assert caption.hashtags == ["杭州", "秋天"]


def test_caption_alternative_swaps_with_the_caption(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    use = [b for b in at.button if b.label == "用这个"]
    assert len(use) == 1
    use[0].click().run()
    no_exceptions(at)
    draft = Draft.load(folder)
    assert draft.caption.title == "西湖一日"
    assert [c.title for c in draft.alternatives] == ["杭州｜秋天的西湖慢慢走"]
    assert at.text_input[0].value == "西湖一日"  # the widgets show the new caption


def test_caption_regenerate_with_style_hint_and_language(saved_draft):
    _, folder = saved_draft
    at = panel("caption")
    assert at.selectbox[0].format_func("guide") == "攻略"
    at.selectbox[0].set_value("mood")
    at.radio[0].set_value("en")
    at.text_input[1].set_value("first trip with friends")
    [b for b in at.button if b.label == "重新生成"][0].click().run()
    no_exceptions(at)
    draft = Draft.load(folder)
    assert draft.language == "en"
    assert draft.caption.language == "en" and draft.caption.style == "mood"
    assert len(draft.alternatives) == 2
    assert draft.caption.title != "杭州｜秋天的西湖慢慢走"
    assert at.text_input[0].value == draft.caption.title  # the editor shows the new draft
    assert len([b for b in at.button if b.label == "用这个"]) == 2


def test_caption_in_english(saved_draft):
    at = panel("caption", lang="en")
    no_exceptions(at)
    assert at.text_input[0].label == "Title"
    assert at.header[0].value == "Caption"


def test_panel_without_a_draft_points_to_start(drafts_root):
    for name in ("media", "caption", "music", "cover", "video", "export"):
        at = panel(name, draft_id=None, lang="en")
        no_exceptions(at)
        assert "Start" in at.info[0].value, name


# -- music (the real soundtrack stage over a small library) -----------------------------

def test_music_matches_plays_maps_and_chooses(saved_draft):
    _, folder = saved_draft
    at = panel("music")
    no_exceptions(at)
    assert at.info and "配乐" in at.info[0].value  # nothing matched yet
    [b for b in at.button if b.label == "重新匹配配乐"][0].click().run()
    no_exceptions(at)
    draft = Draft.load(folder)
    assert len(draft.tracks) == 3 and draft.track == draft.tracks[0]
    assert len(at.get("audio")) == 3
    assert all(m.reason for m in draft.tracks)
    assert any(m.reason in md.value for m in draft.tracks for md in at.markdown)
    chart = at.get("vega_lite_chart")
    assert len(chart) == 1
    # the mood map: every library track, and the note's own point
    spec = json.loads(chart[0].proto.spec)
    assert len(spec["layer"][0]["data"]["values"]) == 3
    assert spec["layer"][1]["data"]["values"][0]["valence"] == pytest.approx(draft.context.valence)
    assert all(not p["mood"].isascii() for p in spec["layer"][0]["data"]["values"])  # mood names in zh
    # choose the second match
    choose = [b for b in at.button if b.label == "选这首" and not b.disabled]
    choose[0].click().run()
    no_exceptions(at)
    assert Draft.load(folder).track.track_id == draft.tracks[1].track_id


def test_music_a_new_match_replaces_the_automatic_pick_but_not_the_users(saved_draft):
    """After a tag edit or a query, 重新匹配配乐 kept the track `creator make` had picked,
    ranked first above better ones, and emptied the query field. The automatic pick now
    gives way to the new best; a track the user chose stays chosen."""
    _, folder = saved_draft
    draft = Draft.load(folder)
    at = panel("music")
    rematch = lambda: [b for b in at.button if b.label == "重新匹配配乐"][0]  # noqa: E731
    rematch().click().run()
    first = Draft.load(folder)
    assert first.track == first.tracks[0] and not first.track_picked
    # as make leaves it: the automatic pick is some track that is not the new best
    draft = Draft.load(folder)
    draft.track = draft.tracks[-1]
    draft.save(folder)
    at = panel("music")
    at.text_input[0].set_value("欢快热闹的音乐").run()
    rematch().click().run()
    no_exceptions(at)
    again = Draft.load(folder)
    assert again.track == again.tracks[0]
    assert at.text_input[0].value == "欢快热闹的音乐"  # the query stays in its field
    # the user's own choice survives a new match
    [b for b in at.button if b.label == "选这首" and not b.disabled][-1].click().run()
    picked = Draft.load(folder).track.track_id
    assert Draft.load(folder).track_picked
    at.text_input[0].set_value("安静的夜晚").run()
    rematch().click().run()
    no_exceptions(at)
    assert Draft.load(folder).track.track_id == picked


def test_music_excerpt_can_be_moved(saved_draft):
    _, folder = saved_draft
    at = panel("music")
    [b for b in at.button if b.label == "重新匹配配乐"][0].click().run()
    track = Draft.load(folder).track
    slider = at.slider[0]
    length = track.excerpt.end - track.excerpt.start
    start = 0.0 if track.excerpt.start > 1 else 1.0
    slider.set_range(start, start + round(length)).run()
    no_exceptions(at)
    moved = Draft.load(folder).track
    # the SDK snaps the excerpt to the track's beats (80 BPM: a beat every 0.75 s)
    assert abs(moved.excerpt.start - start) <= 0.375 and abs(moved.excerpt.end - (start + round(length))) <= 0.375
    assert moved.excerpt.start != track.excerpt.start
    assert moved.beats and moved.beats[0] >= 0 and moved.beats[-1] < moved.excerpt.duration
    assert moved.track_id == track.track_id


# -- cover (the real cover stage) -----------------------------------------------------

def test_cover_regenerate_choose_and_retitle(saved_draft):
    _, folder = saved_draft
    at = panel("cover")
    no_exceptions(at)
    assert at.info  # no covers yet
    at.text_input[0].set_value("西湖｜秋日封面")
    at.selectbox[0].set_value("minimal")
    at.button[0].click().run()  # the form's submit
    no_exceptions(at)
    draft = Draft.load(folder)
    assert draft.covers and all(Path(c.path).is_file() for c in draft.covers)
    assert all(c.style == "minimal" and c.title == "西湖｜秋日封面" for c in draft.covers)
    assert Path(draft.covers[0].path).parent == folder / "assets"
    assert draft.cover == draft.covers[0]
    assert len(at.get("image")) == len(draft.covers)
    at.button[0].click().run()  # all styles
    draft = Draft.load(folder)
    assert len({c.style for c in draft.covers}) > 1
    pick = [b for b in at.button if b.label == "用这个" and not b.disabled]
    pick[-1].click().run()
    no_exceptions(at)
    assert Draft.load(folder).cover == draft.covers[-1]


def test_cover_title_problems_are_said_in_the_interface_language(saved_draft):
    """An emptied title said "…leave it unset for a default one" (the form cannot), in
    English; the field takes no more than the cover's limit."""
    _, folder = saved_draft
    at = panel("cover")
    assert at.text_input[0].max_chars == 200
    at.text_input[0].set_value("   ")
    at.button[0].click().run()
    no_exceptions(at)
    assert [e.value for e in at.error] == ["封面标题是空的：写一个标题再生成。"]
    assert not Draft.load(folder).covers


# -- video (the real renderer, small and short) -----------------------------------------

def test_video_one_click_preview_and_download(saved_draft):
    _, folder = saved_draft
    music = panel("music")
    [b for b in music.button if b.label == "重新匹配配乐"][0].click().run()
    at = panel("video")
    no_exceptions(at)
    at.button[0].click().run(timeout=240)
    no_exceptions(at)
    draft = Draft.load(folder)
    assert draft.video is not None and Path(draft.video.path) == folder / "note.mp4"
    assert Path(draft.video.path).stat().st_size > 1000
    assert (draft.video.width, draft.video.height) == (270, 480)
    assert len(at.get("video")) == 1
    assert len(at.get("download_button")) == 1
    assert draft.caption.title == "杭州｜秋天的西湖慢慢走"  # the rest of the draft is kept


# -- export ----------------------------------------------------------------------------

def t_zh(key: str) -> str:
    from creator.resources import load_prompt

    return load_prompt("ui/strings.yaml")["strings"][key]["zh"]


def test_export_zip_holds_the_parts(saved_draft):
    _, folder = saved_draft
    panel("cover").button[0].click().run()
    at = panel("export")
    no_exceptions(at)
    assert "视频" in at.info[0].value  # says what is missing
    codes = [c.value for c in at.code]
    # title, body and hashtags each in a block of their own (copy buttons), then the whole text
    assert codes[0] == "杭州｜秋天的西湖慢慢走" and codes[2] == "#杭州 #西湖"
    assert "杭州｜秋天的西湖慢慢走" in codes[3]
    [b for b in at.button if b.label == "写入 post/ 文件夹"][0].click().run()
    no_exceptions(at)
    assert (folder / "post" / "01.jpg").is_file() and (folder / "post" / "hashtags.txt").read_text(
        encoding="utf-8").strip() == "#杭州 #西湖"
    assert len(at.get("download_button")) == 1  # post/ as a zip
    [b for b in at.button if b.label == t_zh("make_zip")][0].click().run()
    no_exceptions(at)
    assert len(at.get("download_button")) == 2
    with zipfile.ZipFile(folder / "note.zip") as z:
        names = set(z.namelist())
    assert {"draft.json", "caption.md"} <= names
    assert Path(Draft.load(folder).cover.path).name in names


# -- drafts ----------------------------------------------------------------------------

def test_drafts_lists_and_reopens(saved_draft, drafts_root):
    did, folder = saved_draft
    other = Draft.load(folder)
    other.caption.title = "另一份草稿"
    other.save(drafts_root / "20251004-100000-abcd")
    at = panel("drafts", draft_id=did)
    no_exceptions(at)
    titles = [m.value for m in at.markdown if "**" in m.value]
    assert len(titles) == 2 and "另一份草稿" in titles[0]  # newest first
    [b for b in at.button if b.label == "打开" and not b.disabled][0].click().run()
    no_exceptions(at)
    assert at.query_params["draft"] == "20251004-100000-abcd"
    assert at.text_input[0].value == "另一份草稿"  # the caption page of the reopened draft


def test_music_own_track_upload_is_chosen(saved_draft, tmp_path):
    from tests.factories import make_click_track

    _, folder = saved_draft
    wav, _ = make_click_track(tmp_path / "我的歌.wav", bpm=100, duration=20)
    at = panel("music")
    at.file_uploader[0].set_value(("我的歌.wav", wav.read_bytes(), "audio/wav")).run()
    [b for b in at.button if b.label == "使用上传的音乐"][0].click().run()
    no_exceptions(at)
    assert not at.error, at.error[0].value
    draft = Draft.load(folder)
    assert Path(draft.track.path).name == "我的歌.wav"
    assert Path(draft.track.path).is_relative_to(folder)
    assert draft.tracks[0] == draft.track


def test_media_offers_the_taggers_suggestions_first_and_taking_one_makes_it_a_fact(saved_draft):
    _, folder = saved_draft
    draft = Draft.load(folder)
    first = draft.ordered_items()[0]
    first.suggestions = [vocabulary().tag("mountain", 0.25, "imagenet"), vocabulary().tag("fog", 0.22, "colour")]
    draft.save(folder)
    at = panel("media")
    no_exceptions(at)
    box = at.multiselect[0]
    own = [t.id for t in first.tags]
    assert list(box.options)[len(own):len(own) + 2] == [box.format_func("mountain"), box.format_func("fog")]
    assert box.format_func("mountain").endswith("可能") and not box.format_func(own[0]).endswith("可能")
    box.set_value(own + ["mountain"]).run()
    no_exceptions(at)
    item = Draft.load(folder).context.item(first.id)
    assert [t.id for t in item.tags] == own + ["mountain"] and item.tags[-1].source == "user"
    assert [t.id for t in item.suggestions] == ["fog"]


def test_drafts_show_their_covers_and_delete_to_the_trash(saved_draft, drafts_root):
    from tests.factories import make_photo

    did, folder = saved_draft
    other = Draft.load(folder)
    make_photo(drafts_root / "20251004-100000-abcd" / "cover.png", "chelsea", size=(90, 120))
    other.cover = Cover(path=str(drafts_root / "20251004-100000-abcd" / "cover.png"), title="另一份",
                        style="minimal", source="x")
    other.caption.title = "另一份草稿"
    other.save(drafts_root / "20251004-100000-abcd")
    at = panel("drafts", draft_id=did)
    no_exceptions(at)
    assert len(at.get("image")) == 1  # the draft with a cover shows it
    [b for b in at.button if b.label == "删除"][0].click().run()  # the newest: 另一份草稿
    no_exceptions(at)
    assert (drafts_root / "20251004-100000-abcd" / "draft.json").is_file()  # one click deletes nothing
    [b for b in at.button if b.label.startswith("确认删除")][0].click().run()
    no_exceptions(at)
    assert not (drafts_root / "20251004-100000-abcd").exists()
    kept = list((drafts_root / ".trash").glob("20251004-100000-abcd-*/draft.json"))
    assert len(kept) == 1  # moved, not erased
    assert len([m for m in at.markdown if "**" in m.value]) == 1 and (folder / "draft.json").is_file()
