"""Photos: the one loader every stage opens photos with, and their EXIF.

:func:`open_photo` gives a photo as displayed (EXIF orientation, 8-bit RGB, alpha over
white, in sRGB through its embedded colour profile) at the size asked for, decoding no
more than that size needs: JPEGs are decoded reduced (draft mode), other formats are
decoded once in full and reduced in strips before any colour conversion, so no second
full-size copy is ever made. Before any pixel is decoded, the memory the decode would
need is estimated from the header (width, height, bands, bit depth) and a photo over the
budget (``Settings.media.max_decode_mb``) is refused with a MediaError naming it.
:func:`photo_meta` reads only the header.

JPEG, PNG, WebP and HEIC/HEIF (through pillow-heif). Files are only ever opened for
reading.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import BackendUnavailable, ConfigError, InputError, MediaError
from ..types import GPS

__all__ = ["open_photo", "photo_meta", "register_heif", "decode_bytes", "decode_budget_mb", "plausible_time"]

_HEIF_SUFFIXES = {".heic", ".heif"}
_BOMB_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-global

_TAG_ORIENTATION = 0x0112
_TAG_DATETIME = 0x0132
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_DATETIME_DIGITIZED = 0x9004
_TAG_OFFSET_TIME = 0x9010  # "+08:00": the zone of DateTime (EXIF 2.31)
_TAG_OFFSET_ORIGINAL = 0x9011
_TAG_OFFSET_DIGITIZED = 0x9012
_GPS_TIME = 7  # GPSTimeStamp: UTC hour, minute, second (rationals)
_GPS_DATE = 29  # GPSDateStamp: "YYYY:MM:DD", UTC

# EXIF orientation -> the transpose that shows the photo upright (as ImageOps.exif_transpose)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# bytes per pixel of Pillow's own storage (RGB is stored in 32 bits, like RGBA)
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# formats whose decoder first fills a buffer of its own, then copies it into the image
_BUFFERED = {"WEBP", "HEIF", "AVIF"}
_STRIP_BYTES = 16 << 20  # the strips a full-size decode is converted and reduced in
_STRIP_PIXEL = 16  # bytes per pixel of a strip's conversion (crop, RGBA, RGB, alpha; float32 for 16-bit)
_MB = 1 << 20


@functools.lru_cache(maxsize=1)
def register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (pillow-heif). Raises BackendUnavailable without it."""
    try:
        import pillow_heif
    except ImportError as e:
        raise BackendUnavailable("HEIC/HEIF photos need pillow-heif: pip install pillow-heif") from e
    pillow_heif.register_heif_opener()


def decode_budget_mb() -> int:
    """The configured memory budget of one photo decode, in MiB: ``Settings.media.max_decode_mb``
    (``CREATOR_MEDIA__MAX_DECODE_MB`` in the environment overrides the default)."""
    from pydantic import ValidationError

    from ..config import MediaSettings

    try:
        return MediaSettings().max_decode_mb
    except ValidationError as e:
        raise ConfigError(f"CREATOR_MEDIA__MAX_DECODE_MB: {e.errors()[0]['msg']}") from e


def _why(path: Path, e: BaseException) -> str:
    """A one-line reason for a failed read, naming the file."""
    name = path.name
    if isinstance(e, FileNotFoundError):
        return f"{name}: file not found"
    if isinstance(e, IsADirectoryError):
        return f"{name}: is a folder, not a photo"
    if isinstance(e, PermissionError):
        return f"{name}: permission denied (the file cannot be read)"
    if isinstance(e, UnidentifiedImageError):
        return f"{name}: not a valid image (the content is not a photo format Pillow can read)"
    if isinstance(e, MemoryError):
        return f"{name}: not enough memory to decode it"
    msg = str(e)
    if "truncated" in msg.lower():
        return f"{name}: the image is truncated (the file was cut short, e.g. an incomplete copy)"
    return f"{name}: the image is corrupt or unreadable ({msg or type(e).__name__})"


