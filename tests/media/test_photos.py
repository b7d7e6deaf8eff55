"""Photos: formats, EXIF time/GPS/orientation, colour modes, very large images."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from creator.config import Settings
from creator.errors import ConfigError, InputError, MediaError
from creator.media import load_media, open_photo, photo_meta
from creator.media import photos as photos_mod
from tests.factories import make_photo
from tests.icc import cmyk_profile, matrix_rgb_profile, rgb_to_srgb

TAKEN = datetime(2024, 5, 1, 18, 42, 7)


def _two_colour(size=(640, 480)) -> Image.Image:
    """Left half red, right half blue: shows where 'left' went after orientation."""
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (230, 20, 20)
    arr[:, w // 2:] = (20, 20, 230)
    return Image.fromarray(arr)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".heic"])
@pytest.mark.parametrize("gps", [(30.2590, 120.1300), (-33.8568, 151.2153), (40.6892, -74.0445)])
def test_round_trip_time_gps_orientation(tmp_path, suffix, gps):
    path = make_photo(tmp_path / f"p{suffix}", _two_colour(), taken_at=TAKEN, gps=gps, orientation=6)
    [item] = load_media([path])
    assert item.error is None, item.error
    assert item.kind == "photo"
    # Orientation 6: stored landscape, shown portrait.
    assert (item.width, item.height) == (480, 640)
    assert item.taken_at == TAKEN
    assert item.gps is not None
    assert item.gps.lat == pytest.approx(gps[0], abs=1e-4)
    assert item.gps.lon == pytest.approx(gps[1], abs=1e-4)

    img = open_photo(path, max_side=None)
    assert img.mode == "RGB" and img.size == (480, 640)
    arr = np.asarray(img).astype(int)
    # Rotated 90 degrees clockwise for display: the stored left (red) is now on top.
    top, bottom = arr[: 320 - 20].mean(axis=(0, 1)), arr[320 + 20:].mean(axis=(0, 1))
    assert top[0] > 150 and top[2] < 90, top
    assert bottom[2] > 150 and bottom[0] < 90, bottom


def test_no_exif_and_zero_gps(tmp_path):
    plain = make_photo(tmp_path / "plain.jpg")
    zero = make_photo(tmp_path / "zero.jpg", gps=(0.0, 0.0), taken_at=TAKEN)
    a, b = load_media([plain, zero])
    assert a.error is None and a.taken_at is None and a.gps is None
    assert (a.width, a.height) == (640, 480)
    assert b.gps is None  # 0,0 means "no fix"
    assert b.taken_at == TAKEN


def test_max_side_and_aspect(tmp_path):
    path = make_photo(tmp_path / "big.jpg", size=(2000, 1000))
    img = open_photo(path, max_side=448)
    assert img.size == (448, 224)
    assert open_photo(path, max_side=None).size == (2000, 1000)


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (200, 100), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    img = open_photo(path)
    assert img.mode == "RGB"
    r, g, b = np.asarray(img).reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 60 and b < 60


# --- colour profiles -------------------------------------------------------------------------


def _mean(img) -> np.ndarray:
    return np.asarray(img, float).reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("suffix,mode", [(".jpg", "RGB"), (".png", "RGB"), (".png", "RGBA"), (".webp", "RGB")])
def test_a_display_p3_photo_comes_back_in_srgb(tmp_path, suffix, mode):
    p3 = (220, 40, 40)
    path = tmp_path / f"手机{suffix}"
    Image.new(mode, (240, 160), p3 if mode == "RGB" else p3 + (255,)).save(
        path, icc_profile=matrix_rgb_profile(), **({"quality": 95} if suffix != ".png" else {}))
    img = open_photo(path, max_side=100)
    assert _mean(img) == pytest.approx(rgb_to_srgb(p3), abs=4)  # (241, 0, 10), not the stored values
    assert "icc_profile" not in img.info  # converted: nothing downstream applies it twice
    assert photo_meta(path)["colour_profile"] is True


def test_strips_apply_the_profile_like_one_conversion(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    path = tmp_path / "条带.png"
    Image.fromarray(rng.integers(0, 256, (203, 311, 4), dtype=np.uint8), "RGBA").save(
        path, icc_profile=matrix_rgb_profile())
    whole = np.asarray(open_photo(path, max_side=None)).astype(int)
    monkeypatch.setattr(photos_mod, "_STRIP_BYTES", 311 * 16 * 5)
    assert np.abs(np.asarray(open_photo(path, max_side=None)).astype(int) - whole).max() <= 1


def test_a_cmyk_photo_is_printed_through_its_own_profile(tmp_path):
    def press(corner):  # prints full cyan as red: a naive CMYK -> RGB shows cyan
        c, m, y, k = corner
        return (0.0, 0.0, 0.0) if k else (53.24, 80.09, 67.20) if c else (100.0, 0.0, 0.0)

    path = tmp_path / "印刷.jpg"
    Image.new("CMYK", (200, 100), (255, 0, 0, 0)).save(path, quality=95, icc_profile=cmyk_profile(press))
    r, g, b = _mean(open_photo(path))
    assert r > 230 and g < 30 and b < 40, (r, g, b)
    assert photo_meta(path)["colour_profile"] is True


_PATCHES = [(200, 60, 40), (40, 160, 90), (70, 90, 200), (128, 128, 128), (250, 240, 30)]


def _heif_with_code_points(path, primaries: int, transfer: int):
    """A HEIF of flat colour patches whose colour is given by nclx code points (ITU-T
    H.273), no ICC profile: how phones other than the iPhone mark Display P3. Returns
    the pixel values as stored (decoded without any conversion)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    arr = np.zeros((64, 64 * len(_PATCHES), 3), np.uint8)
    for k, c in enumerate(_PATCHES):
        arr[:, 64 * k : 64 * (k + 1)] = c
    Image.fromarray(arr).save(path, quality=100, chroma=444, color_primaries=primaries,
                              transfer_characteristics=transfer, matrix_coefficients=6, full_range_flag=1)
    with Image.open(path) as im:
        assert "icc_profile" not in im.info or not im.info["icc_profile"]
        return np.asarray(im.convert("RGB"))


