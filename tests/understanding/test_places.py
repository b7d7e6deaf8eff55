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
