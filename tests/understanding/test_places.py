from __future__ import annotations

import pytest

from creator.types import GPS
from creator.understanding.places import distance_km, locate


@pytest.mark.parametrize(
    "pos, zh, en, country_zh",
    [
        ((48.8584, 2.2945), "巴黎", "Paris", "法国"),  # the Eiffel Tower: Paris, not the suburb Vanves
        ((30.2500, 120.1500), "杭州", "Hangzhou", "中国"),  # West Lake
        ((35.0100, 135.7700), "京都", "Kyoto", "日本"),
        ((40.7128, -74.0060), "纽约", "New York City", "美国"),  # simplified, not 紐約
        ((-33.8568, 151.2153), "悉尼", "Sydney", "澳大利亚"),
        # GeoNames' shortest Han alternates are a district, an old name, a subdistrict
        ((30.6600, 104.0700), "成都", "Chengdu", "中国"),  # not 天府
        ((22.5400, 114.0600), "深圳", "Shenzhen", "中国"),  # not 宝安
        ((43.6500, 111.9700), "二连浩特", "Erenhot", "中国"),  # not 乌兰
        ((43.8000, 87.6000), "乌鲁木齐", "Ürümqi", "中国"),  # not 迪化
        ((37.5700, 126.9800), "首尔", "Seoul", "韩国"),  # not 首尔特别(市)
    ],
)
def test_trip_label_is_the_notable_city_in_both_languages(pos, zh, en, country_zh):
    place = locate(GPS(lat=pos[0], lon=pos[1]))
    assert place is not None
    assert (place.name_zh, place.name_en, place.country_zh) == (zh, en, country_zh)


def test_region_names_in_chinese_and_english():
    place = locate((30.25, 120.15))
    assert place.region_zh == "浙江省" and place.region_en == "Zhejiang"
    assert place.country_code == "CN"


def test_open_ocean_has_no_name():
    assert locate((0.0, -30.0)) is None
    assert locate(None) is None


def test_distance():
    # Hangzhou → Shanghai is about 165 km as the crow flies
    assert 150 < float(distance_km(30.25, 120.15, 31.23, 121.47)) < 180


def test_band_search_finds_what_a_scan_of_the_whole_gazetteer_finds():
    """The latitude-band index must give the nearest town and the labelled city exactly
    as a brute-force scan over every town and city does (incl. near the date line and
    poles, and offshore)."""
    import numpy as np

    from creator.understanding.places import _cities, _locate_rounded, _towns

    rng = np.random.default_rng(7)
    points = [(48.858, 2.294), (30.25, 120.15), (64.147, -21.94), (-17.7, 178.0), (35.0, 179.99),
              (-46.4, 168.35), (71.29, -156.79), (0.0, -160.0)]
    points += [(round(float(a), 3), round(float(b), 3))
               for a, b in zip(rng.uniform(-55, 70, 40), rng.uniform(-180, 180, 40))]
    towns, cities = _towns(), _cities()
    for lat, lon in points:
        d = distance_km(lat, lon, towns.lat, towns.lon)
        ti = int(np.argmin(d))
        got = _locate_rounded(lat, lon)
        if d[ti] > 200:
            assert got is None, (lat, lon)
            continue
        cc = towns.cc[ti]
        dc = distance_km(lat, lon, cities.lat, cities.lon)
        near = np.flatnonzero((dc < 40) & (np.array(cities.cc) == cc))
        name = towns.name[ti]
        if len(near):
            score = np.log10(cities.pop[near] + 10) / (1 + (dc[near] / 15.0) ** 2)
            name = cities.name[int(near[int(np.argmax(score))])]
        assert got is not None and (got.city_en, got.country_code) == (name, cc), (lat, lon, got, name)


def test_a_chinese_town_without_a_han_name_is_named_by_its_province_in_chinese():
    from creator.understanding.places import locate

    p = locate((33.26, 103.92))  # near Jiuzhaigou: the nearest town (Yongle) has no Han name
    assert p.name_en == "Yongle" and p.name_zh == "四川" and p.region_zh == "四川省"
    assert all("\u4e00" <= ch <= "\u9fff" for ch in p.name_zh)
    assert locate((48.82, 2.29)).name_zh == "巴黎"  # elsewhere the Han name when there is one