def _patches(img) -> list[tuple[int, ...]]:
    a = np.asarray(img)
    return [tuple(int(v) for v in a[32, 64 * k + 32]) for k in range(len(_PATCHES))]


def test_a_heif_marked_display_p3_by_code_points_comes_back_in_srgb(tmp_path):
    # Display P3 primaries (12) with a 2.2 power curve (4): the same colour as the matrix
    # profile of tests/icc.py, so littleCMS converting a PNG of the same stored pixels
    # through that ICC profile is the reference for the nclx arithmetic
    stored = _heif_with_code_points(tmp_path / "安卓.heic", primaries=12, transfer=4)
    Image.fromarray(stored).save(tmp_path / "同色.png", icc_profile=matrix_rgb_profile())
    got, want = _patches(open_photo(tmp_path / "安卓.heic", max_side=None)), \
        _patches(open_photo(tmp_path / "同色.png", max_side=None))
    assert np.abs(np.subtract(got, want)).max() <= 1, (got, want)
    assert got != _patches(stored)  # converted: (220, 37, 12) for a stored (201, 60, 40)
    assert photo_meta(tmp_path / "安卓.heic")["colour_profile"] is True
    # with the sRGB curve (13), Display P3's own: a neutral grey stays the same grey
    _heif_with_code_points(tmp_path / "p3.heic", primaries=12, transfer=13)
    p3 = _patches(open_photo(tmp_path / "p3.heic", max_side=None))
    assert p3[3] == (128, 128, 128) and p3[0][0] > 215 and p3[0][2] < 30


def test_a_heif_marked_srgb_or_hdr_by_code_points_is_left_alone(tmp_path):
    for name, primaries, transfer in (("709.heic", 1, 13), ("pq.heic", 9, 16)):
        stored = _heif_with_code_points(tmp_path / name, primaries=primaries, transfer=transfer)
        assert _patches(open_photo(tmp_path / name, max_side=None)) == _patches(stored), name
        assert photo_meta(tmp_path / name)["colour_profile"] is False


@pytest.mark.parametrize("profile", ["srgb", "garbage", "cmyk on rgb"])
def test_an_srgb_broken_or_mismatched_profile_leaves_the_pixels_alone(tmp_path, profile):
    from PIL import ImageCms

    icc = {"srgb": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
           "garbage": b"not a colour profile" * 20,
           "cmyk on rgb": cmyk_profile(lambda corner: (50.0, 0.0, 0.0))}[profile]
    path = tmp_path / "照片.png"
    Image.new("RGB", (120, 80), (220, 40, 40)).save(path, icc_profile=icc)
    assert _mean(open_photo(path)).tolist() == [220, 40, 40]
    assert photo_meta(path)["colour_profile"] is False


