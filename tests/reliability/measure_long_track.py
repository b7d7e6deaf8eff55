"""Peak memory and speed of the music analysis on long tracks (issue 11, item 9).

Not a test (it takes minutes): ``python tests/reliability/measure_long_track.py
[--minutes 30 60 180] [--whole-up-to 60]`` generates click tracks of those lengths (Opus,
12 kb/s) and, each in a fresh interpreter, reports the peak resident memory (ru_maxrss)
of ``analyse_file`` (windowed beyond LONG_TRACK_S) and, up to ``--whole-up-to`` minutes,
of the former way, ``analyse(decode(path))`` over all the samples. Also the speed of
both on a 30 s track, as a multiple of realtime.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.reliability.test_long_track import make_long_track  # noqa: E402

PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from creator.music.analysis import analyse
from creator.music.decode import DEFAULT_SR, decode
from creator.music.library import analyse_file
how, path = sys.argv[2], sys.argv[3]
def run():
    return analyse_file(path) if how == "windowed" else analyse(decode(path), DEFAULT_SR)
if len(sys.argv) > 4:  # speed: warm up (imports, numba), then time
    run(); t = time.perf_counter(); a = run(); dt = time.perf_counter() - t
    print(json.dumps({"x_realtime": a.duration / dt}))
else:
    t = time.perf_counter(); a = run(); dt = time.perf_counter() - t
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "seconds": dt, "tempo": a.tempo, "windows": len(a.windows)}))
"""


def probe(how: str, path: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), how, str(path), *extra],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs="+", default=[30, 60, 180])
    ap.add_argument("--whole-up-to", type=float, default=60, help="measure the whole-track way up to this")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        short = make_long_track(Path(d) / "30s.opus", 30)
        for how in ("whole", "windowed"):
            print(f"30 s track, {how}: {probe(how, short, 'speed')['x_realtime']:.0f}x realtime", flush=True)
        base = probe("windowed", short)
        print(f"30 s track: peak {base['peak_mib']:.0f} MiB (imports included)", flush=True)
        for m in args.minutes:
            p = make_long_track(Path(d) / f"{m:g}min.opus", m * 60)
            hows = ["windowed"] + (["whole"] if m <= args.whole_up_to else [])
            for how in hows:
                r = probe(how, p)
                print(f"{m:g} min, {how}: peak {r['peak_mib']:.0f} MiB, {r['seconds']:.1f} s, "
                      f"tempo {r['tempo']}, windows {r['windows']}", flush=True)
            p.unlink()


if __name__ == "__main__":
    main()
