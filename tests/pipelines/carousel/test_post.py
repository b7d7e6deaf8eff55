"""post/: the image note ready to post, from a saved draft of a real, understood trip:
cover first then the photos in time order, sizes, no EXIF, the burst once, faces whole,
texts equal to the caption, the music excerpt's length; re-exports after edits leave
nothing stale; a failed export keeps the last one; nothing outside the draft is read as
its own file; the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creator.assistant import Assistant
from creator.drafts import load_draft
from creator.errors import DraftError, InputError, MediaError
from creator.media import content_id
from creator.types import Draft, Excerpt, TrackMatch
from pipelines.carousel import write_post
from tests.factories import ffmpeg, make_song

BURST = {"故宫", "故宫连拍"}
EXCERPT = Excerpt(start=2.0, end=9.5)


@pytest.fixture
def draft_dir(trip, ids, tmp_path) -> Path:
    """A saved draft: the real caption, a real cover of the cat, a chosen track, the carousel."""
    from pipelines.caption import CaptionRequest
    from pipelines.caption import Pipeline as CaptionPipeline
    from pipelines.cover import CoverRequest
    from pipelines.cover import Pipeline as CoverPipeline

    folder = tmp_path / "草稿" / "杭州上海"
    caption = CaptionPipeline()(CaptionRequest(context=trip, language="zh", n=1)).captions[0]
    cat_only = trip.model_copy(update={"items": [trip.item(ids["猫"])]})
    cover = CoverPipeline()(CoverRequest(context=cat_only, title=caption.title, style="magazine", n=1,
                                         out_dir=folder / "assets")).covers[0]
    shutil.copyfile(cover.path, folder / "cover.png")
    cover = cover.model_copy(update={"path": str(folder / "cover.png")})
    song = make_song(tmp_path / "音乐" / "慢歌.wav", bpm=100, duration=14.0)
    track = TrackMatch(track_id=content_id(song), title="慢歌", path=str(song), score=0.9, excerpt=EXCERPT)
    draft = Draft(context=trip, order=[i.id for i in trip.items], caption=caption, cover=cover, covers=[cover],
                  track=track)
    draft.carousel = Assistant().carousel(draft, labels=True)
    draft.save(folder)
    return folder


def names_by_id(trip) -> dict[str, str]:
    return {i.id: Path(i.path).stem.removeprefix("照片_") for i in trip.items}


def _no_leftovers(folder: Path) -> None:
    from creator.drafts import LOCK_FILE

    hidden = [p for p in folder.rglob("*") if p.name.startswith(".") and p.name != LOCK_FILE]
    assert not hidden, hidden  # no .part file, no work folder (the folder's lock file stays)


def _pcm_seconds(path: Path) -> float:
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
                         capture_output=True, check=True).stdout
    return len(raw) / 2 / 44100


def test_post_folder_of_a_trip(draft_dir, trip, ids):
    from creator.understanding.faces import get_face_detector

    draft = load_draft(draft_dir)
    post = Assistant().post(draft_dir)
    assert post == draft_dir / "post"
    n = len(draft.carousel)
    images = [f"{k:02d}.jpg" for k in range(1, n + 2)]
    assert sorted(p.name for p in post.iterdir()) == sorted(
        images + ["title.txt", "body.txt", "hashtags.txt", "caption.txt", "music.m4a"])
    _no_leftovers(draft_dir)

    # every image: 1080x1440 JPEG with no EXIF/XMP segment, no metadata at all
    for name in images:
        data = (post / name).read_bytes()
        assert b"\xff\xe1" not in data[: data.index(b"\xff\xda")], name
        with Image.open(post / name) as im:
            assert im.format == "JPEG" and im.size == (1080, 1440) and im.mode == "RGB"
            assert len(im.getexif()) == 0 and "exif" not in im.info and "icc_profile" not in im.info

    # 01.jpg is the cover; the rest follow in the order they were taken, the burst once
    cover = np.asarray(Image.open(draft_dir / "cover.png").convert("RGB"), np.float32)
    first = np.asarray(Image.open(post / "01.jpg"), np.float32)
    assert np.abs(cover - first).mean() < 3
    names = names_by_id(trip)
    shown = [names[e.item_id] for e in draft.carousel]
    assert [e.file for e in draft.carousel] == images[1:]
    assert "猫" not in shown and len(BURST & set(shown)) == 1 and len(shown) == len(set(shown)) == 5
    times = [trip.item(e.item_id).taken_at for e in draft.carousel]
    assert times == sorted(times)
    for e in draft.carousel:  # what is posted is what the entry's crop shows
        with Image.open(post / e.file) as im:
            src = Image.open(trip.item(e.item_id).path).convert("RGB").resize((1080, 1440), box=e.box)
            assert np.abs(np.asarray(im, np.float32) - np.asarray(src, np.float32)).mean() < 12, e.file

    # the astronaut's face whole in its image, found there by the face detector
    astro = next(e for e in draft.carousel if e.item_id == ids["宇航员"])
    faces = get_face_detector().detect(Image.open(post / astro.file))
    assert faces and all(0 < f.x0 and f.x1 < 1 and 0 < f.y0 and f.y1 < 1 for f in faces)

    # the texts are the caption's, ready to paste
    c = draft.caption
    assert (post / "title.txt").read_text("utf-8").strip() == c.title
    assert (post / "body.txt").read_text("utf-8").strip() == c.body.strip()
    assert (post / "hashtags.txt").read_text("utf-8").strip() == " ".join(f"#{h}" for h in c.hashtags)
    assert (post / "caption.txt").read_text("utf-8") == c.text()

    # the music: the excerpt's length, faded in
    assert _pcm_seconds(post / "music.m4a") == pytest.approx(EXCERPT.duration, abs=0.1)
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(post / "music.m4a"), "-f", "s16le", "-ac", "1",
                          "-ar", "8000", "-"], capture_output=True, check=True).stdout
    pcm = np.frombuffer(raw, np.int16).astype(np.float32)
    assert np.abs(pcm[:400]).mean() < 0.3 * np.abs(pcm[8000:16000]).mean()  # first 50 ms vs a middle second
    probe = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(post / "music.m4a")], capture_output=True,
                           text=True).stderr
    assert "Audio: aac" in probe


def test_reexport_after_reorder_remove_recrop_leaves_nothing_stale(draft_dir, trip):
    a = Assistant()
    post = a.post(draft_dir)
    before = {p.name: np.asarray(Image.open(p), np.float32) for p in post.glob("*.jpg")}
    draft = load_draft(draft_dir)
    e = list(draft.carousel)
    # swap the first two, drop the last, move the third's crop along its free axis (x),
    # as far as it goes
    x0, y0, x1, y1 = e[2].box
    W = trip.item(e[2].item_id).width
    shift = W - x1 if W - x1 > x0 else -x0
    moved = e[2].model_copy(update={"box": (x0 + shift, y0, x1 + shift, y1)})
    draft.carousel = [e[1], e[0], moved] + e[3:-1]
    draft.save(draft_dir)
    a.post(draft_dir)
    after = {p.name: np.asarray(Image.open(p), np.float32) for p in post.glob("*.jpg")}
    assert sorted(after) == [f"{k:02d}.jpg" for k in range(1, len(e) + 1)]  # one image fewer: no stale NN.jpg

    def same(x, y) -> bool:
        return np.abs(x - y).mean() < 2

    assert same(after["02.jpg"], before["03.jpg"]) and same(after["03.jpg"], before["02.jpg"])
    assert abs(shift) > 10 and not same(after["04.jpg"], before["04.jpg"])
    _no_leftovers(draft_dir)


def test_a_failed_export_keeps_the_last_one_whole(draft_dir):
    post = Assistant().post(draft_dir)
    files = {p.name: p.read_bytes() for p in post.iterdir()}
    draft = load_draft(draft_dir)
    os.unlink(draft.track.path)  # the music is gone: this export cannot finish
    draft.carousel = draft.carousel[:2]
    with pytest.raises(MediaError, match="慢歌.wav"):
        write_post(draft, draft_dir)
    assert {p.name: p.read_bytes() for p in post.iterdir()} == files
    _no_leftovers(draft_dir)


def test_draft_files_outside_the_draft_folder_are_refused(draft_dir, tmp_path):
    draft = load_draft(draft_dir)
    outside = tmp_path / "别处.png"
    shutil.copyfile(draft_dir / "cover.png", outside)
    for path in (str(outside), "../../别处.png"):
        draft.cover = draft.cover.model_copy(update={"path": path})
        with pytest.raises(DraftError, match="outside the draft folder"):
            write_post(draft, draft_dir)
    assert not (draft_dir / "post").exists()
    draft.cover = draft.cover.model_copy(update={"path": "cover.png"})  # relative: from the draft folder
    assert (write_post(draft, draft_dir) / "01.jpg").is_file()


def test_the_zip_holds_only_the_post_folders_own_files(draft_dir, tmp_path):
    """A crafted draft whose post/ links elsewhere (caption.txt → a secret, or post/ itself
    → another folder) never gets those files into the download (the editor's zip button
    served /etc/passwd as caption.txt)."""
    import io
    import zipfile

    post = Assistant().post(draft_dir)
    secret = tmp_path / "秘密.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    (post / "caption.txt").unlink()
    os.symlink(secret, post / "caption.txt")
    os.symlink(secret, post / "09.jpg")
    names = zipfile.ZipFile(io.BytesIO(Assistant.post_zip(post))).namelist()
    assert "caption.txt" not in names and "09.jpg" not in names
    assert "01.jpg" in names and "title.txt" in names
    elsewhere = tmp_path / "别的文件夹"
    elsewhere.mkdir()
    (elsewhere / "title.txt").write_text("TOP SECRET", encoding="utf-8")
    shutil.rmtree(post)
    os.symlink(elsewhere, post)
    with pytest.raises(DraftError, match="link"):
        Assistant.post_zip(post)


def test_a_folder_with_other_files_is_never_replaced(draft_dir, tmp_path):
    mine = tmp_path / "我的照片"
    mine.mkdir()
    (mine / "01.jpg").write_bytes(b"not ours")
    (mine / "家人.heic").write_bytes(b"precious")
    with pytest.raises(InputError, match="家人.heic"):
        write_post(load_draft(draft_dir), draft_dir, mine)
    assert (mine / "家人.heic").read_bytes() == b"precious" and (mine / "01.jpg").read_bytes() == b"not ours"


def test_cli_carousel_and_post(draft_dir, trip_files, tmp_path, capsys):
    from creator.cli import main

    src = tmp_path / "三张照片"
    src.mkdir()
    for name in ("宇航员", "猫", "火箭"):
        shutil.copy(trip_files[name], src)
    out = tmp_path / "轮播"
    assert main(["carousel", str(src), "-o", str(out), "--n", "2", "--ratio", "4:3"]) == 0
    files = sorted(out.iterdir())
    assert [p.name for p in files] == ["01.jpg", "02.jpg"]
    assert all(Image.open(p).size == (1440, 1080) for p in files)
    assert str(out / "01.jpg") in capsys.readouterr().out
    assert main(["carousel", str(src), "-o", str(out), "--n", "19"]) == 2
    assert "--n" in capsys.readouterr().err

    assert main(["post", str(draft_dir)]) == 0
    printed = capsys.readouterr().out
    assert str(draft_dir / "post" / "music.m4a") in printed and str(draft_dir / "post" / "01.jpg") in printed


def test_post_with_a_photo_gone_is_done_and_warns_on_stderr_in_one_line(draft_dir, capsys):
    """README: 0 done, warnings on stderr one line each. A photo moved away since (its
    name holding a newline) is left out of post/ and said once; the post is written."""
    import json

    from creator.cli import main

    data = json.loads((draft_dir / "draft.json").read_text(encoding="utf-8"))
    data["context"]["items"][0]["path"] = str(draft_dir.parent / "搬走了" / "第一\n张.jpg")
    (draft_dir / "draft.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["post", str(draft_dir)]) == 0
    got = capsys.readouterr()
    assert "warning" not in got.out and str(draft_dir / "post" / "01.jpg") in got.out
    said = [line for line in got.err.splitlines() if "left out of post/" in line]
    assert len(said) == 1 and "张.jpg" in said[0], got.err

def test_a_photo_that_cannot_be_read_is_left_out_and_said(trip, ids, tmp_path):
    from pipelines.carousel import CarouselRequest, Pipeline

    folder = tmp_path / "坏照片"
    folder.mkdir()
    broken = folder / "照片_坏了.jpg"
    data = Path(trip.item(ids["咖啡"]).path).read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # cut short after it was understood
    items = [i.model_copy(update={"path": str(broken)}) if i.id == ids["咖啡"] else i for i in trip.items]
    ctx = trip.model_copy(update={"items": items})
    out = Pipeline()(CarouselRequest(context=ctx))
    assert ids["咖啡"] not in [e.item_id for e in out.entries]
    assert out.skipped[ids["咖啡"]] == "the photo cannot be decoded"
    # a photo broken after the carousel was made: the export goes on without it
    entries = Pipeline()(CarouselRequest(context=trip)).entries
    warnings: list[str] = []
    post = write_post(Draft(context=ctx, carousel=entries), folder, warnings=warnings)
    assert sorted(p.name for p in post.iterdir()) == [f"{k:02d}.jpg" for k in range(1, len(entries))]
    assert len(warnings) == 1 and "照片_坏了.jpg" in warnings[0]


def test_the_photos_are_never_replaced_by_a_post_or_carousel_written_onto_them(tmp_path, capsys, monkeypatch):
    """Photos named 01.jpg, 02.jpg (as a camera or an earlier export names them) look like
    an export's own files: `post DRAFT -o <their folder>`, `make <folder>/post -o <folder>`
    and `carousel DIR -o DIR` replaced them. Each is refused, before any work where it can
    be, and the photos are byte for byte as they were; `make --force` over a post/ holding
    a file of the user's is refused at once (it did all the work first)."""
    from creator.cli import main
    from tests.factories import make_photo

    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "cache"))
    mine = tmp_path / "我的照片"
    for k, sample in enumerate(("china", "flower"), 1):
        make_photo(mine / f"{k:02d}.jpg", sample, size=(320, 240))
    before = {p.name: p.read_bytes() for p in mine.iterdir()}

    def same() -> bool:
        return {p.name: p.read_bytes() for p in mine.iterdir()} == before

    out = tmp_path / "草稿"
    assert main(["make", str(mine), "-o", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["post", str(out), "-o", str(mine)]) == 2
    assert "holds the draft's own photos" in capsys.readouterr().err and same()

    assert main(["carousel", str(mine), "-o", str(mine)]) == 2
    assert "replaces that folder" in capsys.readouterr().err and same()
    # an earlier carousel in a folder under the photos is not read back as photos of the trip
    assert main(["carousel", str(mine), "-o", str(mine / "轮播")]) == 0
    assert main(["carousel", str(mine), "-o", str(mine / "轮播")]) == 0
    assert sorted(p.name for p in (mine / "轮播").iterdir()) == ["01.jpg", "02.jpg"]
    shutil.rmtree(mine / "轮播")
    capsys.readouterr()

    trip = tmp_path / "旅行"
    shutil.copytree(mine, trip / "post")
    assert main(["make", str(trip / "post"), "-o", str(trip), "--no-progress"]) == 2
    assert "would replace your own 01.jpg" in capsys.readouterr().err
    assert [p.read_bytes() for p in sorted((trip / "post").iterdir())] == [before["01.jpg"], before["02.jpg"]]

    (out / "post" / "我的.txt").write_text("别删", encoding="utf-8")
    stamp = (out / "draft.json").stat().st_mtime_ns
    assert main(["make", str(mine), "-o", str(out), "--force", "--no-progress"]) == 2
    assert "我的.txt" in capsys.readouterr().err
    assert (out / "draft.json").stat().st_mtime_ns == stamp  # refused before the draft was replaced
    assert (out / "post" / "我的.txt").read_text(encoding="utf-8") == "别删" and same()