def test_palette_with_transparency_over_white(tmp_path):
    path = tmp_path / "pal.png"
    im = Image.new("P", (100, 100), 0)
    im.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    im.paste(1, (50, 0, 100, 100))
    im.save(path, transparency=0)  # index 0 (left half) is transparent
    arr = np.asarray(open_photo(path)).astype(int)
    assert arr[:, :40].mean(axis=(0, 1)).tolist() == [255, 255, 255]
    assert arr[:, 60:].mean(axis=(0, 1)) == pytest.approx([0, 200, 0], abs=2)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_over_white(tmp_path, mode):
    path = tmp_path / f"alpha-{mode}.png"
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., :3] = 40
    rgba[:, 40:, 3] = 255  # right half opaque dark grey, left half fully transparent
    Image.fromarray(rgba, "RGBA").convert(mode).save(path)
    arr = np.asarray(open_photo(path)).astype(int)
    assert arr[:, :30].min() == 255
    assert arr[:, 50:].max() <= 45


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (64, 1))
    Image.fromarray(ramp).save(path)  # 16-bit greyscale PNG
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")
    arr = np.asarray(open_photo(path, max_side=None)).astype(int)
    assert arr.shape == (64, 256, 3)
    assert arr[:, 0].max() <= 2 and arr[:, -1].min() >= 253
    assert arr[:, 128].mean() == pytest.approx(128, abs=3)  # a 16-bit mid grey stays mid grey


def test_huge_jpeg_opens_reduced(tmp_path):
    """(How fast: tests/benchmarks/bench_photos.py.)"""
    path = tmp_path / "巨幅.jpg"
    big = Image.new("RGB", (12000, 9000), (90, 140, 200))
    big.paste((250, 200, 40), (0, 0, 6000, 9000))
    big.save(path, quality=85)
    del big
    # decoded in full it would take 12000x9000x4 bytes = 412 MiB: within 16 only if reduced
    img = open_photo(path, max_side=448, max_decode_mb=16)
    assert img.size == (448, 336)
    left, right = np.asarray(img)[:, :200].mean(axis=(0, 1)), np.asarray(img)[:, 250:].mean(axis=(0, 1))
    assert left == pytest.approx([250, 200, 40], abs=6) and right == pytest.approx([90, 140, 200], abs=6)
    [item] = load_media([path])
    assert item.error is None and (item.width, item.height) == (12000, 9000)


def test_beyond_pillow_bomb_limit_no_crash(tmp_path, monkeypatch):
    # Pillow refuses anything over 2x MAX_IMAGE_PIXELS; lower the limit rather than
    # writing a 180-megapixel file.
    path = make_photo(tmp_path / "bomb.jpg", size=(1200, 900))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    assert open_photo(path, max_side=300).size == (300, 225)
    assert Image.MAX_IMAGE_PIXELS == 100_000  # restored after the open


def test_over_the_decode_budget_is_a_clear_error(tmp_path, monkeypatch):
    path = make_photo(tmp_path / "宽幅.png", size=(400, 300))
    # 400x300 stored in 4 bytes a pixel is 0.46 MiB before any copy: over 0.4, under 1
    with pytest.raises(MediaError, match=r"宽幅\.png: 400x300 RGB PNG is too large.*budget is 0\.4 MiB"):
        open_photo(path, max_decode_mb=0.4)
    assert open_photo(path, max_decode_mb=1).size == (400, 300)
    # the budget comes from Settings (the environment overrides it), for every caller
    monkeypatch.setenv("CREATOR_MEDIA__MAX_DECODE_MB", "1")
    assert Settings().media.max_decode_mb == 1 and photos_mod.decode_budget_mb() == 1
    big = make_photo(tmp_path / "大图.png", size=(1000, 800))
    with pytest.raises(MediaError, match=r"大图\.png.*too large"):
        open_photo(big)
    [item] = load_media([big])
    assert "大图.png" in item.error and "too large" in item.error
    [fine] = load_media([path])
    assert fine.error is None
    monkeypatch.setenv("CREATOR_MEDIA__MAX_DECODE_MB", "很多")
    with pytest.raises(ConfigError, match="CREATOR_MEDIA__MAX_DECODE_MB"):
        open_photo(path)


def test_jpeg_budget_counts_the_reduced_decode(tmp_path):
    path = tmp_path / "大.jpg"
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(path, quality=80)
    # full size: 4000x3000x4 bytes = 46 MiB decoded; at 1/8 scale well under 2 MiB
    with pytest.raises(MediaError, match="too large"):
        open_photo(path, max_side=None, max_decode_mb=20)
    assert open_photo(path, max_side=448, max_decode_mb=2).size == (448, 336)


