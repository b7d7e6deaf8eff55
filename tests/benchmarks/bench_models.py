"""Benchmark: how long the up-front model check takes to name every missing model of the
full profile, with no network (``creator.models.check_models``).

    python tests/benchmarks/bench_models.py [--repeat 3]

Two cases: HF_HUB_OFFLINE=1 (the hub never asked) and the network down with nobody
telling the hub (asked in parallel, one short try a model; a refused proxy stands for the
missing network). The functional side (every model named at once, the hub asked at most
once a model) is tests/test_models.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys, time
sys.path.insert(0, {root!r})
from creator.config import Settings
from creator.errors import BackendUnavailable
from creator.models import check_models
s = Settings.for_profile("full")
s.caption.gguf_file = None
import huggingface_hub  # not what is timed
t = time.perf_counter()
try:
    check_models(s)
except BackendUnavailable:
    pass
print(time.perf_counter() - t)
"""


def once(offline: bool) -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, HF_HUB_CACHE=cache, HF_HUB_DISABLE_TELEMETRY="1",
                   HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")  # a refused proxy: "no network"
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        else:
            env.pop("HF_HUB_OFFLINE", None)
            env.pop("TRANSFORMERS_OFFLINE", None)
        out = subprocess.run([sys.executable, "-c", CHECK.format(root=str(ROOT))], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for offline in (True, False):
        times = [once(offline) for _ in range(args.repeat)]
        label = "HF_HUB_OFFLINE=1" if offline else "network down, hub not told"
        print(f"check_models, 4 missing models, {label}: median {statistics.median(times):.3f} s, "
              f"max {max(times):.3f} s (over {args.repeat})")


if __name__ == "__main__":
    main()
