"""Where the sun stood when a photo was taken.

A clock hour alone cannot say whether it was dark: 17:30 is night in Kyoto in December
and broad daylight in Stockholm in June, and at 70° north the December noon is a long
twilight. The sun's elevation at the photo's place and instant can. It needs the GPS
position and the capture instant in UTC: the camera's local time less its offset from
UTC (EXIF OffsetTime*, or the GPS receiver's UTC stamp: :func:`creator.media.photos.photo_meta`),
else the local time read in the time zone of the GPS position (tzfpy's offline zone
map, with the IANA rules of :mod:`zoneinfo`). The elevation itself is astral's.

Elevations below 0° are twilight and night: civil twilight to -6°, astronomical night
below -18°.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from ..types import GPS, MediaItem

# Civil dusk (and dawn): the sun this far below the horizon, the sky is dark and lights are
# on. The lite tagger's night rules and the moments' clock both read it.
CIVIL_DUSK = -6.0
HORIZON = 0.0


@lru_cache(maxsize=4096)
def _zone(lat: float, lon: float):
    """The IANA zone at a position (over the sea, the nautical Etc/GMT±n), or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    import tzfpy

    name = tzfpy.get_tz(lon, lat)
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def capture_utc(taken_at: datetime | None, utc_offset: int | None = None,
                gps: GPS | None = None) -> datetime | None:
    """The capture instant in UTC (aware), or None when it cannot be known.

    ``taken_at`` is the camera's wall clock (naive) or an aware time; ``utc_offset`` its
    offset in minutes east of UTC, when the file recorded one; else the zone at ``gps``
    decides (daylight saving included). Without either, None: the clock alone does not
    say which zone it was set to.
    """
    if taken_at is None:
        return None
    if taken_at.tzinfo is not None:
        return taken_at.astimezone(timezone.utc)
    if utc_offset is not None:
        try:
            return (taken_at - timedelta(minutes=utc_offset)).replace(tzinfo=timezone.utc)
        except OverflowError:
            return None
    if gps is None:
        return None
    zone = _zone(round(gps.lat, 3), round(gps.lon, 3))
    if zone is None:
        return None
    try:
        return taken_at.replace(tzinfo=zone).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # year 1 or 9999 pushed past the calendar
        return None


def sun_elevation(taken_at: datetime | None, utc_offset: int | None = None,
                  gps: GPS | None = None) -> float | None:
    """The sun's elevation in degrees above the horizon (refraction included) at ``gps``
    when the photo was taken; None without a position or a knowable instant."""
    if gps is None:
        return None
    when = capture_utc(taken_at, utc_offset, gps)
    if when is None:
        return None
    from astral import Observer
    from astral.sun import elevation

    try:
        return float(elevation(Observer(latitude=gps.lat, longitude=gps.lon), when))
    except (ValueError, OverflowError):  # a crafted position or date: no sun, not a crash
        return None


def item_sun(item: MediaItem) -> float | None:
    """:func:`sun_elevation` of one media item."""
    return sun_elevation(item.taken_at, item.utc_offset, item.gps)
