"""Ready to post: a draft's image note as a folder, each part ready to upload or paste.

``write_post(draft, draft_dir) -> <draft_dir>/post/`` holding

- ``01.jpg`` the cover, ``02.jpg`` … ``NN.jpg`` the carousel (``Draft.carousel``), all
  of one ratio: 1080×1440 (3:4), 1080×1080 (1:1) or 1440×1080 (4:3); sRGB JPEG built
  from raw pixels, so no EXIF at all (no GPS, no camera serial);
- ``title.txt``, ``body.txt``, ``hashtags.txt`` (``#a #b #c``) and ``caption.txt``
  (all three), when the draft has a caption;
- ``music.m4a``: the chosen track's excerpt, faded in and out (AAC, no metadata),
  when a track is chosen;
- ``note.mp4``: the video, when one was made.

Everything is written into a work folder beside ``post/`` and swapped in when complete:
a re-export replaces the whole folder (no numbered image of the last export stays
behind), and a crash leaves the last complete export in place.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from PIL import Image

from creator.drafts import atomic_write_text, media_file, media_inside, own_file, track_file
from creator.errors import DraftError, InputError, MediaError
from creator.types import Box, Draft, MediaItem

from .pipeline_carousel import SIZES
from .render import fit_image, render_entry

__all__ = ["write_post", "post_ratio", "post_zip", "FADE_IN", "FADE_OUT"]

FADE_IN = 0.5  # seconds
FADE_OUT = 1.5
MUSIC_MAX = 60.0  # a track without an excerpt: its first minute


def post_ratio(draft: Draft) -> str:
    """The note's one ratio: the one its carousel's crops have (most of them: a photo
    letterboxed whole has a box of its own shape); else the cover's, when the carousel
    can have it; else 3:4."""
    from collections import Counter

    votes = Counter()
    for e in draft.carousel:
        x0, y0, x1, y1 = e.box
        if y1 > y0:
            for name, (w, h) in SIZES.items():
                if abs((x1 - x0) / (y1 - y0) / (w / h) - 1) < 0.01:
                    votes[name] += 1
    if votes:
        return votes.most_common(1)[0][0]
    r = draft.cover.ratio if draft.cover is not None else "3:4"
    return r if r in SIZES else "3:4"


def _jpeg(image: Image.Image, path: Path) -> None:
    from pipelines.cover import save_image

    save_image(image, path, "jpeg")


def _cover_image(draft: Draft, draft_dir: Path, size: tuple[int, int]) -> Image.Image | None:
    """The chosen cover, at the post's size: cut to it when it has the ratio, else shown
    whole (its title must stay) over a blurred copy of itself."""
    if draft.cover is None or not draft.cover.path:
        return None
    from creator.media import open_photo

    path = own_file(draft_dir, draft.cover.path, field="cover.path")
    try:  # the one photo loader: orientation, colour mode, the decode budget
        img = open_photo(path, max_side=None)
    except MediaError as e:
        raise MediaError(f"the cover cannot be read: {e}") from e
    whole = Box(x0=0.0, y0=0.0, x1=1.0, y1=1.0)  # all of it must stay: the crop treats it as a face
    out, _, _ = fit_image(img, size, None, faces=[whole])
    return out


def _music(draft: Draft, draft_dir: Path, out: Path, library=None) -> None:
    """The chosen excerpt as AAC in .m4a, faded in and out, without the source's metadata.
    ``library`` (a server context): the track is found by its id there (track_file)."""
    from creator.media.ffmpeg import input_arg, part_name, run_ffmpeg

    track = draft.track
    try:
        src = track_file(track, draft_dir, library)
    except DraftError as e:
        if e.code != "file_not_found":
            raise
        raise MediaError(f"{e.details.get('name') or 'track'}: the chosen track is not there any more") from None
    start = track.excerpt.start if track.excerpt else 0.0
    length = track.excerpt.duration if track.excerpt else MUSIC_MAX
    fade_in, fade_out = min(FADE_IN, length / 4), min(FADE_OUT, length / 4)
    part = part_name(out)
    try:
        run_ffmpeg(["-loglevel", "error", "-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", input_arg(src),
                    "-map", "0:a:0", "-vn", "-map_metadata", "-1", "-map_chapters", "-1",
                    "-af", f"afade=t=in:st=0:d={fade_in:.3f},"
                           f"afade=t=out:st={max(0.0, length - fade_out):.3f}:d={fade_out:.3f}",
                    "-c:a", "aac", "-b:a", "192k", "-f", "ipod", "-movflags", "+faststart", "-y", str(part)],
                   timeout=300)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (same disk: instant), else an atomic copy."""
    from creator.media.ffmpeg import part_name

    part = part_name(dst)
    try:
        try:
            os.link(src, part)
        except OSError:
            shutil.copyfile(src, part)
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)


# What an export writes: the only names a folder it replaces may hold.
_POST_NAME = re.compile(r"^(\d{2,3}\.jpg|title\.txt|body\.txt|hashtags\.txt|caption\.txt|music\.m4a|note\.mp4"
                        r"|\..+\.part)$")


