"""ICC colour profiles built here byte by byte (ICC.1 v2 layout), for tests of colour
management: a matrix/TRC RGB display profile with Display P3's primaries, and a small
CMYK print profile whose lookup table the test chooses (so its colours cannot be mistaken
for a naive CMYK -> RGB conversion)."""

from __future__ import annotations

import struct

import numpy as np

# Display P3's colorants adapted to the D50 connection space (as in Apple's profile)
P3_D50 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
D50 = (0.9642, 1.0, 0.8249)


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _xyz(x: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in x)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">II", 0, 0) + \
        struct.pack(">HB", 0, 0) + b"\0" * 67


def _profile(cls: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    table = 4 + 12 * len(tags)
    offset, entries, body = 128 + table, b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        entries += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = 128 + table + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + cls + space + pcs
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)
              + b"".join(_s15(v) for v in D50) + b"\0" * 4)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + entries + body


def matrix_rgb_profile(colorants=P3_D50, gamma: float = 2.2, name: str = "Display P3 test profile") -> bytes:
    """An RGB display profile: ``colorants`` (red, green, blue XYZ at D50) and one power-law
    curve per channel."""
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    r, g, b = colorants
    return _profile(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _desc(name)), (b"wtpt", _xyz(D50)), (b"rXYZ", _xyz(r)), (b"gXYZ", _xyz(g)),
        (b"bXYZ", _xyz(b)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0" + b"no copyright: a test profile\0")])


def _lab16(lab: tuple[float, float, float]) -> tuple[int, int, int]:
    """CIELAB in the v2 16-bit encoding of lut16 tables."""
    L, a, b = lab
    return (round(L / 100 * 0xFF00), round((a + 128) * 256), round((b + 128) * 256))


def cmyk_profile(corners, name: str = "CMYK test profile") -> bytes:
    """A CMYK output profile (device to Lab, A2B0 only) on a 2x2x2x2 grid: ``corners`` maps
    each (c, m, y, k) in {0, 1}^4 to the CIELAB colour it prints; values in between are
    interpolated."""
    clut = b""
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    clut += struct.pack(">3H", *_lab16(corners((c, m, y, k))))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    linear = struct.pack(">2H", 0, 65535)
    lut = (b"mft2\0\0\0\0" + struct.pack(">BBBB", 4, 3, 2, 0) + identity + struct.pack(">HH", 2, 2)
           + linear * 4 + clut + linear * 3)
    return _profile(b"prtr", b"CMYK", b"Lab ", [(b"desc", _desc(name)), (b"wtpt", _xyz(D50)), (b"A2B0", lut),
                                                (b"cprt", b"text\0\0\0\0" + b"no copyright: a test profile\0")])


# the sRGB colorants at D50, as the sRGB profile Pillow's lcms builds states them
SRGB_D50 = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def rgb_to_srgb(rgb: tuple[int, int, int], colorants=P3_D50, gamma: float = 2.2) -> tuple[int, int, int]:
    """What an 8-bit colour of :func:`matrix_rgb_profile` (these colorants and gamma) is in
    sRGB, by the profile's own arithmetic (linearise, to XYZ, to linear sRGB, clip,
    encode), worked out here with numpy and not by a colour engine."""
    lin = (np.asarray(rgb, float) / 255.0) ** gamma
    s = np.clip(np.linalg.solve(np.array(SRGB_D50).T, np.array(colorants).T @ lin), 0.0, 1.0)
    enc = np.where(s <= 0.0031308, 12.92 * s, 1.055 * s ** (1 / 2.4) - 0.055)
    return tuple(int(v) for v in np.round(enc * 255))
