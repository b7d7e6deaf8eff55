"""A demo trip of real photographs that ships with the assistant, for `make demo` and for
trying things.

Six public-domain landscape and city photographs (from the Debian package
``endless-sky-data``; creator/demo_trip/ATTRIBUTION.md says where each comes from).
:func:`copy_samples` writes copies with a capture time and a GPS position *invented for
the demo* (three days around Hong Kong), said so in the README and the attribution, so
that places, days, the carousel and the video show what they can. The originals in the
package are never changed.
"""

from __future__ import annotations

import importlib.resources
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from .drafts import atomic_write_bytes
from .errors import BackendUnavailable

__all__ = ["DEMO_TRIP", "copy_samples"]

# file in creator/demo_trip → (name written, the invented capture time, the invented (lat, lon))
DEMO_TRIP: dict[str, tuple[str, datetime, tuple[float, float]]] = {
    "city0.jpg": ("第1天_维港.jpg", datetime(2025, 11, 14, 15, 20), (22.2783, 114.1747)),
    "city4.jpg": ("第1天_夜景.jpg", datetime(2025, 11, 14, 19, 45), (22.2950, 114.1690)),
    "beach3.jpg": ("第2天_海岸.jpg", datetime(2025, 11, 15, 10, 30), (22.2270, 114.2520)),
    "beach5.jpg": ("第2天_日落.jpg", datetime(2025, 11, 15, 17, 25), (22.2320, 114.2460)),
    "water2.jpg": ("第3天_湿地.jpg", datetime(2025, 11, 16, 9, 10), (22.4900, 114.0400)),
    "fog4.jpg": ("第3天_山雾.jpg", datetime(2025, 11, 16, 13, 40), (22.2560, 113.9200)),
}


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    d = int(value)
    m = int((value - d) * 60)
    s = Fraction(round(((value - d) * 60 - m) * 60 * 1000), 1000)
    return Fraction(d), Fraction(m), s


def _with_exif(data: bytes, when: datetime, lat: float, lon: float) -> bytes:
    """The JPEG ``data`` with EXIF capture time and GPS position (pixels re-encoded at
    quality 95; the demo's photos carry no EXIF of their own)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        exif = Image.Exif()
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[0x9003] = stamp
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
        out = io.BytesIO()
        im.convert("RGB").save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def copy_samples(dest: str | Path) -> list[Path]:
    """Write the demo trip into ``dest`` (created): six photos with their invented
    capture times and places, and the attribution. Returns the photos' paths."""
    dest = Path(dest)
    folder = importlib.resources.files("creator") / "demo_trip"
    if not folder.is_dir():
        raise BackendUnavailable("the demo trip's photos are missing from this install of travel-note-creator")
    out = []
    for src, (name, when, (lat, lon)) in DEMO_TRIP.items():
        out.append(atomic_write_bytes(dest / name, _with_exif((folder / src).read_bytes(), when, lat, lon)))
    atomic_write_bytes(dest / "ATTRIBUTION.md", (folder / "ATTRIBUTION.md").read_bytes())
    return out


def add_samples_parser(sub) -> None:
    p = sub.add_parser("samples", help="write the demo trip (six public-domain photos, with invented times and "
                                       "places) into a folder")
    p.add_argument("dest", metavar="DIR")


def run_samples(args) -> int:
    paths = copy_samples(args.dest)
    print(f"{len(paths)} demo photos in {args.dest} (times and places invented for the demo: see ATTRIBUTION.md)")
    return 0
