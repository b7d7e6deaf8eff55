"""Read the files out of a Qt binary resource archive (.rcc), for the benchmarks' photo sets.

Some Debian packages ship their photos inside such archives (gcompris-qt-data's activities,
for one). The format, as Qt's rcc tool writes it (versions 1-3): a 20-byte big-endian
header, b"qres" then version, tree offset, data offset and names offset (version 3 adds
4 bytes of flags); a tree of fixed-size entries (14 bytes, 22 from version 2 on: name
offset u32, flags u16, then for a directory the child count and first child index u32
u32, for a file country u16, language u16 and data offset u32, then from version 2 a
u64 modification time); names as u16 length, u32 hash, UTF-16BE text; data as u32 size
then the bytes, zlib-compressed behind a u32 uncompressed size when flag 1 is set
(flag 2 marks a directory, flag 4 zstd, which is not read here).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

__all__ = ["read_rcc"]

_COMPRESSED, _DIRECTORY, _ZSTD = 1, 2, 4


def read_rcc(path: str | Path) -> dict[str, bytes]:
    """{"/path/inside/the/archive": the file's bytes} for every file in a .rcc archive."""
    b = Path(path).read_bytes()
    if b[:4] != b"qres" or len(b) < 20:
        raise ValueError(f"{path}: not a Qt resource archive")
    version, tree, data, names = struct.unpack(">IIII", b[4:20])
    if version not in (1, 2, 3):
        raise ValueError(f"{path}: Qt resource archive version {version} is not supported")
    entry = 14 if version == 1 else 22

    def name(offset: int) -> str:
        (n,) = struct.unpack_from(">H", b, names + offset)
        return b[names + offset + 6:names + offset + 6 + 2 * n].decode("utf-16-be")

    out: dict[str, bytes] = {}
    pending = [(0, "")]  # (entry index, path of its parent)
    while pending:
        i, parent = pending.pop()
        at = tree + i * entry
        name_offset, flags = struct.unpack_from(">IH", b, at)
        here = f"{parent}/{name(name_offset)}" if i else ""
        if flags & _DIRECTORY:
            count, first = struct.unpack_from(">II", b, at + 6)
            pending.extend((c, here) for c in range(first, first + count))
            continue
        (offset,) = struct.unpack_from(">I", b, at + 10)
        (size,) = struct.unpack_from(">I", b, data + offset)
        payload = b[data + offset + 4:data + offset + 4 + size]
        if flags & _ZSTD:
            raise ValueError(f"{path}: {here} is zstd-compressed, which is not supported")
        out[here] = zlib.decompress(payload[4:]) if flags & _COMPRESSED else payload
    return out
