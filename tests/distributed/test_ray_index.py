"""Music library indexing with the tracks analysed as Ray tasks (`creator library index
--ray`): the same index file as the local path, the same content-hash cache."""

from __future__ import annotations

import json
import os

import pytest

from creator.cli import main
from creator.distributed.index import ray_analyser
from creator.music.library import LibraryIndex, index_library, index_path
from tests.distributed.ray_fixtures import local_ray  # noqa: F401 (the fixture)
from tests.factories import make_mixed_library, make_tone


pytestmark = pytest.mark.usefixtures("local_ray")


@pytest.fixture
def lib(tmp_path):
    return make_mixed_library(tmp_path / "音乐库")


def _index(file) -> dict:
    data = LibraryIndex.model_validate_json(file.read_bytes()).model_dump(mode="json")
    data.pop("updated_at")
    return data


def test_ray_index_equals_the_local_index(lib, tmp_path):
    local = index_library(lib, tmp_path / "本地")
    on_ray = index_library(lib, tmp_path / "ray", analyser=ray_analyser())
    assert local.path.name == on_ray.path.name  # the same index file, in another folder
    assert _index(local.path) == _index(on_ray.path)  # every record and analysis equal
    assert sorted(os.listdir(tmp_path / "本地")) == sorted(os.listdir(tmp_path / "ray"))
    for r in (local, on_ray):
        assert (len(r.added), len(r.index.usable), r.silent) == (4, 2, [str(lib / "静音.wav")])
        assert [p for p, _ in r.failed] == [str(lib / "坏的.mp3")]
    beat = next(t for t in _index(local.path)["tracks"] if t["path"].endswith("节拍_120.wav"))
    assert beat["analysis"]["tempo"] == pytest.approx(120, rel=0.04)


def test_cli_library_index_ray_uses_the_same_cache(lib, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CREATOR_CACHE_DIR", str(tmp_path / "cache"))
    local = index_library(lib, tmp_path / "cache" / "music")  # built locally first
    before = _index(local.path)
    (lib / "子目录" / "和弦.flac").rename(lib / "移动了.flac")  # moved: its analysis is kept
    make_tone(lib / "新.wav", freqs=(330.0, 415.3), duration=3)  # new: analysed on Ray

    rc = main(["library", "index", "--ray", str(lib), "--json"])  # DIR after a bare --ray
    assert rc == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["index"] == str(index_path(lib, tmp_path / "cache" / "music"))
    assert (report["added"], report["updated"]) == ([str(lib / "新.wav")], [str(lib / "移动了.flac")])
    assert report["unchanged"] == 3 and report["removed"] == [str(lib / "子目录" / "和弦.flac")]
    after = _index(local.path)
    assert after != before  # rewritten in place: the one index file
    # and it is what the local path would write from scratch
    assert after == _index(index_library(lib, tmp_path / "fresh").path)


def test_cli_library_index_bad_ray_address_is_a_usage_error(lib, capsys):
    rc = main(["library", "index", str(lib), "--ray", "no such host"])
    err = capsys.readouterr().err
    assert rc == 2 and "--ray: 'no such host' is not a Ray address" in err and len(err.strip().splitlines()) == 1