def check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that holds anything an export does not write (the
    user's photos, say): it would be lost with the swap."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"{out}: is a file or a link, not a post folder; refused")
    if out.is_dir():
        other = sorted(e.name for e in os.scandir(out) if not e.is_file(follow_symlinks=False)
                       or not _POST_NAME.match(e.name))
        if other:
            raise InputError(f"{out}: holds files an export does not write ({', '.join(other[:3])}"
                             f"{'...' if len(other) > 3 else ''}); not replaced: choose another folder")


def _check_no_media(draft: Draft, draft_dir: str | os.PathLike, out: Path) -> None:
    """Refuse a post folder that holds the draft's own photos, clips or track (``creator
    post DRAFT -o <the photos' folder>`` with photos named 01.jpg...): the swap would
    replace them."""
    hits = media_inside(draft, draft_dir, out)
    if hits:
        raise InputError(f"{out}: holds the draft's own photos or track ({', '.join(hits[:3])}"
                         f"{'...' if len(hits) > 3 else ''}); writing the post there would replace them: "
                         "choose another folder")


def write_post(draft: Draft, draft_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
               *, items: dict[str, MediaItem] | None = None, warnings: list[str] | None = None,
               media_roots=None, library=None) -> Path:
    """Write the draft's image note into ``out_dir`` (default ``<draft_dir>/post``),
    replacing what an earlier export left there. Returns the folder.

    The draft's own files (cover, video) are read only from inside its folder. In a
    server context (the editor) pass ``media_roots`` (the folders photos may come from
    besides the draft's) and ``library`` (the music index): photos and the track are
    then found as creator.drafts.media_file / track_file say, never by the paths in
    draft.json taken at face value.

    A carousel photo that cannot be read is left out (the others are numbered on) and
    said in ``warnings`` (when given). Raises InputError when the draft has nothing to
    post (no cover and no carousel), DraftError for a draft file outside the draft
    folder, MediaError naming the cover, track or video that cannot be read.
    """
    from creator.media.ffmpeg import work_folder

    draft_dir = Path(draft_dir)
    out = Path(out_dir) if out_dir is not None else draft_dir / "post"
    by_id = items or {i.id: i for i in draft.context.items if i.ok}
    ratio = post_ratio(draft)
    size = SIZES[ratio]
    style = draft.cover.style if draft.cover is not None else None
    cover = _cover_image(draft, draft_dir, size)
    # an entry whose photo was taken out of the draft since goes with it; files are
    # numbered by position (02.jpg... after the cover)
    entries = [e for e in draft.carousel if e.item_id in by_id]
    if cover is None and not entries:
        raise InputError("draft: it has neither a cover nor a carousel to post")
    check_replaceable(out)
    _check_no_media(draft, draft_dir, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with work_folder(out.parent) as work:
        stage = Path(work) / "post"
        stage.mkdir()
        if cover is not None:
            _jpeg(cover, stage / "01.jpg")
        k = 2 if cover is not None else 1
        for e in entries:
            item = by_id[e.item_id]
            try:
                img = render_entry(e, item, size, style=style, path=media_file(item, draft_dir, media_roots))
            except (MediaError, DraftError) as err:  # one unreadable photo never sinks the note
                if warnings is not None:
                    warnings.append(f"left out of post/: {err}")
                continue
            _jpeg(img, stage / f"{k:02d}.jpg")
            k += 1
        if draft.caption is not None:
            c = draft.caption
            tags = " ".join(f"#{h}" for h in c.hashtags)
            atomic_write_text(stage / "title.txt", c.title.strip() + "\n")
            atomic_write_text(stage / "body.txt", c.body.strip() + "\n")
            atomic_write_text(stage / "hashtags.txt", tags + "\n")
            atomic_write_text(stage / "caption.txt", c.text())
        if draft.track is not None:
            _music(draft, draft_dir, stage / "music.m4a", library)
        if draft.video is not None and draft.video.path:
            video = own_file(draft_dir, draft.video.path, field="video.path")
            if video.is_file():
                _link_or_copy(video, stage / "note.mp4")
        # the swap: the last export moves into the work folder (removed with it)
        check_replaceable(out)
        _check_no_media(draft, draft_dir, out)
        if out.exists():
            os.rename(out, Path(work) / "old")
        os.rename(stage, out)
    return out


def post_zip(folder: str | os.PathLike) -> bytes:
    """The post/ folder as one zip (what an upload from a phone or another computer
    needs), its files at the zip's top level, images stored (JPEG does not compress).
    Only the folder's own files go in: a post/ that is a link is a DraftError, and a
    link inside it (caption.txt → /etc/passwd, in a crafted draft) is left out; write_post
    never makes either."""
    import io
    import zipfile

    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise DraftError(f"{folder.name}/ is not the draft's own folder (a link, or missing): write it again",
                         code="post_not_own")
    real = Path(os.path.realpath(folder))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(folder.iterdir()):
            if f.is_symlink() or Path(os.path.realpath(f)).parent != real:
                continue
            if f.is_file() and _POST_NAME.match(f.name) and not f.name.startswith("."):
                kind = zipfile.ZIP_STORED if f.suffix in (".jpg", ".m4a", ".mp4") else zipfile.ZIP_DEFLATED
                z.write(f, arcname=f.name, compress_type=kind)
    return buf.getvalue()
