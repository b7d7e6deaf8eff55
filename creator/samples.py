"""Real sample photos that ship inside pip packages, for the demo and for trying things.

scikit-learn ships two photos (a Chinese palace, a flower) and scikit-image a handful
(an astronaut portrait, a cup of coffee, a cat, a rocket on its pad, a motorcycle, the
Hubble deep field). They carry no EXIF: no time or place is invented for them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import BackendUnavailable
from .resources import package_file

__all__ = ["SAMPLES", "copy_samples"]

# file name to write → (package, path inside it, pip name)
SAMPLES: dict[str, tuple[str, str, str]] = {
    "颐和园_palace.jpg": ("sklearn", "datasets/images/china.jpg", "scikit-learn"),
    "花_flower.jpg": ("sklearn", "datasets/images/flower.jpg", "scikit-learn"),
    "astronaut.png": ("skimage", "data/astronaut.png", "scikit-image"),
    "coffee.png": ("skimage", "data/coffee.png", "scikit-image"),
    "chelsea_cat.png": ("skimage", "data/chelsea.png", "scikit-image"),
    "rocket.jpg": ("skimage", "data/rocket.jpg", "scikit-image"),
    "motorcycle.png": ("skimage", "data/motorcycle_left.png", "scikit-image"),
    "hubble_deep_field.jpg": ("skimage", "data/hubble_deep_field.jpg", "scikit-image"),
}


def copy_samples(dest: str | Path) -> list[Path]:
    """Copy the bundled sample photos into ``dest`` (created); returns the new paths."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name, (package, inner, pip_name) in SAMPLES.items():
        try:
            src = package_file(package, *inner.split("/"), pip_name=pip_name)
        except BackendUnavailable:
            continue
        target = dest / name
        shutil.copyfile(src, target)
        out.append(target)
    if not out:
        raise BackendUnavailable("no sample photos found: `pip install scikit-learn scikit-image`")
    return out


def add_samples_parser(sub) -> None:
    p = sub.add_parser("samples", help="copy the sample photos that ship with scikit-learn/scikit-image into a folder")
    p.add_argument("dest", metavar="DIR")


def run_samples(args) -> int:
    paths = copy_samples(args.dest)
    print(f"{len(paths)} sample photos in {args.dest}")
    return 0
