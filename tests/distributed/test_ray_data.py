"""Batch understanding on Ray Data (Assistant.understand_many, `creator tag --ray --out`),
on a real local Ray, real photos, a corrupt and an empty file with Chinese names."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from datetime import datetime

import pytest

import pyarrow.parquet as pq
import ray  # the `distributed` extra: `make test` installs it

from creator import Assistant
from creator.cli import main
from creator.config import DistributedSettings, Settings
from creator.understanding import understand
from creator.understanding.records import item_record
from tests.distributed.ray_fixtures import local_ray  # noqa: F401 (the fixture)
from tests.factories import make_photo


pytestmark = pytest.mark.usefixtures("local_ray")


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("trip") / "杭州 三日"
    make_photo(root / "颐和园.jpg", "china", taken_at=datetime(2026, 10, 3, 9, 0), gps=(30.25, 120.15))
    make_photo(root / "花.jpg", "flower", taken_at=datetime(2026, 10, 3, 9, 30))
    make_photo(root / "咖啡.png", "coffee", taken_at=datetime(2026, 10, 4, 15, 0), gps=(30.27, 120.16))
    (root / "坏的.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "空.jpg").write_bytes(b"")
    return root


@pytest.fixture
def settings(tmp_path):
    # one actor, two items a call: several batches, one model load
    return Settings(cache_dir=tmp_path / "cache",
                    distributed=DistributedSettings(understand_actors=1, understand_batch_size=2))


def _close(a, b, path="") -> None:
    """Equal, floats to 1e-5 (a batch of another size may round differently)."""
    if isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, abs_tol=1e-5), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, a, b)
        for k, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{k}]")
    else:
        assert a == b, (path, a, b)


def _rows(out) -> dict[str, dict]:
    return {r["path"].rsplit("/", 1)[-1]: r for r in pq.read_table(out).to_pylist()}


@pytest.fixture(scope="module")
def first_run(trip, tmp_path_factory):
    """`creator tag TRIP --ray --out 结果.parquet` (in-process: it uses the module's Ray)."""
    import contextlib
    import io
    import os

    tmp = tmp_path_factory.mktemp("run")
    env = {"CREATOR_CACHE_DIR": str(tmp / "cache"), "CREATOR_DISTRIBUTED__UNDERSTAND_ACTORS": "1",
           "CREATOR_DISTRIBUTED__UNDERSTAND_BATCH_SIZE": "2"}  # several batches, one model load
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, stdout, stderr = tmp / "结果.parquet", io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            rc = main(["tag", str(trip), "--ray", "--out", str(out), "--json", "--no-progress"])
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return rc, json.loads(stdout.getvalue() or "null"), stderr.getvalue(), out


def test_tag_ray_equals_the_local_path_and_bad_files_are_rows(first_run, trip, settings):
    rc, report, err, out = first_run
    assert rc == 0, err
    assert (report["total"], report["processed"], report["skipped"], report["failed"]) == (5, 5, 0, 2)
    assert sorted(p.name for p in out.parent.iterdir() if p.name != "cache") == ["结果.parquet"]  # no temp left
    rows = _rows(out)
    local = {i.path.rsplit("/", 1)[-1]: item_record(i) for i in understand([trip], settings).items}
    assert rows.keys() == local.keys() == {"颐和园.jpg", "花.jpg", "咖啡.png", "坏的.jpg", "空.jpg"}
    for name in rows:
        _close(rows[name], local[name], name)  # tags, place, quality, time, id, error: all equal
    assert rows["颐和园.jpg"]["place"]["name_zh"] == "杭州"
    assert "flower" in [t["id"] for t in rows["花.jpg"]["tags"][:5]]
    for bad in ("坏的.jpg", "空.jpg"):
        assert rows[bad]["error"].startswith(bad) and not rows[bad]["tags"]


def test_a_rerun_skips_what_is_done_and_takes_a_dataset(first_run, trip, settings, tmp_path):
    import pyarrow as pa

    from creator.distributed.data import record_schema

    out = tmp_path / "out.parquet"
    # the done rows marked: if the re-run looked at a photo again, its mark would be replaced
    table = pq.read_table(first_run[3]).to_pylist()
    for r in table:
        r["quality"] = r["quality"] and {**r["quality"], "score": 0.123}
    # 花.jpg in the output; 颐和园.jpg and 咖啡.png in the part file of a run that was cut short
    pq.write_table(pa.Table.from_pylist([r for r in table if r["path"].endswith("花.jpg")],
                                        schema=record_schema()), out)
    parts = tmp_path / ".out.parquet.parts"
    parts.mkdir()
    pq.write_table(pa.Table.from_pylist([r for r in table if not r["path"].endswith("花.jpg")],
                                        schema=record_schema()), parts / "part-1.parquet")

    more = trip.parent / "更多"
    more.mkdir(exist_ok=True)
    make_photo(more / "猫.webp", "chelsea", taken_at=datetime(2026, 10, 5, 20, 0))
    paths = sorted(str(p) for p in trip.iterdir()) + [str(more / "猫.webp")]
    again = Assistant(settings).understand_many(ray.data.from_items([{"path": p} for p in paths]), out=out)
    # the 3 good photos are skipped; the two bad ones are tried again, the new one is done
    assert (again.total, again.processed, again.skipped, again.failed) == (6, 3, 3, 2)
    rows = _rows(out)
    assert len(rows) == 6 and not parts.exists()
    assert [rows[n]["quality"]["score"] for n in ("花.jpg", "颐和园.jpg", "咖啡.png")] == [0.123] * 3
    assert rows["猫.webp"]["error"] is None and "cat" in [t["id"] for t in rows["猫.webp"]["tags"][:5]]
    shutil.rmtree(more)


def test_a_manifest_names_the_files(trip, tmp_path):
    from creator.distributed.data import _expand

    shutil.copytree(trip, tmp_path / trip.name)
    rows = [{"path": f"{trip.name}/颐和园.jpg"}, {"path": str(trip / "坏的.jpg")}]
    jsonl = tmp_path / "清单.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    pq.write_table(__import__("pyarrow").Table.from_pylist(rows), tmp_path / "清单.parquet")
    expected = [str(tmp_path / trip.name / "颐和园.jpg"), str(trip / "坏的.jpg")]  # relative: from its folder
    assert _expand([jsonl]) == _expand(tmp_path / "清单.parquet") == (expected, [])


@pytest.mark.parametrize("argv, says", [
    (["--out", "r.parquet"], "--out is for --ray"),
    (["--ray"], "--ray needs --out"),
    (["--ray", "not an address", "--out", "r.parquet"], "--ray: 'not an address' is not a Ray address"),
])
def test_cli_usage_errors(trip, tmp_path, capsys, argv, says):
    rc = main(["tag", str(trip / "花.jpg"), *argv, "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r.parquet").exists()


def test_an_output_that_is_not_ours_is_refused_untouched(trip, settings, tmp_path):
    out = tmp_path / "mine.parquet"
    out.write_bytes(b"my own notes, not Parquet")
    from creator.errors import InputError

    with pytest.raises(InputError, match="mine.parquet"):
        Assistant(settings).understand_many([trip], out=out)
    assert out.read_bytes() == b"my own notes, not Parquet"


def test_without_the_extra_one_error_names_it(trip, tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['ray'] = None\n"  # as if `pip install '.[distributed]'` was never run
            "from creator.cli import main\n"
            f"sys.exit(main(['tag', {str(trip)!r}, '--ray', '--out', {str(tmp_path / 'r.parquet')!r}, '--no-progress']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install '.[distributed]'" in lines[0], done.stderr
    assert not (tmp_path / "r.parquet").exists()


def test_decoding_is_the_tasks_work_and_tagging_the_actors(trip, settings, monkeypatch):
    """The stages of the Ray pipeline, called as Ray calls them: the decode task decodes
    (faces, quality); the tagging actor tags what it was given and decodes nothing (a
    decode there would raise); a file that could not be decoded is its error row."""
    import numpy as np

    import creator.understanding as understanding
    from creator.distributed import data

    paths = np.array(sorted(str(p) for p in trip.iterdir()))
    loaded = data._load_batch({"path": paths}, frozenset())
    decoded = data._decode_batch({"item": np.array(loaded["item"])}, settings)
    assert len(decoded["seen"]) == len(paths)

    def no_decoding_here(*_a, **_k):
        raise AssertionError("the tagging actor decoded an item itself")

    monkeypatch.setattr(understanding, "look_item", no_decoding_here)
    rows = {Path(r["path"]).name: r for r in data._Understand(settings)(decoded).to_pylist()}
    assert {n for n, r in rows.items() if r["error"] is None} == {"颐和园.jpg", "花.jpg", "咖啡.png"}
    assert all(rows[n]["tags"] and rows[n]["quality"] for n in ("颐和园.jpg", "花.jpg", "咖啡.png"))
    assert rows["坏的.jpg"]["error"] and rows["空.jpg"]["error"]
