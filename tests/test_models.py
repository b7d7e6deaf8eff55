"""The models of the full profile: located up front (folder, Hugging Face cache, hub),
every missing one named at once and quickly, offline; `creator models` over tiny local
models built here from configs (no network)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from creator.config import Settings
from creator.errors import BackendUnavailable
from creator.models import ModelRef, check_models, configured_models, locate
from tests.factories import sample_image

MISSING = {  # stage -> (setting, a model that is nowhere here)
    "tagging": ("tagging.clip_model", "openai/clip-vit-base-patch32"),
    "music": ("music.clap_model", "laion/clap-htsat-unfused"),
    "caption": ("caption.model", "Qwen/Qwen2.5-1.5B-Instruct"),
    "cover": ("cover.diffusion_model", "stabilityai/sd-turbo"),
}


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf 缓存"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def _full(**models) -> Settings:
    s = Settings.for_profile("full")
    s.tagging.clip_model = models.get("tagging", MISSING["tagging"][1])
    s.music.clap_model = models.get("music", MISSING["music"][1])
    s.caption.model = models.get("caption", MISSING["caption"][1])
    s.caption.gguf_file = None
    s.cover.diffusion_model = models.get("cover", MISSING["cover"][1])
    return s


def _assert_lists_all(message: str, stages) -> None:
    for stage in stages:
        setting, model = MISSING[stage]
        assert f"{stage}: {model} ({setting})" in message, (stage, message)
    assert "creator models pull " + " ".join(stages) in message


def test_every_missing_model_is_named_at_once_offline(no_network, empty_cache):
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full())
    elapsed = time.perf_counter() - t0
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert "HF_HUB_OFFLINE=1" in str(err.value)
    assert elapsed < 1.0, elapsed


def test_no_network_without_hf_hub_offline_is_quick_too(no_network, empty_cache, monkeypatch):
    """The adversarial run's case: the network is down but nobody set HF_HUB_OFFLINE, so the
    hub is asked (in parallel, with a short timeout) and every model is named."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full())
    elapsed = time.perf_counter() - t0
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert "not reachable" in str(err.value)
    assert elapsed < 3.0, elapsed


def test_only_the_models_the_settings_use_are_checked(no_network, empty_cache, monkeypatch):
    monkeypatch.setenv("CREATOR_TAGGING__BACKEND", "lite")
    monkeypatch.setenv("CREATOR_COVER__BACKEND", "photo")
    s = Settings.for_profile("full")
    assert [r.stage for r in configured_models(s)] == ["music", "caption"]
    with pytest.raises(BackendUnavailable) as err:
        check_models(s)
    assert "tagging:" not in str(err.value) and "cover:" not in str(err.value)
    assert check_models(Settings.for_profile("lite")) == []


def test_a_tiny_local_folder_counts_as_present(no_network, empty_cache, tmp_path):
    from tests.understanding.test_clip import _tiny_clip

    folder = _tiny_clip(tmp_path / "小模型" / "clip")
    status = locate(ModelRef("tagging", "tagging.clip_model", str(folder)))
    assert status.state == "local" and status.present and status.size > 10_000
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full(tagging=str(folder)))
    assert "tagging:" not in str(err.value)
    _assert_lists_all(str(err.value), ["music", "caption", "cover"])
    # a folder without weights (an interrupted copy) is not present, and says why
    broken = tmp_path / "半个模型"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "clip"}))
    status = locate(ModelRef("tagging", "tagging.clip_model", str(broken)))
    assert status.state == "missing" and "no weights" in status.reason
    status = locate(ModelRef("tagging", "tagging.clip_model", str(tmp_path / "没有")))
    assert status.state == "missing" and "no such folder" in status.reason


def test_a_model_in_the_hugging_face_cache_counts_as_present(no_network, empty_cache):
    """The cache layout huggingface_hub writes (models--org--name/snapshots/<rev>, refs/main),
    read back through huggingface_hub's own lookup."""
    rev = "0123456789abcdef0123456789abcdef01234567"
    repo = empty_cache / "models--openai--clip-vit-base-patch32"
    snap = repo / "snapshots" / rev
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)
    (snap / "config.json").write_text("{}")
    (snap / "model.safetensors").write_bytes(b"\0" * 4096)
    status = locate(ModelRef("tagging", "tagging.clip_model", "openai/clip-vit-base-patch32"))
    assert status.state == "cached" and status.path == snap and status.size >= 4096
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full())
    assert "tagging:" not in str(err.value)


def test_the_sdk_names_every_missing_model_before_any_work(no_network, empty_cache, tmp_path):
    from creator import Assistant

    photos = tmp_path / "旅行照片"
    photos.mkdir()
    sample_image("coffee").save(photos / "咖啡.jpg")
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailable) as err:
        Assistant(_full()).create([photos], out_dir=tmp_path / "笔记")
    assert time.perf_counter() - t0 < 2.0
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert not (tmp_path / "笔记").exists()


def test_creator_make_full_names_every_missing_model(no_network, empty_cache, tmp_path, capsys):
    from creator.cli import main

    photos = tmp_path / "旅行照片"
    photos.mkdir()
    sample_image("coffee").save(photos / "咖啡.jpg")
    t0 = time.perf_counter()
    rc = main(["make", str(photos), "-o", str(tmp_path / "笔记"), "--profile", "full", "--no-progress"])
    assert time.perf_counter() - t0 < 3.0
    assert rc != 0
    err = capsys.readouterr().err
    # the defaults of the full profile, each named once
    s = Settings.for_profile("full")
    for stage, model in (("tagging", s.tagging.clip_model), ("music", s.music.clap_model),
                         ("caption", s.caption.model), ("cover", s.cover.diffusion_model)):
        assert err.count(f"{stage}: {model}") == 1, (stage, err)


def test_each_loader_fails_at_once_with_the_same_message(no_network, empty_cache, monkeypatch):
    """Without the up-front check (a stage used alone), each loader checks its own model
    first: no hub retries, and the message says how to get it."""
    from creator.understanding.clip import ClipTagger
    from pipelines.cover.diffusion import DiffusionBackend

    monkeypatch.delenv("HF_HUB_OFFLINE")  # the network is down, the hub not told
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailable, match=r"tagging: openai/clip-vit-base-patch32 .*not reachable"):
        ClipTagger("openai/clip-vit-base-patch32").tag([sample_image("coffee")])
    assert time.perf_counter() - t0 < 3.0
    with pytest.raises(BackendUnavailable) as err:
        DiffusionBackend("stabilityai/sd-turbo").generate("x", seed=0, width=64, height=64)
    msg = str(err.value)
    # what is missing and how to get it; not the misleading "no file named model_index.json"
    assert "cover: stabilityai/sd-turbo (cover.diffusion_model)" in msg
    assert "not in the Hugging Face cache" in msg and "creator models pull cover" in msg
    assert "does not appear to have a file named" not in msg
