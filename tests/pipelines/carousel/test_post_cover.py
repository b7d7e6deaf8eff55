"""post/'s cover is opened by the one photo loader (creator.media.open_photo): upright
whatever its EXIF orientation, RGB whatever its mode, refused by the decode budget."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from creator.errors import MediaError
from creator.types import Cover, Draft, NoteContext
from pipelines.carousel.post import _cover_image


def _draft(cover) -> Draft:
    return Draft(context=NoteContext(items=[]), cover=Cover(path=str(cover), title="西湖", style="magazine",
                                                             source="a"))


def test_a_rotated_cmyk_cover_comes_out_upright_and_rgb(tmp_path):
    folder = tmp_path / "草稿"
    folder.mkdir()
    arr = np.zeros((300, 400, 3), np.uint8)
    arr[:150] = (230, 20, 20)  # red on top as stored; EXIF 6 turns it 90° clockwise: red on the right
    arr[150:] = (20, 20, 230)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(arr).convert("CMYK").save(folder / "封面.jpg", exif=exif, quality=95)
    img = _cover_image(_draft(folder / "封面.jpg"), folder, (1080, 1440))
    assert img.mode == "RGB" and img.size == (1080, 1440)
    mid = np.asarray(img)[720]
    assert mid[-100][0] > 150 and mid[-100][2] < 100  # the red half is on the right
    assert mid[100][2] > 150 and mid[100][0] < 100


def test_a_cover_over_the_decode_budget_is_refused_naming_it(tmp_path, monkeypatch):
    folder = tmp_path / "草稿"
    folder.mkdir()
    Image.new("RGBA", (3000, 3000), (200, 100, 50, 255)).save(folder / "大封面.png")
    monkeypatch.setenv("CREATOR_MEDIA__MAX_DECODE_MB", "8")
    with pytest.raises(MediaError, match=r"the cover cannot be read: 大封面\.png: .*too large"):
        _cover_image(_draft(folder / "大封面.png"), folder, (1080, 1440))
