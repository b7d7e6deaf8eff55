"""The sun's elevation at a photo's place and instant decides night and sunset, where the
clock hour alone cannot (17:40 is dark in Kyoto in December, light in Stockholm in June).

The instant comes from EXIF: OffsetTimeOriginal, else the GPS receiver's UTC stamp, else
the time zone at the GPS position. Photos are real JPEGs with that EXIF, under Chinese
names, read back through load_media and tagged by the real lite tagger.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from creator.config import Settings, TaggingSettings
from creator.media import load_media, photo_meta
from creator.types import GPS
from creator.understanding import understand_items
from creator.understanding.lite import daylight, light_gate
from creator.understanding.moments import build_context, clock_bucket, time_bucket, trip_time_of_day
from creator.understanding.sun import capture_utc, item_sun, sun_elevation
from tests.factories import make_photo

KYOTO = (35.01, 135.77)
STOCKHOLM = (59.33, 18.07)
TROMSO = (69.65, 18.96)


def gps(pos: tuple[float, float]) -> GPS:
    return GPS(lat=pos[0], lon=pos[1])


def test_offset_comes_from_exif_then_the_gps_clock(tmp_path):
    when = datetime(2026, 12, 4, 17, 40)
    tagged = photo_meta(make_photo(tmp_path / "京都_偏移.jpg", size=(64, 48), taken_at=when, offset="+09:00"))
    assert tagged["taken_at"] == when and tagged["utc_offset"] == 9 * 60
    west = photo_meta(make_photo(tmp_path / "纽芬兰.jpg", size=(64, 48), taken_at=when, offset="-03:30"))
    assert west["utc_offset"] == -(3 * 60 + 30)
    # a camera clock a few minutes fast, with a GPS fix in UTC: the quarter hour it lands on
    fix = photo_meta(make_photo(tmp_path / "京都_卫星.jpg", size=(64, 48), taken_at=when, gps=KYOTO,
                                gps_utc=datetime(2026, 12, 4, 8, 36)))
    assert fix["utc_offset"] == 9 * 60
    # the file's own offset is preferred to the GPS clock
    both = photo_meta(make_photo(tmp_path / "两者.jpg", size=(64, 48), taken_at=when, offset="+08:00",
                                 gps=KYOTO, gps_utc=datetime(2026, 12, 4, 8, 40)))
    assert both["utc_offset"] == 8 * 60
    for name, kw in {"空白": {"offset": "   :  "}, "乱写": {"offset": "+25:00"},
                     "陈旧定位": {"gps": KYOTO, "gps_utc": datetime(2026, 12, 2, 8, 40)},
                     "无": {}}.items():
        assert photo_meta(make_photo(tmp_path / f"{name}.jpg", size=(64, 48), taken_at=when, **kw))["utc_offset"] is None
    # no capture time, no offset to speak of
    assert photo_meta(make_photo(tmp_path / "无时间.jpg", size=(64, 48), offset="+09:00"))["utc_offset"] is None


def test_load_media_keeps_the_offset(tmp_path):
    path = make_photo(tmp_path / "相册" / "岚山.jpg", size=(64, 48), taken_at=datetime(2026, 12, 4, 17, 40),
                      offset="+09:00", gps=KYOTO)
    [item] = load_media([path])
    assert item.utc_offset == 540 and item.gps is not None
    assert item_sun(item) == pytest.approx(sun_elevation(item.taken_at, 540, gps(KYOTO)))


def test_the_sun_where_and_when_the_photo_was_taken():
    dusk = datetime(2026, 12, 4, 17, 40)
    # Kyoto, December: dark by 17:40 (sunset 16:46 JST), high at noon; the zone from GPS
    # gives what the offset gives
    assert sun_elevation(dusk, None, gps(KYOTO)) == pytest.approx(sun_elevation(dusk, 540, gps(KYOTO)))
    assert sun_elevation(dusk, None, gps(KYOTO)) < -6
    assert sun_elevation(datetime(2026, 12, 4, 12, 0), None, gps(KYOTO)) > 25
    # Stockholm, June: 17:40 is afternoon (daylight saving included: UTC+2), 21:30 the low sun
    assert sun_elevation(datetime(2026, 6, 21, 17, 40), None, gps(STOCKHOLM)) > 25
    assert 0 < sun_elevation(datetime(2026, 6, 21, 21, 30), None, gps(STOCKHOLM)) < 12
    # Tromsø, December: the noon sun stays below the horizon
    assert -6 < sun_elevation(datetime(2026, 12, 15, 12, 0), None, gps(TROMSO)) < 0
    # without a position, or an instant, no sun
    assert sun_elevation(dusk, 540, None) is None
    assert sun_elevation(None, 540, gps(KYOTO)) is None
    assert capture_utc(dusk) is None  # a bare clock: which zone?
    assert capture_utc(dusk, 540).hour == 8
    # the open sea has a nautical zone; extreme dates do not crash
    assert sun_elevation(datetime(2026, 6, 1, 12, 0), None, GPS(lat=0.0, lon=-30.0)) > 60
    assert sun_elevation(datetime(1, 1, 1, 0, 10), 540, gps(KYOTO)) is None


def test_daylight_prefers_the_sun_to_the_clock():
    # 17:40 by the clock says nothing about the dark (only 20:30 on does) ...
    clock = daylight(datetime(2026, 12, 4, 17, 40))
    assert not clock.dark and clock.golden
    # ... the sun 10° below the horizon does
    sun = daylight(datetime(2026, 12, 4, 17, 40), -10.0)
    assert sun.dark and not sun.golden
    # 21:30 in a Stockholm June is no night: the sun is still up, golden
    late = daylight(datetime(2026, 6, 21, 21, 30), 2.6)
    assert late.golden and not late.dark and not daylight(datetime(2026, 6, 21, 21, 30)).golden
    # an arctic December noon is no midday: a sunset-coloured sky may be said
    assert not daylight(datetime(2026, 12, 15, 12, 0), -2.9).midday
    assert daylight(datetime(2026, 12, 15, 12, 0)).midday


def test_no_night_while_the_sun_is_up():
    said = {"night": (0.7, "imagenet"), "starry_sky": (0.6, "imagenet"), "sunset": (0.8, "imagenet")}
    dark = {"brightness": 0.08, "night": 0.6, "sunset": 0.1}
    # a dark frame at noon (a cave, a bar): the light allows night, the sun does not
    assert light_gate(said, dark, datetime(2026, 12, 4, 12, 0))["night"] == said["night"]
    noon = light_gate(said, dark, datetime(2026, 12, 4, 12, 0), 32.0)
    assert noon["night"][0] == 0.0 and noon["starry_sky"][0] == 0.0 and noon["sunset"][0] == 0.0
    polar = light_gate(said, dark, datetime(2026, 12, 15, 12, 0), -2.9)
    assert polar["sunset"] == said["sunset"] and polar["night"] == said["night"]


def _night_street() -> Image.Image:
    """A dark sky over a street of lit windows."""
    rng = np.random.default_rng(0)
    w, h = 480, 360
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:] = (10, 14, 40)
    arr[int(h * 0.6):] = (25, 20, 15)
    im = Image.fromarray(arr)
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(h * 0.62, h * 0.95))
        draw.rectangle([x, y, x + 6, y + 10], fill=(255, 200, 90))
    for _ in range(8):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(h * 0.3, h * 0.6))
        draw.rectangle([x, y, x + 30, int(h * 0.6)], fill=(20, 20, 25))
    return im


def test_the_sun_reaches_the_tags(tmp_path):
    """The same dark street at 17:40 in a Kyoto December (the sun 11° down) is night, and
    more surely than by its pixels alone; at noon (the sun 33° up) it is not. A camera
    clock left on Paris time (09:40) with a GPS fix in UTC still lands at Kyoto's dusk."""
    folder = tmp_path / "京都之夜"
    street = _night_street()
    paths = {
        "dusk": make_photo(folder / "黄昏.jpg", street, taken_at=datetime(2026, 12, 4, 17, 40), gps=KYOTO),
        "noon": make_photo(folder / "中午.jpg", street, taken_at=datetime(2026, 12, 4, 12, 0), gps=KYOTO),
        "paris": make_photo(folder / "巴黎时间.jpg", street, taken_at=datetime(2026, 12, 4, 9, 40), gps=KYOTO,
                            gps_utc=datetime(2026, 12, 4, 8, 40)),
        "clock": make_photo(folder / "无定位.jpg", street, taken_at=datetime(2026, 12, 4, 17, 40)),
    }
    settings = Settings(tagging=TaggingSettings(faces=False))
    items = understand_items(load_media(list(paths.values())), settings)
    by_file = {Path(item.path).name: item for item in items}
    night = {name: next((t.score for t in by_file[path.name].tags if t.id == "night"), 0.0)
             for name, path in paths.items()}
    assert night["noon"] == 0.0
    assert night["dusk"] > 0.0 and night["paris"] == pytest.approx(night["dusk"])
    assert night["dusk"] > night["clock"]  # the clock alone gives 17:40 no dark