@pytest.mark.parametrize("bad", [0, -1])
def test_budget_argument_is_checked(tmp_path, bad):
    path = make_photo(tmp_path / "p.jpg")
    with pytest.raises(InputError, match="max_decode_mb"):
        open_photo(path, max_decode_mb=bad)


def test_reduced_alpha_is_composited_like_the_full_image(tmp_path):
    # one-pixel stripes of opaque white and transparent red: averaging colours before
    # compositing would turn the reduced photo pink; compositing first keeps it white
    rgba = np.zeros((1200, 1600, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, ::2] = (255, 255, 255, 255)
    path = tmp_path / "条纹.png"
    Image.fromarray(rgba, "RGBA").save(path)
    small = np.asarray(open_photo(path, max_side=200)).astype(int)
    assert small.shape == (150, 200, 3)
    assert small.min() >= 250, small.reshape(-1, 3).mean(axis=0)
    full = np.asarray(open_photo(path, max_side=None)).astype(int)
    assert full.min() == 255


def test_strips_give_the_same_picture_as_one_conversion(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (301, 457, 4), dtype=np.uint8)
    path = tmp_path / "噪声.png"
    Image.fromarray(rgba, "RGBA").save(path)
    whole = np.asarray(open_photo(path, max_side=60)).astype(int)
    monkeypatch.setattr(photos_mod, "_STRIP_BYTES", 457 * 16 * 7)  # strips of 7 rows (a multiple of f)
    strips = np.asarray(open_photo(path, max_side=60)).astype(int)
    assert np.abs(whole - strips).max() <= 1
    grey = (rng.integers(0, 65536, (301, 457))).astype(np.uint16)
    deep = tmp_path / "深.png"
    Image.fromarray(grey).save(deep)
    a = np.asarray(open_photo(deep, max_side=None)).astype(int)
    monkeypatch.setattr(photos_mod, "_STRIP_BYTES", 10**9)
    b = np.asarray(open_photo(deep, max_side=None)).astype(int)
    assert np.array_equal(a, b)  # each strip scaled by the whole image's range


def test_future_dates_are_ignored_with_a_warning(tmp_path):
    future = make_photo(tmp_path / "未来.jpg", taken_at=datetime(2099, 1, 1, 12, 0))
    [item] = load_media([future])
    assert item.error is None and item.taken_at is None
    assert any("2099-01-01" in w and "future" in w for w in item.warnings), item.warnings
    soon = datetime.now().replace(microsecond=0)
    [today] = load_media([make_photo(tmp_path / "今天.jpg", taken_at=soon)])
    assert today.taken_at == soon and today.warnings == []
    [old] = load_media([make_photo(tmp_path / "旧.jpg", taken_at=datetime(1970, 1, 1))])
    assert old.taken_at is None and old.warnings == []  # a placeholder: no date, no warning


def test_png_exif_after_the_pixels_is_read_without_decoding(tmp_path):
    # Pillow's own getexif() decodes a whole PNG to look for an eXIf chunk after IDAT
    path = make_photo(tmp_path / "后.png", size=(300, 200), orientation=6, taken_at=TAKEN)
    data = path.read_bytes()
    start = data.index(b"eXIf") - 4
    length = int.from_bytes(data[start:start + 4], "big")
    chunk = data[start:start + 12 + length]
    rest = data[:start] + data[start + len(chunk):]
    end = rest.index(b"IEND") - 4
    path.write_bytes(rest[:end] + chunk + rest[end:])  # eXIf moved after the pixels
    meta = photo_meta(path)
    assert (meta["width"], meta["height"], meta["taken_at"]) == (200, 300, TAKEN)
    assert open_photo(path, max_side=None).size == (200, 300)


def test_photo_meta_reads_header_only(tmp_path):
    path = make_photo(tmp_path / "m.jpg", size=(300, 200), orientation=8, taken_at=TAKEN)
    meta = photo_meta(path)
    assert (meta["width"], meta["height"], meta["orientation"]) == (200, 300, 8)
    assert meta["taken_at"] == TAKEN and meta["gps"] is None and meta["warnings"] == []


def test_real_sample_photo(tmp_path):
    path = make_photo(tmp_path / "china.jpg", "china", taken_at=TAKEN)
    img = open_photo(path, max_side=224)
    assert max(img.size) == 224
    assert np.asarray(img).std() > 20  # a real photo, not a flat fill