def _open(path: Path) -> Image.Image:
    """``Image.open`` (the header only) without Pillow's decompression-bomb check: this
    module sizes every decode itself against the memory budget (:func:`decode_bytes`)."""
    if path.suffix.lower() in _HEIF_SUFFIXES:
        register_heif()
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise MediaError(f"{path.name}: empty file (0 bytes)")
    with _BOMB_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _png_exif_chunk(path: Path) -> bytes | None:
    """The eXIf chunk of a PNG wherever it is, walking the chunk headers (nothing is
    decompressed). Pillow's own ``getexif`` decodes the whole image to find one placed
    after the pixels."""
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        while len(head := f.read(8)) == 8:
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if kind == b"eXIf":
                return f.read(length)
            if kind == b"IEND":
                return None
            f.seek(length + 4, os.SEEK_CUR)
    return None


def _exif(im: Image.Image, path: Path) -> Image.Exif:
    """The image's EXIF, read without decoding its pixels."""
    if im.format != "PNG" or "exif" in im.info:
        return im.getexif()
    exif = Image.Exif()
    data = _png_exif_chunk(path)
    if data:
        exif.load(data)
    return exif


def _orientation(exif: Image.Exif) -> int:
    """The EXIF orientation (1 when absent, invalid or unreadable)."""
    try:
        value = exif.get(_TAG_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block shows the photo as stored
        return 1
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def _needs_conversion(im: Image.Image) -> bool:
    return im.mode != "RGB" or "transparency" in im.info


def _factor(size: tuple[int, int], max_side: int | None) -> int:
    """The integer reduction applied right after decoding: the largest that leaves at
    least twice ``max_side`` for the final Lanczos resampling (Pillow's reducing_gap=2)."""
    if max_side is None:
        return 1
    return max(1, max(size) // (2 * max_side))


def _reduced(size: tuple[int, int], f: int) -> tuple[int, int]:
    return (-(-size[0] // f), -(-size[1] // f))


def decode_bytes(im: Image.Image, max_side: int | None = 448) -> int:
    """The memory, in bytes, that opening an opened (not yet decoded) image at
    ``max_side`` takes, from the header only: its pixels as Pillow stores them (after
    any JPEG draft reduction), twice for formats decoded through a buffer of their own,
    plus the RGB result when the full size is asked for (``max_side`` None).

    This is what the budget is checked against. At the sizes the stages ask for it is the
    one full-size decode a non-JPEG cannot avoid, whatever the size, so every stage
    refuses the same photos; what reducing adds to it (the reduced image, 16 MiB strips)
    is small next to it."""
    w, h = im.size
    decoded = w * h * _PIXEL_BYTES.get(im.mode, 4) * (2 if (im.format or "") in _BUFFERED else 1)
    return decoded + (w * h * 4 if max_side is None else 0)


def _strip_rows(size: tuple[int, int], f: int) -> int:
    """Rows per strip of a strip-wise conversion: a multiple of ``f``, about _STRIP_BYTES."""
    w, h = size
    return min(h, max(f, _STRIP_BYTES // max(1, w * _STRIP_PIXEL) // f * f))


# --- colour: embedded ICC profiles -----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _srgb_profile():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str):
    """An ImageCms transform from the embedded profile ``icc`` to sRGB for pixels stored as
    ``mode`` ("RGB" or "CMYK"), or None when there is nothing to convert: an sRGB profile,
    a broken one, or one for another colour space than the pixels' (a grey profile on an
    RGB photo)."""
    from PIL import ImageCms

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = (src.profile.xcolor_space or "").strip().upper()
        srgb = "srgb" in (ImageCms.getProfileDescription(src) or "").lower().replace(" ", "")
        if space != mode or (mode == "RGB" and srgb):
            return None
        # no one-pixel cache: the transform is shared by threads decoding at once
        return ImageCms.buildTransform(src, _srgb_profile(), mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError, AttributeError):
        return None


# --- HEIF colour described by code points (an "nclx" box) instead of an ICC profile --------

_D65 = (0.3127, 0.3290)
_SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
# transfer_characteristics (ITU-T H.273) -> the curve from coded value to linear light
_SRGB_CURVE = (13, 2)  # sRGB; 2 = unspecified, read as sRGB (Display P3 uses its curve)
_BT709_CURVE = (1, 6, 14, 15)  # BT.709 / BT.601 / BT.2020 (10- and 12-bit): one curve
_POWER = {4: 2.2, 5: 2.8, 8: 1.0}
_CURVES = frozenset(_SRGB_CURVE + _BT709_CURVE + tuple(_POWER))  # the curves read here


@functools.lru_cache(maxsize=1)
def _srgb_encode() -> np.ndarray:
    """(4096,) uint8: linear light 0..1 in 4096 steps, sRGB-encoded."""
    x = np.linspace(0.0, 1.0, 4096)
    return np.round(255 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)).astype(np.uint8)


def _to_linear(v: np.ndarray, transfer: int) -> np.ndarray:
    """Coded values 0..1 to linear light by one of :data:`_CURVES`."""
    if transfer in _SRGB_CURVE:
        return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    if transfer in _BT709_CURVE:
        return np.where(v < 0.081, v / 4.5, ((v + 0.099) / 1.099) ** (1 / 0.45))
    return v ** _POWER[transfer]


def _rgb_to_xyz(primaries, white) -> np.ndarray:
    """The 3x3 matrix from linear RGB with these primaries and white (CIE xy) to XYZ."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    wx, wy = white
    scale = np.linalg.solve(xyz, np.array([wx / wy, 1.0, (1 - wx - wy) / wy]))
    return xyz * scale


@dataclass(frozen=True, eq=False)
class _CodedColour:
    """Converts RGB coded with other primaries (Display P3, BT.2020) and a standard curve
    to sRGB: linearise, one 3x3 matrix (both white points D65), clip, sRGB-encode."""

    matrix: np.ndarray
    transfer: int

    def apply(self, im: Image.Image) -> Image.Image:
        lut = _to_linear(np.arange(256) / 255.0, self.transfer).astype(np.float32)
        encode = _srgb_encode()
        src = np.asarray(im.convert("RGB"))
        out = np.empty_like(src)
        m = self.matrix.T.astype(np.float32)
        for y in range(0, src.shape[0], 256):  # strips: a 12 MP photo needs no 300 MB of floats
            lin = np.clip(lut[src[y : y + 256]] @ m, 0.0, 1.0)
            out[y : y + 256] = encode[(lin * 4095 + 0.5).astype(np.intp)]
        return Image.fromarray(out, "RGB")


@functools.lru_cache(maxsize=16)
def _coded_transform(primaries: tuple, white: tuple, transfer: int) -> _CodedColour | None:
    """The conversion for a HEIF's nclx colour (None: sRGB already, or not read here: a
    white point other than D65, an HDR curve)."""
    if transfer not in _CURVES or max(abs(a - b) for a, b in zip(white, _D65)) > 0.002:  # PQ, HLG...
        return None
    if max(abs(a - b) for p, q in zip(primaries, _SRGB_PRIMARIES) for a, b in zip(p, q)) < 0.002 \
            and transfer in _SRGB_CURVE + _BT709_CURVE:
        return None  # sRGB / BT.709 primaries: shown as stored, like an sRGB JPEG
    srgb = _rgb_to_xyz(_SRGB_PRIMARIES, _D65)
    return _CodedColour(np.linalg.solve(srgb, _rgb_to_xyz(primaries, white)), int(transfer))


def _nclx_transform(nclx) -> _CodedColour | None:
    try:
        primaries = tuple((round(float(nclx[f"color_primary_{c}_x"]), 4), round(float(nclx[f"color_primary_{c}_y"]), 4))
                          for c in ("red", "green", "blue"))
        white = (round(float(nclx["color_primary_white_x"]), 4), round(float(nclx["color_primary_white_y"]), 4))
        transfer = int(nclx.get("transfer_characteristics", 2))
        if not all(0.0 < v < 1.0 for xy in primaries + (white,) for v in xy):
            return None
        return _coded_transform(primaries, white, transfer)
    except (KeyError, TypeError, ValueError, np.linalg.LinAlgError):
        return None


def _profile_mode(im: Image.Image) -> str | None:
    """The pixel layout an embedded profile would be applied to: CMYK for CMYK, RGB for the
    modes decoded to RGB before it (RGB, RGBA, palette), None for the rest."""
    return "CMYK" if im.mode == "CMYK" else "RGB" if im.mode in ("RGB", "RGBA", "RGBX", "P", "PA") else None


def _colour_transform(im: Image.Image):
    """The transform that shows ``im``'s pixels in sRGB (see :func:`_srgb_transform`): its
    ICC profile's, else (HEIF) the colour its nclx code points describe."""
    icc, mode = im.info.get("icc_profile"), _profile_mode(im)
    if mode is None:
        return None
    if icc and isinstance(icc, bytes):
        return _srgb_transform(icc, mode)
    nclx = im.info.get("nclx_profile")
    return _nclx_transform(nclx) if isinstance(nclx, dict) and mode == "RGB" else None


def _apply(im: Image.Image, transform) -> Image.Image:
    from PIL import ImageCms

    if isinstance(transform, _CodedColour):
        return transform.apply(im)
    return ImageCms.applyTransform(im, transform)


def _to_rgb(im: Image.Image, top: float | None = None, cmyk=None) -> Image.Image:
    """RGB for any mode: transparency over white, 16-bit and float scaled to 8 bits, CMYK
    through ``cmyk`` (the photo's profile to sRGB) when it has one.
    ``top`` is the whole image's largest value for integer/float modes (a strip of the
    image is scaled like the whole)."""
    mode = im.mode
    if mode == "CMYK" and cmyk is not None:
        return _apply(im, cmyk)
    if mode == "RGB" and "transparency" not in im.info:
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        if top is None:
            top = float(arr.max()) if arr.size else 0.0
        if mode.startswith("I;16") or top > 255:
            arr = arr / (257.0 if top <= 65535 else top / 255.0)
        elif mode == "F" and top <= 1.0:
            arr = arr * 255.0
        grey = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        return grey.convert("RGB")
    if mode in ("P", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA") if mode != "RGBA" else im
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))  # over white
        return out
    return im.convert("RGB")


def _reduce_to_rgb(im: Image.Image, f: int, cmyk=None) -> Image.Image:
    """``_to_rgb(im, cmyk=cmyk).reduce(f)`` without a second full-size copy: the conversion
    (and compositing over white) is done strip by strip, each strip reduced at once. Rows
    per strip are a multiple of ``f``, so the result is the same as the whole image's."""
    if not _needs_conversion(im):
        return im.reduce(f) if f > 1 else im
    w, h = im.size
    top = None
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        top = float(im.getextrema()[1]) if w and h else 0.0
    rows = _strip_rows(im.size, f)
    if rows >= h:
        rgb = _to_rgb(im, top, cmyk)
        return rgb.reduce(f) if f > 1 else rgb
    out = Image.new("RGB", _reduced(im.size, f))
    for y in range(0, h, rows):
        strip = _to_rgb(im.crop((0, y, w, min(h, y + rows))), top, cmyk)
        out.paste(strip.reduce(f) if f > 1 else strip, (0, y // f))
    return out


def open_photo(path: str | os.PathLike, *, max_side: int | None = 448,
               max_decode_mb: float | None = None) -> Image.Image:
    """A photo as displayed: RGB, EXIF orientation applied, no side longer than ``max_side``
    (None: full size). The one photo loader: every stage opens photos with it.

    JPEGs are decoded reduced (draft mode: 1/2, 1/4 or 1/8 scale, never below
    ``max_side``), so a 12000x9000 photo opens in a fraction of a second and small memory.
    Other formats are decoded once in full, then reduced (and converted) strip by strip.
    CMYK, palette, greyscale, alpha (over white) and 16-bit images come back as 8-bit RGB,
    in sRGB: an embedded ICC profile (Display P3, Adobe RGB, CMYK) is applied, an sRGB or
    unreadable one left alone; a HEIF without one is read by its nclx code points (Display
    P3 or BT.2020 primaries, a standard curve; HDR curves are left as stored).

    ``max_decode_mb`` is the memory one decode may take (None: the configured
    ``Settings.media.max_decode_mb``); a photo whose decode would need more (estimated
    from its header, before decoding) is refused.

    Raises MediaError, naming the file, when it is missing, unreadable, not an image,
    truncated, corrupt or too large for the budget.
    """
    if max_side is not None and max_side < 1:
        raise InputError(f"max_side must be a positive number of pixels or None, got {max_side!r}")
    if max_decode_mb is not None and not max_decode_mb > 0:
        raise InputError(f"max_decode_mb must be a positive number of MiB or None, got {max_decode_mb!r}")
    budget = (max_decode_mb if max_decode_mb is not None else decode_budget_mb()) * _MB
    p = Path(path)
    try:
        im = _open(p)
        with im:
            w, h = im.size
            if max_side is not None:
                # ask for the target box of this aspect: (max_side, max_side) would keep a
                # 4:3 photo at 1/4 scale (its short side must reach max_side) where 1/8
                # suffices, decoding four times the pixels. Only JPEG has a draft mode.
                k = min(1.0, max_side / max(w, h))
                im.draft("RGB", (max(1, round(w * k)), max(1, round(h * k))))
            need = decode_bytes(im, max_side)
            if need > budget:
                raise MediaError(
                    f"{p.name}: {w}x{h} {im.mode} {im.format or 'image'} is too large to decode "
                    f"(about {math.ceil(need / _MB)} MiB; the budget is {budget / _MB:g} MiB, "
                    f"Settings.media.max_decode_mb)")
            im.load()
            orientation = _orientation(_exif(im, p))
            # an embedded colour profile other than sRGB (a phone's Display P3, Adobe RGB, a
            # CMYK print profile) is applied, so every stage sees the colours as displayed
            transform = _colour_transform(im)
            cmyk = transform if im.mode == "CMYK" else None
            rgb = _reduce_to_rgb(im, _factor(im.size, max_side), cmyk)
            if transform is not None:
                if cmyk is None:
                    rgb = _apply(rgb, transform)
                rgb.info.pop("icc_profile", None)
            if orientation != 1:
                rgb = rgb.transpose(_UPRIGHT[orientation])
            if max_side is not None and max(rgb.size) > max_side:
                rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=None)
            return rgb.copy() if rgb is im else rgb
    except (MediaError, BackendUnavailable):
        raise
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, MemoryError,
            Image.DecompressionBombError) as e:
        raise MediaError(_why(p, e)) from e


# --- EXIF ----------------------------------------------------------------------------------


def _exif_time(value: Any) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00")[:19]
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return dt if dt.year >= 1971 else None  # 0000:00:00 / 1970 placeholders: no date set
    return None


def plausible_time(dt: datetime | None) -> tuple[datetime | None, str | None]:
    """(the time, None) when a recorded capture time can be true; (None, a warning) when it
    lies in the future (more than a day ahead of this computer's clock, so time zones
    never trip it): a camera clock set wrong, or a crafted file."""
    if dt is None:
        return None, None
    now = datetime.now(dt.tzinfo) if dt.tzinfo is not None else datetime.now()
    if dt > now + timedelta(days=1):
        return None, f"date {dt:%Y-%m-%d %H:%M} is in the future; ignored"
    return dt, None


def _exif_offset(value: Any) -> int | None:
    """Minutes east of UTC from an EXIF OffsetTime* string ("+08:00", "-03:30"); None
    when absent, blank ("   :  ") or beyond the world's zones (UTC-12 to UTC+14)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value.strip().strip("\x00").strip())
    if not m:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    minutes = -minutes if m[1] == "-" else minutes
    return minutes if -12 * 60 <= minutes <= 14 * 60 and int(m[3]) < 60 else None


def _gps_utc_offset(gps_ifd: dict, taken: datetime) -> int | None:
    """The camera clock's offset from UTC, in minutes, from the GPS receiver's UTC stamp
    (GPSDateStamp + GPSTimeStamp): the difference rounded to the nearest quarter hour
    (zones are whole quarter hours; a clock a few minutes off still lands on its zone).
    None without both stamps, or when they are more than 14 hours from the clock (a stale
    fix, or a clock set to another day)."""
    date, clock = gps_ifd.get(_GPS_DATE), gps_ifd.get(_GPS_TIME)
    if isinstance(date, bytes):
        date = date.decode("ascii", "ignore")
    if not isinstance(date, str) or not isinstance(clock, (tuple, list)) or len(clock) != 3:
        return None
    try:
        day = datetime.strptime(date.strip().strip("\x00")[:10].replace("-", ":"), "%Y:%m:%d")
        h, m, sec = (_rational(x) for x in clock)
        utc = day + timedelta(hours=h, minutes=m, seconds=sec)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    diff = (taken - utc).total_seconds() / 60.0
    if diff != diff or not -12 * 60 - 7.5 <= diff <= 14 * 60 + 7.5:
        return None
    return int(round(diff / 15.0)) * 15


def _rational(v: Any) -> float:
    if isinstance(v, tuple) and len(v) == 2:  # (numerator, denominator) from some writers
        return float(v[0]) / float(v[1]) if v[1] else float("nan")
    return float(v)


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        parts = [_rational(x) for x in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or any(x != x for x in parts):  # NaN
        return None
    deg = parts[0] + (parts[1] / 60 if len(parts) > 1 else 0) + (parts[2] / 3600 if len(parts) > 2 else 0)
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if isinstance(ref, str) and ref.strip().upper()[:1] in ("S", "W"):
        deg = -deg
    return deg


def _gps(gps_ifd: dict) -> tuple[GPS | None, str | None]:
    """GPS from an EXIF GPS IFD; None (and a warning) when absent, 0,0 or out of range."""
    if not gps_ifd or 2 not in gps_ifd or 4 not in gps_ifd:
        return None, None
    lat = _degrees(gps_ifd.get(2), gps_ifd.get(1))
    lon = _degrees(gps_ifd.get(4), gps_ifd.get(3))
    if lat is None or lon is None:
        return None, "GPS position in EXIF is unreadable; ignored"
    if abs(lat) < 1e-6 and abs(lon) < 1e-6:
        return None, None  # 0,0: cameras write it when they had no fix
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, f"GPS position {lat:.4f},{lon:.4f} is out of range; ignored"
    alt = None
    if 6 in gps_ifd:
        try:
            alt = _rational(gps_ifd[6])
            ref = gps_ifd.get(5)
            if ref in (1, b"\x01"):
                alt = -alt
            if alt != alt:
                alt = None
        except (TypeError, ValueError, ZeroDivisionError):
            alt = None
    return GPS(lat=round(lat, 7), lon=round(lon, 7), altitude=alt), None


def photo_meta(path: str | os.PathLike) -> dict[str, Any]:
    """What a photo's header says, without decoding its pixels.

    Returns ``width``/``height`` as displayed (swapped for EXIF orientations 5-8),
    ``format``, ``mode`` (Pillow's, as stored), ``orientation`` (1-8), ``colour_profile``
    (True when it embeds a colour profile other than sRGB, or HEIF code points for other
    primaries, which :func:`open_photo` applies), ``taken_at`` (naive
    local time from EXIF DateTimeOriginal, else DateTimeDigitized, else DateTime; a date
    before 1971 is a placeholder, one in the future is ignored with a warning),
    ``utc_offset`` (minutes east of UTC of ``taken_at``: the time's own EXIF OffsetTime*
    tag, else the difference from the GPS receiver's UTC stamp; None when neither says),
    ``gps`` (GPS or None) and ``warnings`` (list of str). Raises MediaError naming the file.
    """
    p = Path(path)
    try:
        with _open(p) as im:
            exif = _exif(im, p)
            width, height, fmt, mode = im.width, im.height, im.format, im.mode
            profiled = _colour_transform(im) is not None
    except (MediaError, BackendUnavailable):
        raise
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
        raise MediaError(_why(p, e)) from e
    warns: list[str] = []
    orientation = exif.get(_TAG_ORIENTATION, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        warns.append(f"EXIF orientation {orientation!r} is invalid; shown as stored")
        orientation = 1
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    try:
        sub = exif.get_ifd(_IFD_EXIF)
    except Exception:  # a malformed IFD must not make the photo unreadable
        sub = {}
        warns.append("EXIF block is malformed; date not read")
    taken = offset = None
    for raw, zone in ((sub.get(_TAG_DATETIME_ORIGINAL), _TAG_OFFSET_ORIGINAL),
                      (sub.get(_TAG_DATETIME_DIGITIZED), _TAG_OFFSET_DIGITIZED),
                      (exif.get(_TAG_DATETIME), _TAG_OFFSET_TIME)):
        taken, warn = plausible_time(_exif_time(raw))
        if warn and f"EXIF {warn}" not in warns:
            warns.append(f"EXIF {warn}")
        if taken is not None:
            offset = _exif_offset(sub.get(zone))
            break
    try:
        gps_ifd = dict(exif.get_ifd(_IFD_GPS))
    except Exception:
        gps_ifd = {}
        warns.append("EXIF GPS block is malformed; position not read")
    gps, warn = _gps(gps_ifd)
    if warn:
        warns.append(warn)
    if taken is not None and offset is None:
        offset = _gps_utc_offset(gps_ifd, taken)
    return {"width": width, "height": height, "format": fmt, "mode": mode, "orientation": orientation,
            "colour_profile": profiled, "taken_at": taken, "utc_offset": offset,
            "gps": gps, "warnings": warns}