def test_after_dusk_a_bright_frame_may_still_be_night():
    """A night-mode photo of a lit street is as bright as a day scene: the light caps night
    in it, unless the sun is known to have set (6° down); stars still need a dark frame."""
    said = {"night": (0.7, "imagenet"), "starry_sky": (0.6, "imagenet")}
    lit = {"brightness": 0.5, "night": 0.0}
    by_clock = light_gate(said, lit, datetime(2026, 12, 4, 21, 0))
    assert by_clock["night"][0] == 0.0 and by_clock["starry_sky"][0] == 0.0
    by_sun = light_gate(said, lit, datetime(2026, 12, 4, 21, 0), -40.0)
    assert by_sun["night"] == said["night"] and by_sun["starry_sky"][0] == 0.0
    # in the blue hour (the sun 3° down) the frame's light still decides
    assert light_gate(said, lit, datetime(2026, 12, 4, 17, 0), -3.0)["night"][0] == 0.0


def _moment_of(when: datetime, tags, pos=None, offset=None):
    """One understood photo as its own moment (its place looked up as understand_items does)."""
    from creator.types import MediaItem, MediaKind
    from creator.understanding.places import locate
    from creator.vocabulary import vocabulary

    v = vocabulary()
    where = gps(pos) if pos else None
    item = MediaItem(path="/照片/一张.jpg", id="0" * 16, kind=MediaKind.photo, taken_at=when, utc_offset=offset,
                     gps=where, place=locate(where) if where else None,
                     tags=[v.tag(t, s, "imagenet") for t, s in tags])
    return build_context([item])


