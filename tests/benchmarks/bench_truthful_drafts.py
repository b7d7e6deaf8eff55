"""Do the drafts say only what the trip's photos show? Measured on the real development photos.

    python tests/benchmarks/bench_truthful_drafts.py            # report
    python tests/benchmarks/bench_truthful_drafts.py --show 2   # also print 2 drafts per trip
    python tests/benchmarks/bench_truthful_drafts.py --fresh    # re-run the tagger (no cached contexts)
    python tests/benchmarks/bench_truthful_drafts.py --shipped  # the shipped tagger (in-sample)
    python tests/benchmarks/bench_truthful_drafts.py --holdout  # trips of photos nothing was fitted on
    python tests/benchmarks/bench_truthful_drafts.py --new-package  # trips of a package no fit has seen

Trips of 3–6 photos of ../shared/dev_photos/ (grouped by subject, with synthetic EXIF
times and GPS positions, or none) go through the real pipeline: the photos are written
with that EXIF into a temporary folder, ``creator.understanding.understand`` (what
``Assistant().understand`` runs) tags them with the lite tagger, and ``Assistant().caption``
drafts every style, in zh and en, n = 3. By default each trip is tagged by a lite tagger
whose feature head and calibration were fitted without any photo from the trip's sources
(bench_tagging's fit, sources as there): the drafts are out-of-sample, as a new user's are.
``--shipped`` uses the shipped head and calibration, which have seen every dev photo.
``--holdout`` drafts 46 trips cut from holdout_photos.tsv (:func:`holdout_trips`: photos no
fit has used, labelled in this project) with the shipped tagger. ``--new-package`` drafts the
16 trips of :data:`NEW_PACKAGE_TRIPS` (monuments by country, zoos, a farm) from
holdout_new_package.tsv, a package none of the dev photos come from, with the shipped tagger.

The oracle is the set's labels, not the caption checker: a trip may be said to show the
union of its photos' *acceptable* ids (dev_photos.tsv), closed under the general words
below (a temple is architecture). Claims are read back from a draft by a lexicon written
here (each vocabulary id's own labels, the phrase banks' header, words, hashtags and title
phrase, plus words of its own: "waves" is the sea, 沙 is sand): every id the draft names
outside the place names is a claim. Reported: drafts with a false claim (an id no photo of
the trip shows), with examples and whether the tagger stated that id as a fact (a wrong
confident tag) or the composer's wording brought it in; and drafts naming fewer than two
true ids.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_tagging import (  # noqa: E402
    CACHE, HOLDOUT_TSV, NEW_PACKAGE_TSV, dev_set, holdout_set, new_package_set)
from tests.pipelines.caption.claims import claims, closure, draft_text, lexicon  # noqa: E402

STYLES_N = 3

# --- the trips ------------------------------------------------------------------------------
# (name, photos (file names in the cache, package__basename), GPS (lat, lon) or None,
#  first day or None (no EXIF time), season hint for the date)
# A photo labelled night gets 21:00, one labelled sunset 18:30, the others 09:00–15:00 in
# order; "days" spreads the photos over that many days.

@dataclass
class Trip:
    name: str
    photos: list[str]
    gps: tuple[float, float] | None
    start: datetime | None
    days: int = 1


K, E, P, T, L, O, G, H = ("kphotoalbum__", "endless-sky-data__", "palapeli-data__", "tuxpaint-data__",
                          "lxqt-themes__", "opencv-doc__", "gimp-help-en__", "hugin-data__")
TRIPS = [
    Trip("青岛海边", [K + "anne_helene.jpg", K + "cold_water.jpg", K + "skagen.jpg", K + "skagen_2.jpg",
                      "libjs-jquery-colorbox__marylou.jpg"], (36.06, 120.38), datetime(2024, 7, 13, 9)),
    Trip("三亚海滩", [E + "beach0.jpg", E + "beach11-harro.jpg", E + "beach3.jpg", E + "beach5.jpg",
                      E + "myrabella1.jpg", "sddm-theme-maldives__background.jpg"], (18.25, 109.5),
         datetime(2024, 1, 20, 9), 2),
    Trip("海与岸", [E + "bwerner1.jpg", E + "myrabella4.jpg", E + "sea10-sfiera.jpg", E + "sea16-harro.jpg",
                    E + "bwerner0.jpg", T + "ocean_waves.jpg"], None, datetime(2024, 6, 2, 8)),
    Trip("敦煌沙漠", [E + "bwerner8.jpg", E + "badlands5.jpg", E + "dune2.jpg", E + "dune4.jpg", E + "dune5.jpg"],
         (40.14, 94.66), datetime(2024, 9, 14, 9)),
    Trip("沙漠星夜", [E + "desert2.jpg", E + "dune2.jpg", "ruby-rmagick-doc__Red_Rocks.jpg",
                      K + "grand_canyon_3.jpg", K + "grand_canyon_2.jpg"], (36.1, -112.1), datetime(2024, 5, 4, 10)),
    Trip("上海夜色", [E + "city18-iridium.jpg", E + "city2.jpg", E + "city4.jpg", E + "mfield2.jpg",
                      P + "cincinnati-bridge.jpg", O + "fusion_mertens.jpg"], (31.23, 121.47), datetime(2024, 11, 8, 9)),
    Trip("城市白天", [E + "city0.jpg", E + "city11.jpg", O + "leuvenA.jpg", O + "scenetext06.jpg",
                      O + "pexels_double_decker_bus.jpg", O + "aero3.jpg"], (51.51, -0.13), datetime(2024, 4, 12, 9), 2),
    Trip("黄山云雾", [E + "fog0.jpg", E + "fog1.jpg", E + "fog4.jpg", E + "fog6.jpg", E + "forest5.jpg",
                      L + "fog.jpg"], (30.13, 118.17), datetime(2024, 10, 3, 7)),
    Trip("湖光山色", [E + "mountain1.jpg", E + "myrabella7.jpg", E + "myrabella8.jpg", E + "water0.jpg",
                      E + "sky7.jpg"], (47.05, 8.31), datetime(2024, 8, 20, 9), 2),
    Trip("雪山", [E + "mountain3.jpg", E + "snow3.jpg", E + "snow6.jpg", E + "dmottl3.jpg",
                  E + "snow10-sfiera.jpg", E + "snow11-sfiera.jpg"], (43.06, 141.35), datetime(2024, 1, 28, 9), 2),
    Trip("晚霞", [E + "sky2.jpg", E + "sky3.jpg", E + "sky5.jpg", L + "after-the-rain.jpg", K + "sunset.jpg",
                  T + "trees_at_dusk.jpg"], None, datetime(2024, 7, 1, 17)),
    Trip("河谷无时间", [E + "water10-harro.jpg", E + "water2.jpg", E + "canyon5.jpg", E + "valley12-harro.jpg",
                        "scribus-template__nature.jpg", "libjs-jquery-colorbox__ohoopee1.jpg"], None, None),
    Trip("京都秋林", [E + "fields0.jpg", E + "forest4.jpg", K + "donna.jpg", T + "redwoods_above.jpg",
                      H + "CA_fringes00.jpg", "digikam-data__body-background.jpg"], (35.01, 135.77),
         datetime(2024, 11, 16, 9)),
    Trip("巴黎建筑", [P + "castle-maintenon.jpg", O + "building.jpg", O + "home.jpg", H + "CA_tCA00.jpg",
                      G + "quickie-scale-example.jpg"], (48.86, 2.35), datetime(2024, 5, 18, 10)),
    Trip("寺庙教堂", [H + "Medinet_habu_horizontal_stereographic.jpg", "ruby-rmagick-doc__Gold_Statue.jpg",
                      H + "Big_ben_cylindrical.jpg", G + "quickie-rotate-example-source.jpg", G + "taj_orig.jpg"],
         None, datetime(2024, 3, 9, 10)),
    Trip("成都美食", [P + "citrus-fruits.jpg", "scribus-template__teriyaki.png", "scribus-template__pizza.jpg",
                      O + "apple.jpg", O + "fruits.jpg"], (30.66, 104.07), datetime(2024, 10, 19, 11)),
    Trip("野生动物", [P + "panther-chameleon-female.jpg", T + "jellyfish.jpg", O + "baboon.jpg",
                      O + "squirrel_cls.jpg", "ruby-rmagick-doc__Cheetah.jpg", "puzzle-jigsaw__pexels-photo-302304.jpeg"],
         None, None),
    Trip("昆明花与虫", [P + "european-honey-bee.jpg", L + "Butterfly-Kenneth-Wimer.jpg", O + "butterfly.jpg",
                        "libjs-cropper__poppy.jpg", L + "flowers.png", G + "mean_curvature-ex-1.jpg"],
         (25.04, 102.71), datetime(2024, 4, 6, 9)),
    Trip("观鸟", [O + "000.jpg", "allegro5-doc__obp.jpg", "libvips-doc__owl.jpg",
                  G + "quickie-crop-example-source.jpg"], None, datetime(2024, 5, 25, 7)),
    Trip("猫狗", [K + "donna_2.jpg", O + "chicky_512.png", O + "cat_det.jpg",
                  "puzzle-jigsaw__cat-animal-cat-portrait-mackerel.jpg", "libjs-jquery-colorbox__daisy@2x.jpg"],
         None, None),
    Trip("柏林聚会", [K + "bar55.jpg", K + "bar55_2.jpg", K + "jesper.jpg", K + "new_wave_2.jpg", K + "pool.jpg",
                      O + "studentsSample_input.jpg"], (52.52, 13.40), datetime(2024, 12, 14, 10)),
    Trip("草原天空", [T + "sheep.jpg", L + "this-is-not-windows.jpg", O + "retina_TreeHdr_small.jpg",
                      G + "power-lines.jpg", L + "cloud.png", T + "sun_behind_clouds.jpg"], (43.65, 111.97),
         datetime(2024, 7, 27, 9)),
    Trip("交通工具", [K + "snow.jpg", E + "industrial0-iridium.jpg", G + "apple-orchard-truck-tone-mapped-with-Exposur.jpg",
                      G + "quickie-jpeg-example.jpg", "scribus-data__an_image.jpg"], None, datetime(2024, 2, 10, 9), 2),
    Trip("杭州水城", [H + "600px-Tuebingen_Neckarfront_small15_2006-06-11.jpg", O + "boat.jpg",
                      G + "little_planet-equirect.jpg", E + "fog6.jpg", "scribus-template__sunset.jpg"],
         (30.25, 120.15), datetime(2024, 10, 2, 8), 2),
    Trip("人群", [K + "qt-logo.jpg", "gramps__1897_expeditionsmannschaft_rio_a.jpg", G + "quickie-flip-example-source.jpg",
                  "ruby-rmagick-doc__Hot_Air_Balloons_H.jpg", O + "messi5.jpg"], None, None),
    Trip("山与河", [T + "cliff.jpg", E + "forest4.jpg", E + "canyon5.jpg", "scribus-template__moon.jpg",
                    E + "city10.jpg"], (39.9, 116.4), datetime(2024, 9, 7, 9)),
]


def holdout_trips(photos: list | None = None, max_photos: int = 5) -> list[Trip]:
    """Trips of the held-out photos (bench_tagging.holdout_set: nothing is fitted on them),
    one subject series at a time (all badlands*, all snow*, a Wikimedia user's photos),
    cut into trips of at most ``max_photos``, in file-name order; no GPS, EXIF times from
    one June day (night and sunset photos as in :func:`_times`). ``photos``: the held-out
    set, if already read."""
    series: dict[str, list[str]] = {}
    for p in photos if photos is not None else holdout_set():
        stem = re.sub(r"\d*(-[a-z]+)?$", "", p.path.stem.split("__", 1)[1])
        series.setdefault(stem, []).append(p.path.name)
    trips = []
    for stem, names in sorted(series.items()):
        names.sort(key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", n)])
        k = -(-len(names) // max_photos)
        size = -(-len(names) // k)
        for j in range(k):
            trips.append(Trip(f"{stem}{j + 1}", names[j * size:(j + 1) * size], None, datetime(2024, 6, 1, 9)))
    return [t for t in trips if t.photos]


def _gc(*names: str) -> list[str]:
    """The cached file names of holdout_new_package.tsv's photos (gcompris-qt-data's)."""
    return [f"gcompris-qt-data__{n}.webp" for n in names]


# Trips of holdout_new_package.tsv's photos (a package no fit has seen), as a traveller would
# bring them home: a country's monuments on a day or two, with the country's GPS or none, a
# zoo, a farm. Grouped by what the package's folders say (country, animals), not by what
# the tagger makes of them.
NEW_PACKAGE_TRIPS = [
    Trip("埃及金字塔", _gc("bentPyramid", "greatPyramidOfGiza", "meidumPyramid", "redPyramid"),
         (29.98, 31.13), datetime(2024, 11, 9, 8)),
    Trip("法国北部", _gc("eiffelTower", "reimsCathedral", "montStMichel", "chateaudeChambord", "chateaudeChenonceau"),
         (48.86, 2.35), datetime(2024, 5, 1, 9), 2),
    Trip("法国南部", _gc("arlesAmphitheater", "pontduGard", "palaisdesPapes", "citedeCarcassonne", "rocamadour"),
         (43.95, 4.81), datetime(2024, 5, 4, 9), 2),
    Trip("德国教堂与宫殿", _gc("berlinCathedral", "brandenburgGate", "wormsCathedral", "schwerinPalace"),
         (52.52, 13.40), datetime(2024, 8, 10, 10)),
    Trip("德国古迹", _gc("aulaPalatina", "trierImperialBaths", "neuschwansteinCastle"), None, datetime(2024, 8, 12, 10)),
    Trip("印度北部", _gc("qutubMinar", "hawaMahal", "goldenTemple", "greatStupa", "victoriaMemorial"),
         (28.61, 77.21), datetime(2024, 2, 3, 8), 2),
    Trip("印度南部", _gc("charminar", "mysorePalace", "ajantaCave", "gatewayofIndia", "konarkSunTemple", "rangGhar"),
         (17.36, 78.47), datetime(2024, 2, 7, 8), 2),
    Trip("美国东海岸", _gc("statueofLiberty", "castleClinton", "lincolnMemorial", "georgeWashingtonBirthplace",
                          "fortSumter", "castillodeSanMarcos"), (40.71, -74.0), datetime(2024, 7, 4, 9), 2),
    Trip("美国西部", _gc("canyondeChelly", "navajo", "mountRushmore", "cabrillo"), None, datetime(2024, 9, 20, 9)),
    Trip("美洲奇迹", _gc("chichenItza", "christTheRedeemer", "machuPicchu"), None, None),
    Trip("世界奇迹", _gc("colosseum", "greatWallofChina", "petra", "tajMahal"), None, None),
    Trip("农场", _gc("cow", "horse", "pig", "sheep", "chicken", "duck"), None, datetime(2024, 6, 15, 9)),
    Trip("猫狗与猫头鹰", _gc("cat", "dog", "owl"), None, None),
    Trip("动物园一", _gc("bison", "chameleon", "crocodile", "dragon", "giraffe"), (39.94, 116.33),
         datetime(2024, 4, 6, 9)),
    Trip("动物园二", _gc("hedgehog", "jaguar", "kangaroo", "koala", "lemur"), None, datetime(2024, 4, 7, 9)),
    Trip("动物园三", _gc("moose", "narwhal", "panda", "polar_bear", "scarlet_macaw"), None, None),
]


# --- running the pipeline --------------------------------------------------------------------

TRIP_SETS = ("dev", "holdout", "new-package")


def trips_and_photos(trip_set: str = "dev") -> tuple[list[Trip], dict]:
    """The trips of a :data:`TRIP_SETS` name and {file name: Photo} of their labels: the dev
    trips, :func:`holdout_trips` of the held-out photos, or :data:`NEW_PACKAGE_TRIPS`."""
    photos = {"dev": dev_set, "holdout": holdout_set, "new-package": new_package_set}[trip_set]()
    trips = {"dev": lambda: TRIPS, "holdout": lambda: holdout_trips(photos),
             "new-package": lambda: NEW_PACKAGE_TRIPS}[trip_set]()
    return trips, {p.path.name: p for p in photos}


def _fingerprint(trips: list[Trip]) -> str:
    """What the understood contexts depend on: the understanding code, the tagging data, the
    held-out fit (bench_tagging.py), the held-out labels and the trips."""
    h = hashlib.sha256()
    for p in sorted(list((ROOT / "creator" / "understanding").glob("*.py")) + list((ROOT / "prompts" / "tagging").glob("*"))
                    + [ROOT / "prompts" / "tags.yaml", ROOT / "creator" / "media" / "photos.py",
                       ROOT / "tests" / "benchmarks" / "bench_tagging.py", HOLDOUT_TSV, NEW_PACKAGE_TSV]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(json.dumps([t.__dict__ for t in trips], default=str).encode())
    return h.hexdigest()[:16]


def _times(trip: Trip, labels: dict[str, set[str]]) -> list[datetime | None]:
    if trip.start is None:
        return [None] * len(trip.photos)
    per_day = -(-len(trip.photos) // trip.days)
    out = []
    for k, name in enumerate(trip.photos):
        day, slot = divmod(k, per_day)
        base = trip.start.replace(hour=0) + timedelta(days=day)
        acc = labels[name]
        if "night" in acc or "starry_sky" in acc:
            out.append(base + timedelta(hours=21, minutes=slot))
        elif "sunset" in acc and trip.start.hour >= 16:
            out.append(base + timedelta(hours=18, minutes=30 + slot))
        else:
            out.append(base + timedelta(hours=trip.start.hour + 1.5 * slot))
    return out


def held_out_taggers(by: str = "source"):
    """{trip name: a LiteTagger whose feature head and calibration were fitted without any
    photo from the trip's sources} (bench_tagging's fit, leave-the-trip's-sources-out): the
    drafts of such a trip are as a new user's would be, not drafts of photos the head has seen.
    ``by="package"``: without any photo of the trip's packages (stricter: a trip of
    endless-sky-data landscapes is then tagged by a head that saw none of that package's
    49 photos, a third of the set and most of its landscapes)."""
    from creator.understanding.lite import LiteTagger
    from tests.benchmarks.bench_tagging import fit_all, look

    photos = dev_set()
    bare = LiteTagger(calibration=None, head=None)
    looked, _, feats = look(bare, photos)
    source = {p.path.name: getattr(p, by) for p in photos}
    out = {}
    for trip in TRIPS:
        mine = {source[n] for n in trip.photos}
        train = [k for k, p in enumerate(photos) if getattr(p, by) not in mine]
        head, cal = fit_all(bare, [photos[k] for k in train], [looked[k] for k in train], feats[train], by=by)
        out[trip.name] = LiteTagger(calibration=cal, head=head)
    return out


def understood(fresh: bool = False, held_out: bool = True, by: str = "source", trip_set: str = "dev"):
    """{trip name: NoteContext} from the real lite tagger, cached by :func:`_fingerprint`.
    ``held_out``: each trip tagged by a tagger fitted without its photos' sources (``by``:
    or packages; :func:`held_out_taggers`); else by the shipped tagger (fitted on every dev
    photo)."""
    from PIL import Image

    from creator import Settings
    from creator.types import NoteContext
    from creator.understanding import understand
    from tests.factories import make_photo

    trips, photos = trips_and_photos(trip_set)
    labels = {n: p.acceptable for n, p in photos.items()}
    if trip_set != "dev":  # the held-out photos need no held-out fit: no fit saw them
        held_out, kind = False, trip_set.replace("-", "_")
    elif held_out:
        kind = "held_out" if by == "source" else f"held_out_{by}"
    else:
        kind = "shipped"
    cache = CACHE / f"truthful_contexts_{kind}_{_fingerprint(trips)}.json"
    if cache.is_file() and not fresh:
        raw = json.loads(cache.read_text(encoding="utf-8"))
        return {k: NoteContext.model_validate(v) for k, v in raw.items()}
    taggers = held_out_taggers(by) if held_out else {}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.for_profile("lite", cache_dir=Path(tmp) / "cache")
        for trip in trips:
            folder = Path(tmp) / "旅行" / trip.name
            paths = []
            for k, (name, when) in enumerate(zip(trip.photos, _times(trip, labels))):
                with Image.open(photos[name].path) as im:
                    im.load()
                    paths.append(make_photo(folder / f"{k:02d}_{Path(name).stem}.jpg", im.convert("RGB"),
                                            taken_at=when, gps=trip.gps, quality=95))
            ctx = understand(paths, settings, tagger=taggers.get(trip.name))
            # remember which dev photo each item is
            items = [i.model_copy(update={"path": trip.photos[int(Path(i.path).name[:2])]}) for i in ctx.items]
            out[trip.name] = ctx.model_copy(update={"items": items})
    for old in CACHE.glob(f"truthful_contexts_{kind}_{'?' * 16}.json"):  # not another kind's
        old.unlink()  # made by an older tagger: never read again
    cache.write_text(json.dumps({k: v.model_dump(mode="json") for k, v in out.items()}, ensure_ascii=False),
                     encoding="utf-8")
    return out


def run(show: int = 0, fresh: bool = False, held_out: bool = True, by: str = "source",
        trip_set: str = "dev") -> dict:
    from creator import Assistant, Settings
    from pipelines.caption import style_names

    trips, photos = trips_and_photos(trip_set)
    labels = {n: p.acceptable for n, p in photos.items()}
    contexts = understood(fresh, held_out, by, trip_set)
    assistant = Assistant(Settings.for_profile("lite", cache_dir=Path(tempfile.gettempdir()) / "bench_truthful"))
    lex = {lang: lexicon(lang) for lang in ("zh", "en")}
    n_drafts = 0
    false_drafts: list[tuple[str, str, str, dict, str]] = []
    thin: list[tuple[str, str, str, set, str]] = []
    causes: Counter = Counter()
    wrong_words: Counter = Counter()
    lines: dict = {}
    named: list[int] = []  # true ids each draft names
    for trip in trips:
        ctx = contexts[trip.name]
        shown = closure(set().union(*(labels[n] for n in trip.photos)))
        facts = {t.id for i in ctx.items for t in i.tags}
        shown_printed = 0
        for lang in ("zh", "en"):
            for style in style_names():
                for c in assistant.caption(ctx, language=lang, style=style, n=STYLES_N):
                    n_drafts += 1
                    said = claims(draft_text(c, ctx), lang, lex[lang])
                    bad = {w: ids for w, ids in said.items() if not ids & shown}
                    true = set().union(*(ids & shown for ids in said.values())) if said else set()
                    if bad:
                        false_drafts.append((trip.name, lang, style, bad, c.text()))
                        for w, ids in bad.items():
                            why = "tag" if ids & facts else "wording"
                            causes["wrong confident tag" if why == "tag" else "composer wording"] += 1
                            wrong_words[("|".join(sorted(ids)), w, why)] += 1
                            line = next((x for x in c.text().splitlines() if w in x.lower()), "")
                            lines.setdefault(("|".join(sorted(ids)), w, why), line)
                    named.append(len(true))
                    if len(true) < 2:
                        thin.append((trip.name, lang, style, true, c.text()))
                    if shown_printed < show:
                        shown_printed += 1
                        print(f"--- {trip.name} [{lang}/{style}] photos: {', '.join(trip.photos)}")
                        print(c.text())
                        print(f"    claims: {said}")
    print(f"\ntrips: {len(trips)}, drafts: {n_drafts} (styles x zh/en x n={STYLES_N})")
    print(f"drafts with a false claim: {len(false_drafts)}; claims by cause: {dict(causes)}; by trip: "
          f"{dict(Counter(name for name, *_ in false_drafts).most_common())}")
    for (t, w, why), k in wrong_words.most_common(40):
        print(f"  {k:3d} x {t:16s} {w!r:20s} ({why}) e.g. {lines[t, w, why][:90]!r}")
    print(f"true ids a draft names: {sum(named) / max(1, len(named)):.2f} on average")
    print(f"drafts naming fewer than two true ids: {len(thin)}; by trip: "
          f"{dict(Counter(name for name, *_ in thin).most_common())}")
    for name, lang, style, true, text in thin[:8]:
        print(f"  {name} [{lang}/{style}] names {sorted(true)}: {text[:160]!r}")
    for name, lang, style, bad, text in false_drafts[:6]:
        print(f"  FALSE {name} [{lang}/{style}] {bad}: {text[:300]!r}")
    print("\ntagger facts per trip (ids not shown by any photo marked *):")
    for trip in trips:
        ctx = contexts[trip.name]
        shown = closure(set().union(*(labels[n] for n in trip.photos)))
        facts = Counter(t.id for i in ctx.items for t in i.tags)
        print(f"  {trip.name}: " + ", ".join(f"{t}{'*' if t not in shown else ''}" for t, _ in facts.most_common()))
    return {"drafts": n_drafts, "false": len(false_drafts), "thin": len(thin), "causes": dict(causes),
            "named": sum(named) / max(1, len(named))}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", type=int, default=0, help="print this many drafts per trip")
    ap.add_argument("--fresh", action="store_true", help="re-run the tagger instead of the cached contexts")
    ap.add_argument("--shipped", action="store_true",
                    help="tag with the shipped head and calibration (fitted on these very photos: in-sample) "
                         "instead of ones fitted without each trip's sources")
    ap.add_argument("--by", choices=("source", "package"), default="source",
                    help="hold out each trip's sources (default) or, stricter, its packages")
    ap.add_argument("--holdout", action="store_true",
                    help=f"trips of the held-out photos ({HOLDOUT_TSV.name}: nothing is fitted on them), "
                         "tagged by the shipped tagger")
    ap.add_argument("--new-package", action="store_true",
                    help=f"trips of a new package's photos ({NEW_PACKAGE_TSV.name}: monuments and animals no fit "
                         "has seen), tagged by the shipped tagger")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run(args.show, args.fresh, held_out=not args.shipped, by=args.by,
        trip_set="new-package" if args.new_package else "holdout" if args.holdout else "dev")
