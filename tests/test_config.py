"""Settings: the full profile's backends are defaults that the environment and the caller
override; device and precision resolve to what the machine has."""

from __future__ import annotations

import pytest

from creator.config import CaptionSettings, Settings
from creator.errors import ConfigError
from creator.models import resolve_device, resolve_dtype


def _backends(s: Settings) -> tuple:
    return s.tagging.backend, s.music.backend, s.caption.backend, s.cover.backend


def test_full_profile_switches_every_backend(monkeypatch):
    for name in ("CREATOR_TAGGING__BACKEND", "CREATOR_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    assert _backends(Settings.for_profile("lite")) == ("lite", "lite", "template", "photo")
    assert _backends(Settings.for_profile("full")) == ("clip", "clap", "transformers", "diffusion")
    with pytest.raises(ConfigError, match="unknown profile"):
        Settings.for_profile("fast")


def test_environment_overrides_the_profile(monkeypatch):
    monkeypatch.setenv("CREATOR_TAGGING__BACKEND", "lite")
    monkeypatch.setenv("CREATOR_CAPTION__BACKEND", "openai")
    s = Settings.for_profile("full")
    # the two the environment set stay as set; the rest follow the profile
    assert _backends(s) == ("lite", "clap", "openai", "diffusion")
    # another field of a section does not stop the profile from choosing its backend
    monkeypatch.delenv("CREATOR_TAGGING__BACKEND")
    monkeypatch.setenv("CREATOR_TAGGING__CLIP_MODEL", "/模型/clip")
    s = Settings.for_profile("full")
    assert (s.tagging.backend, s.tagging.clip_model) == ("clip", "/模型/clip")


def test_caller_overrides_beat_the_environment_and_the_profile(monkeypatch):
    monkeypatch.setenv("CREATOR_CAPTION__BACKEND", "openai")
    s = Settings.for_profile("full", caption=CaptionSettings(backend="template"))
    assert s.caption.backend == "template"
    # a section given without a backend still gets the profile's
    s = Settings.for_profile("full", caption=CaptionSettings(model="/模型/llm"))
    assert (s.caption.backend, s.caption.model) == ("transformers", "/模型/llm")


def test_profile_from_the_environment_alone(monkeypatch):
    """CREATOR_PROFILE=full with plain Settings() (what `creator cover` and `creator music`
    build) is the full profile too, not a 'full' label over lite backends."""
    monkeypatch.setenv("CREATOR_PROFILE", "full")
    monkeypatch.setenv("CREATOR_MUSIC__BACKEND", "lite")
    assert _backends(Settings()) == ("clip", "lite", "transformers", "diffusion")


def test_device_auto_is_the_default_and_resolves_here(monkeypatch):
    import torch

    s = Settings.for_profile("full")
    assert {s.tagging.device, s.music.device, s.caption.device, s.cover.device} == {"auto"}
    assert {s.tagging.precision, s.music.precision, s.caption.precision, s.cover.precision} == {"auto"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    # a forced device is used as given, whatever is available
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"


def test_precision_auto_is_half_on_a_gpu_and_can_be_forced(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_dtype("auto", "cuda", prefer_bf16=True) is torch.bfloat16  # the caption LLM
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_dtype("auto", "cuda", prefer_bf16=True) is torch.float16
    assert resolve_dtype("auto", "cpu", prefer_bf16=True) is torch.float32

    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("auto", "cuda") is torch.float16
    assert resolve_dtype("auto", "cuda:1") is torch.float16
    assert resolve_dtype("auto", "mps") is torch.float16
    assert resolve_dtype("float32", "cuda") is torch.float32
    assert resolve_dtype("bfloat16", "cpu") is torch.bfloat16
    with pytest.raises(ConfigError, match="precision"):
        resolve_dtype("int3", "cpu")
    with pytest.raises(Exception):
        Settings().tagging.precision = "int3"
