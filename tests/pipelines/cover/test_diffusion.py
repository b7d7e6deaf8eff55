"""Text-to-image covers through the real diffusers ``from_pretrained`` path, with a tiny
random Stable Diffusion pipeline built from configs here and saved to a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from creator.config import CoverSettings
from creator.errors import BackendUnavailable
from pipelines.cover import CoverRequest, Pipeline
from pipelines.cover.diffusion import DiffusionBackend, build_prompt, family_for, generation_size
from tests.factories import sure_and_unsure_trip


def build_tiny_sd(folder: Path) -> Path:
    """A tiny StableDiffusionPipeline (UNet, VAE, CLIP text encoder, BPE tokenizer from a
    small vocabulary, Euler scheduler) with random weights, saved with save_pretrained."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz,":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    for merged in ("th", "the</w>", "in", "in</w>"):
        vocab[merged] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\nt h\nth e</w>\ni n\ni n</w>\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16)

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, attention_head_dim=2, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=8, sample_size=16)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=16, intermediate_size=32,
        num_attention_heads=2, num_hidden_layers=2, vocab_size=len(vocab), max_position_embeddings=16,
        projection_dim=16))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_backend_generates_reproducibly(tiny_model):
    backend = DiffusionBackend(str(tiny_model))
    assert backend.family.name == "sd"  # no family name in the folder: the default
    a = backend.generate("a lake, autumn", "blurry", seed=7, width=48, height=64, steps=2)
    b = backend.generate("a lake, autumn", "blurry", seed=7, width=48, height=64, steps=2)
    c = backend.generate("a lake, autumn", "blurry", seed=8, width=48, height=64, steps=2)
    assert a.size == (48, 64) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert np.abs(np.asarray(a, float) - np.asarray(c, float)).mean() > 1
    # img2img from a picture, through the same components
    d = backend.generate("a lake", None, seed=7, width=48, height=64, init_image=a, strength=0.5, steps=2)
    assert d.size == (48, 64)


def test_pipeline_makes_generated_covers_with_the_same_typography(tiny_model, trip, tmp_path):
    settings = CoverSettings(backend="diffusion", diffusion_model=str(tiny_model), width=216)
    pipe = Pipeline(settings)
    req = CoverRequest(context=trip, title="西湖的秋天", n=2, seed=11, steps=2, diffusion_size=64,
                       out_dir=tmp_path)
    out = pipe(req)
    assert [c.cover.style for c in out.candidates] == ["bold_sticker", "magazine"]
    for i, c in enumerate(out.candidates):
        assert c.cover.backend == "diffusion" and c.cover.seed == 11 + i
        assert "palace" in c.cover.prompt and "Hangzhou" in c.cover.prompt and "autumn" in c.cover.prompt
        assert c.image.size == (216, 288) and Path(c.cover.path).is_file()
        assert c.layout["contrast"] >= 4.5
    again = pipe(req)  # the same seed gives the same covers
    assert np.array_equal(np.asarray(out.candidates[0].image), np.asarray(again.candidates[0].image))
    i2i = pipe(CoverRequest(context=trip, title="西湖", n=1, style="minimal", steps=2, img2img=True,
                            diffusion_size=64))
    assert i2i.candidates[0].cover.source == "diffusion:id-china"


def test_prompt_and_families(trip):
    prompt, negative = build_prompt(trip, "magazine")
    assert prompt.startswith("a traditional palace, blooming flowers, in Hangzhou")
    assert "autumn colours" in prompt and "morning light" in prompt and "magazine" in prompt
    assert "watermark" in negative
    turbo = family_for("stabilityai/sd-turbo")
    assert (turbo.name, turbo.steps, turbo.guidance) == ("sd-turbo", 1, 0.0)
    assert family_for("stabilityai/stable-diffusion-xl-base-1.0").name == "sdxl"
    assert family_for("/models/my-folder").name == "sd"
    w, h = generation_size(512, 0.75)
    assert w % 16 == 0 and h % 16 == 0 and abs(w / h - 0.75) < 0.03


def test_the_prompt_paints_only_what_the_photos_surely_show():
    """Two photos surely of a lake, one with an airplane the tagger half-saw (0.55): the
    generated cover is of a lake, without the airplane the caption does not state either."""
    ctx = sure_and_unsure_trip("lake", "airplane", 0.55)
    prompt, _ = build_prompt(ctx, "magazine")
    assert "lake" in prompt and "airplane" not in prompt and "plane" not in prompt, prompt


def test_missing_model_folder_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = DiffusionBackend(str(tmp_path / "no-such-model"))
    with pytest.raises(BackendUnavailable, match="diffusion_model"):
        backend.generate("x", seed=0, width=64, height=64, steps=1)


def test_missing_diffusers_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "diffusers" else real(name, *a))
    with pytest.raises(BackendUnavailable, match=r"pip install travel-note-creator\[full\]"):
        DiffusionBackend("stabilityai/sd-turbo")
