"""Photos: open them as displayed (orientation, colour mode, size) and read their EXIF.

JPEG, PNG, WebP and HEIC/HEIF (through pillow-heif). Files are only ever opened for
reading.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import BackendUnavailable, InputError, MediaError
from ..types import GPS

__all__ = ["open_photo", "photo_meta", "register_heif", "MAX_PIXELS"]

#: Largest non-JPEG image decoded (pixels). JPEGs of any size open, because draft mode
#: decodes them at 1/2..1/8 scale; other formats decode in full, so beyond this a file
#: is refused with a clear message rather than exhausting memory.
MAX_PIXELS = 400_000_000

_HEIF_SUFFIXES = {".heic", ".heif"}
_BOMB_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-global

_TAG_ORIENTATION = 0x0112
_TAG_DATETIME = 0x0132
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_DATETIME_DIGITIZED = 0x9004


@functools.lru_cache(maxsize=1)
def register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (pillow-heif). Raises BackendUnavailable without it."""
    try:
        import pillow_heif
    except ImportError as e:
        raise BackendUnavailable("HEIC/HEIF photos need pillow-heif: pip install pillow-heif") from e
    pillow_heif.register_heif_opener()


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
    msg = str(e)
    if "truncated" in msg.lower():
        return f"{name}: the image is truncated (the file was cut short, e.g. an incomplete copy)"
    return f"{name}: the image is corrupt or unreadable ({msg or type(e).__name__})"


def _open(path: Path) -> Image.Image:
    """``Image.open`` without Pillow's decompression-bomb check (this module applies its
    own limit after seeing the format, since JPEGs of any size are decoded reduced)."""
    if path.suffix.lower() in _HEIF_SUFFIXES:
        register_heif()
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise MediaError(f"{path.name}: empty file (0 bytes)")
    with _BOMB_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit
    if im.format != "JPEG" and im.width * im.height > MAX_PIXELS:
        size = f"{im.width}x{im.height}"
        im.close()
        raise MediaError(f"{path.name}: {size} {im.format} image is too large to decode safely "
                         f"(limit {MAX_PIXELS // 1_000_000} megapixels for non-JPEG images)")
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB for any mode: transparency over white, 16-bit and float scaled to 8 bits."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = float(arr.max()) if arr.size else 0.0
        if mode.startswith("I;16") or top > 255:
            arr = arr / (257.0 if top <= 65535 else top / 255.0)
        elif mode == "F" and top <= 1.0:
            arr = arr * 255.0
        grey = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        return grey.convert("RGB")
    if mode in ("P", "PA"):
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def open_photo(path: str | os.PathLike, *, max_side: int | None = 448) -> Image.Image:
    """A photo as displayed: RGB, EXIF orientation applied, no side longer than ``max_side``
    (None: full size).

    JPEGs are decoded reduced (draft mode: 1/2, 1/4 or 1/8 scale, never below
    ``max_side``), so a 12000x9000 photo opens in a fraction of a second and small memory.
    CMYK, palette, greyscale, alpha (over white) and 16-bit images come back as 8-bit RGB.

    Raises MediaError, naming the file, when it is missing, unreadable, not an image,
    truncated or corrupt.
    """
    if max_side is not None and max_side < 1:
        raise InputError(f"max_side must be a positive number of pixels or None, got {max_side!r}")
    p = Path(path)
    try:
        im = _open(p)
        with im:
            if max_side is not None and im.format == "JPEG":
                # ask for the target box of this aspect: (max_side, max_side) would keep a
                # 4:3 photo at 1/4 scale (its short side must reach max_side) where 1/8
                # suffices, decoding four times the pixels
                w, h = im.size
                k = max_side / max(w, h)
                im.draft("RGB", (max(1, round(w * k)), max(1, round(h * k))))
            im.load()
            shown = ImageOps.exif_transpose(im) or im
            rgb = _to_rgb(shown)
            if max_side is not None and max(rgb.size) > max_side:
                rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=None)
            return rgb.copy() if rgb is im else rgb
    except (MediaError, BackendUnavailable):
        raise
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
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
    ``format``, ``orientation`` (1-8), ``taken_at`` (naive local time from EXIF
    DateTimeOriginal, else DateTimeDigitized, else DateTime), ``gps`` (GPS or None) and
    ``warnings`` (list of str). Raises MediaError naming the file.
    """
    p = Path(path)
    try:
        with _open(p) as im:
            exif = im.getexif()
            width, height, fmt = im.width, im.height, im.format
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
    taken = (_exif_time(sub.get(_TAG_DATETIME_ORIGINAL)) or _exif_time(sub.get(_TAG_DATETIME_DIGITIZED))
             or _exif_time(exif.get(_TAG_DATETIME)))
    try:
        gps_ifd = dict(exif.get_ifd(_IFD_GPS))
    except Exception:
        gps_ifd = {}
        warns.append("EXIF GPS block is malformed; position not read")
    gps, warn = _gps(gps_ifd)
    if warn:
        warns.append(warn)
    return {"width": width, "height": height, "format": fmt, "orientation": orientation,
            "taken_at": taken, "gps": gps, "warnings": warns}