def test_the_sun_sets_the_moment_s_clock_right():
    """The time words, the music query and the cover's light read one bucket: where the sun
    is known it corrects the clock (17:50 after dark in a Kyoto December is night, 22:30
    in a Stockholm June still the evening), and a night skyline's sky is no blue sky."""
    dusk = datetime(2026, 12, 4, 17, 50)
    city = [("city", 0.9), ("architecture", 0.8)]
    kyoto = _moment_of(dusk, city, KYOTO, 540)
    [m] = kyoto.moments
    assert m.sun == pytest.approx(-13.1, abs=0.3)
    assert clock_bucket(m) == "night" and time_bucket(m) == "night" and trip_time_of_day(kyoto) == "night"
    [bare] = _moment_of(dusk, city).moments  # no GPS: the clock's evening
    assert bare.sun is None and clock_bucket(bare) == time_bucket(bare) == "evening"
    # Stockholm in June: 22:30 is twilight, the evening; 03:45 the sun is up, early; 02:00 night
    assert clock_bucket(_moment_of(datetime(2026, 6, 21, 22, 30), city, STOCKHOLM).moments[0]) == "evening"
    assert clock_bucket(_moment_of(datetime(2026, 6, 21, 3, 45), city, STOCKHOLM).moments[0]) == "early"
    assert clock_bucket(_moment_of(datetime(2026, 6, 21, 2, 0), city, STOCKHOLM).moments[0]) == "night"
    assert clock_bucket(_moment_of(datetime(2026, 6, 21, 22, 30), city).moments[0]) == "night"
    # a skyline at night carries sky too: with the night tag and a clock that fits it, the
    # sky rules nothing out (before, the sky vetoed the night and the time went unsaid)
    skyline = [("city", 0.95), ("night", 0.9), ("sky", 0.9)]
    assert time_bucket(_moment_of(dusk, skyline, KYOTO, 540).moments[0]) == "night"
    assert time_bucket(_moment_of(datetime(2026, 12, 4, 21, 0), skyline).moments[0]) == "night"
    # a blue sky beside a faint night tag at 14:00 still leaves the time unsure
    assert time_bucket(_moment_of(datetime(2026, 12, 4, 14, 0), [("sky", 0.9), ("night", 0.4)]).moments[0]) is None
    # a starry desert at 21:00, the sun 18° down: a faint sunset (the glow on the horizon)
    # beside the night tag made it the evening; the stronger night that fits the clock wins
    desert = [("sky", 0.98), ("night", 0.71), ("clouds", 0.69), ("sunset", 0.36)]
    m = _moment_of(datetime(2024, 5, 4, 21, 0), desert, (36.1, -112.1)).moments[0]
    assert m.sun < -12 and clock_bucket(m) == "night" and time_bucket(m) == "night"
    # a strong sunset at a night clock still tells the evening (a clock in the wrong zone)
    glow = [("sky", 0.9), ("sunset", 0.85), ("night", 0.4)]
    assert time_bucket(_moment_of(datetime(2024, 5, 4, 21, 0), glow).moments[0]) == "evening"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_kyoto_december_dusk_is_told_as_night(lang):
    """Lit buildings at 17:50 in a Kyoto December, the sun 13° down: every draft tells the
    night and none the golden hour (the clock alone said evening: sunset words)."""
    import random

    from creator.resources import load_prompt
    from pipelines.caption.template import compose

    ctx = _moment_of(datetime(2026, 12, 4, 17, 50), [("city", 0.95), ("architecture", 0.9), ("night", 0.9),
                                                     ("sky", 0.9)], KYOTO, 540)
    sunset = load_prompt(f"caption/{lang}.yaml")["time_words"]["sunset"]
    evening = load_prompt(f"caption/{lang}.yaml")["times"]["evening"]
    for style in ("guide", "mood"):
        for seed in range(8):
            body = compose(ctx, lang=lang, style=style, rng=random.Random(seed)).body
            low = body.split("💡")[0].lower()  # the story, not the tips ("shoot buildings at dusk")
            assert not any(w.lower() in low for w in [*sunset, *evening]), (style, seed, body)
    assert load_prompt("music/moods.yaml")["time_of_day"][trip_time_of_day(ctx)][lang] in ("夜晚", "night-time")
