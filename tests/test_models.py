"""The models of the full profile: located up front (folder, Hugging Face cache, hub),
every missing one named at once and quickly, offline; `creator models` over tiny local
models built here from configs (no network)."""

from __future__ import annotations

import json
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


@pytest.fixture
def hub_calls(no_network, monkeypatch) -> list:
    """Every attempt to reach the network (each refused by ``no_network``), recorded: how
    many times the hub was asked, instead of how long that took (no timing assertions)."""
    import socket

    calls: list = []
    guarded = socket.socket.connect

    def counting(self, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if not (isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))):
            calls.append(address)
        return guarded(self, address, *args, **kwargs)

    real_lookup = socket.getaddrinfo

    def lookup(host, *args, **kwargs):  # a name is looked up before any connection
        if not (isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))):
            calls.append(host)
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", counting)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return calls


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


def test_every_missing_model_is_named_at_once_offline(hub_calls, empty_cache):
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full())
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert "HF_HUB_OFFLINE=1" in str(err.value)
    # told it is offline, the hub is never asked (it took 30 s of hub retries to name one
    # model before); tests/benchmarks/bench_models.py times it (0.08 s)
    assert hub_calls == []


def test_no_network_without_hf_hub_offline_is_quick_too(hub_calls, empty_cache, monkeypatch):
    """The adversarial run's case: the network is down but nobody set HF_HUB_OFFLINE, so the
    hub is asked (in parallel, with a short timeout) and every model is named."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    with pytest.raises(BackendUnavailable) as err:
        check_models(_full())
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert "not reachable" in str(err.value)
    # one request a model, whose connection the HTTP stack tries twice (8 lookups for the 4
    # models, measured); the hub's retry-with-backoff would make many more (30 s a model before)
    assert len(hub_calls) <= 2 * len(MISSING), hub_calls


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


def test_the_sdk_names_every_missing_model_before_any_work(hub_calls, empty_cache, tmp_path):
    from creator import Assistant

    photos = tmp_path / "旅行照片"
    photos.mkdir()
    sample_image("coffee").save(photos / "咖啡.jpg")
    with pytest.raises(BackendUnavailable) as err:
        Assistant(_full()).create([photos], out_dir=tmp_path / "笔记")
    assert hub_calls == []  # 242 s of hub retries before, naming one model at a time
    _assert_lists_all(str(err.value), ["tagging", "music", "caption", "cover"])
    assert not (tmp_path / "笔记").exists()


def test_creator_make_full_names_every_missing_model(hub_calls, empty_cache, tmp_path, capsys):
    from creator.cli import main

    photos = tmp_path / "旅行照片"
    photos.mkdir()
    sample_image("coffee").save(photos / "咖啡.jpg")
    rc = main(["make", str(photos), "-o", str(tmp_path / "笔记"), "--profile", "full", "--no-progress"])
    assert hub_calls == []
    assert rc != 0
    err = capsys.readouterr().err
    # the defaults of the full profile, each named once
    s = Settings.for_profile("full")
    for stage, model in (("tagging", s.tagging.clip_model), ("music", s.music.clap_model),
                         ("caption", s.caption.model), ("cover", s.cover.diffusion_model)):
        assert err.count(f"{stage}: {model}") == 1, (stage, err)


def test_creator_tag_full_keeps_the_environments_lite_tagger(no_network, empty_cache, tmp_path, capsys,
                                                             monkeypatch):
    """The adversarial run's case: CREATOR_TAGGING__BACKEND=lite was ignored under --profile full."""
    from creator.cli import main

    photo = tmp_path / "照片" / "咖啡.jpg"
    photo.parent.mkdir()
    sample_image("coffee").save(photo)
    rc = main(["tag", str(photo), "--profile", "full", "--no-progress"])
    assert rc != 0 and "tagging: " + Settings.for_profile("full").tagging.clip_model in capsys.readouterr().err
    monkeypatch.setenv("CREATOR_TAGGING__BACKEND", "lite")
    assert main(["tag", str(photo), "--profile", "full", "--json", "--no-progress"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["tags"] and all(t["source"] != "clip" for t in rows[0]["tags"])


def test_each_loader_fails_at_once_with_the_same_message(hub_calls, empty_cache, monkeypatch):
    """Without the up-front check (a stage used alone), each loader checks its own model
    first: no hub retries, and the message says how to get it."""
    from creator.understanding.clip import ClipTagger
    from pipelines.cover.diffusion import DiffusionBackend

    monkeypatch.delenv("HF_HUB_OFFLINE")  # the network is down, the hub not told
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    with pytest.raises(BackendUnavailable, match=r"tagging: openai/clip-vit-base-patch32 .*not reachable"):
        ClipTagger("openai/clip-vit-base-patch32").tag([sample_image("coffee")])
    assert len(hub_calls) <= 2, hub_calls  # one request (its connection tried twice), no retries
    with pytest.raises(BackendUnavailable) as err:
        DiffusionBackend("stabilityai/sd-turbo").generate("x", seed=0, width=64, height=64)
    msg = str(err.value)
    # what is missing and how to get it; not the misleading "no file named model_index.json"
    assert "cover: stabilityai/sd-turbo (cover.diffusion_model)" in msg
    assert "not in the Hugging Face cache" in msg and "creator models pull cover" in msg
    assert "does not appear to have a file named" not in msg


# --- tiny models of every full-profile stage, built from configs ------------------------------

# ChatML, the format of Qwen2.5-Instruct's chat template (written here: the real template
# file cannot be had offline); each message is <|im_start|>role\ncontent<|im_end|>\n
CHATML = ("{%- for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
          "{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}")

# what the tiny Qwen2 below says after the backend's '{"title": "' (one added token each)
REPLY = ["杭州两日｜西湖秋光", '", "body": "', "清晨的西湖起了雾，午后去寺里喝茶，傍晚在湖边看日落。第二天骑车穿过秋天的街道，晚上逛夜市吃小吃。",
         '", "hashtags": ["', "杭州", '", "', "西湖", '","', "秋天", '"]}']
assert len(set(REPLY)) == len(REPLY)  # each piece has one successor


def _byte_chars() -> list[str]:
    """The byte-level BPE alphabet (each byte's printable stand-in, as GPT-2/Qwen2 use)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in keep]
    table = dict(zip(keep, map(chr, keep)))
    table.update({b: chr(256 + i) for i, b in enumerate(extra)})
    return [table[b] for b in range(256)]


def build_tiny_qwen2(folder: Path) -> Path:
    """A Qwen2ForCausalLM with a Qwen2Tokenizer (byte-level BPE, no merges, ChatML special
    tokens) whose weights are set by hand to a bigram chain: with the attention and MLP
    outputs zeroed, the hidden state is the current token's one-hot embedding and lm_head
    maps each token to its successor, so greedy decoding after '"' spells REPLY, then
    <|im_end|>. Real architecture, real tokenizer class, real chat template path."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = _byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tok = Qwen2Tokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token=None,
                         bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.add_tokens(REPLY)
    tok.chat_template = CHATML
    n = len(tok)
    hidden = (n + 15) // 16 * 16
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    config = Qwen2Config(vocab_size=n, hidden_size=hidden, intermediate_size=16, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8192,
                         eos_token_id=eos, pad_token_id=tok.pad_token_id, bos_token_id=None,
                         tie_word_embeddings=False)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    ids = [tok.convert_tokens_to_ids(t) for t in REPLY]
    succ = {i: eos for i in range(n)}
    succ[vocab['"']] = ids[0]
    for a, b in zip(ids, ids[1:] + [eos]):
        succ[a] = b
    with torch.no_grad():
        model.model.embed_tokens.weight.zero_()
        model.model.embed_tokens.weight[torch.arange(n), torch.arange(n)] = 1.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.lm_head.weight.zero_()
        for a, b in succ.items():
            model.lm_head.weight[b, a] = 10.0
    model.generation_config.eos_token_id = eos
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_tiny_clap(folder: Path) -> Path:
    """A tiny random ClapModel + ClapProcessor (RoBERTa-style BPE over ASCII letters)."""
    import torch
    from transformers import (ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor,
                              ClapTextConfig, RobertaTokenizer)

    folder.mkdir(parents=True, exist_ok=True)
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["Ġ"]
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"] + chars)}
    (folder / "tok-vocab.json").write_text(json.dumps(vocab))
    (folder / "tok-merges.txt").write_text("#version: 0.2\n")
    tok = RobertaTokenizer(str(folder / "tok-vocab.json"), str(folder / "tok-merges.txt"))
    fe = ClapFeatureExtractor(feature_size=16, sampling_rate=16000, hop_length=160, fft_window_size=400,
                              max_length_s=2, truncation="rand_trunc", padding="repeatpad")
    text_cfg = ClapTextConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=32, max_position_embeddings=64, projection_dim=8)
    audio_cfg = ClapAudioConfig(num_mel_bins=16, spec_size=64, freq_ratio=4, patch_size=4, patch_stride=(4, 4),
                                hidden_size=32, depths=[1, 1], num_attention_heads=[2, 2], window_size=4,
                                patch_embeds_hidden_size=16, projection_dim=8, enable_fusion=False)
    torch.manual_seed(0)
    ClapModel(ClapConfig(text_config=text_cfg.to_dict(), audio_config=audio_cfg.to_dict(),
                         projection_dim=8)).save_pretrained(folder)
    ClapProcessor(feature_extractor=fe, tokenizer=tok).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from tests.pipelines.cover.test_diffusion import build_tiny_sd
    from tests.understanding.test_clip import _tiny_clip

    root = tmp_path_factory.mktemp("小模型")
    return {"tagging": _tiny_clip(root / "clip"), "music": build_tiny_clap(root / "clap"),
            "caption": build_tiny_qwen2(root / "qwen2"), "cover": build_tiny_sd(root / "sd")}


@pytest.fixture
def tiny_env(tiny_models, monkeypatch, no_network, empty_cache):
    """The full profile pointed at the tiny models through the environment."""
    for stage, setting in (("tagging", "CLIP_MODEL"), ("music", "CLAP_MODEL"), ("caption", "MODEL"),
                           ("cover", "DIFFUSION_MODEL")):
        monkeypatch.setenv(f"CREATOR_{stage.upper()}__{setting}", str(tiny_models[stage]))
    return tiny_models


def test_models_list_says_what_each_stage_uses(tiny_env, monkeypatch, capsys):
    from creator.cli import main

    monkeypatch.setenv("CREATOR_MUSIC__CLAP_MODEL", "laion/larger_clap_music")  # not here
    monkeypatch.setenv("CREATOR_COVER__DEVICE", "cpu")  # forced; the others are "auto"
    rc = main(["models", "list", "--json"])
    rows = {r["stage"]: r for r in json.loads(capsys.readouterr().out)}
    assert rc == 1  # one is missing
    assert list(rows) == ["tagging", "music", "caption", "cover"]
    for stage in ("tagging", "caption", "cover"):
        r = rows[stage]
        assert (r["state"], r["model"], r["path"]) == ("local", str(tiny_env[stage]), str(tiny_env[stage]))
        assert r["size"] > 10_000
    assert (rows["cover"]["device"], rows["cover"]["dtype"]) == ("cpu", "float32")
    # auto: a GPU in half precision where there is one, else the CPU in float32
    auto = rows["tagging"]
    assert auto["device"] in ("cpu", "cuda", "mps")
    assert auto["dtype"] == ("float32" if auto["device"] == "cpu" else "float16")
    assert rows["music"]["state"] == "missing" and "HF_HUB_OFFLINE" in rows["music"]["reason"]
    assert rows["caption"]["setting"] == "caption.model"
    # the lite profile needs nothing that is not packaged
    assert main(["models", "list", "--json", "--profile", "lite"]) == 0
    assert {r["state"] for r in json.loads(capsys.readouterr().out)} == {"packaged"}
    # the table names the missing one and the pull line
    main(["models", "list"])
    out = capsys.readouterr().out
    assert "laion/larger_clap_music (music.clap_model)" in out and "creator models pull music" in out


def test_models_verify_runs_each_tiny_model(tiny_env, capsys):
    from creator.cli import main

    rc = main(["models", "verify", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["stage"] for r in rows] == ["tagging", "music", "caption", "cover"]
    assert rc == 0, rows
    assert all(r["ok"] for r in rows), rows
    assert "3 tags" in rows[0]["result"] and "8 dims" in rows[1]["result"] and "64x64" in rows[3]["result"]


def test_models_verify_reports_a_broken_model_and_fails(tiny_env, tmp_path, monkeypatch, capsys):
    from creator.cli import main

    broken = tmp_path / "坏模型"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "clip"}))
    (broken / "model.safetensors").write_bytes(b"not weights")
    monkeypatch.setenv("CREATOR_TAGGING__CLIP_MODEL", str(broken))
    rc = main(["models", "verify", "tagging", "caption"])
    out = capsys.readouterr().out
    assert rc == 1
    assert out.startswith("FAIL tagging: ") and "\nok   caption: " in out


def test_models_pull_offline_and_local(tiny_env, monkeypatch, capsys):
    from creator.cli import main

    with pytest.raises(BackendUnavailable, match="HF_HUB_OFFLINE"):
        main_raises(["models", "pull", "cover"])
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    assert main(["models", "pull", "tagging"]) == 0  # a local folder: nothing to download
    assert "is a local folder; nothing to download" in capsys.readouterr().err
    monkeypatch.setenv("CREATOR_COVER__DIFFUSION_MODEL", "stabilityai/sd-turbo")
    assert main(["models", "pull", "cover", "--dir", str(tiny_env["cover"].parent / "下载")]) == 1
    assert "could not download stabilityai/sd-turbo" in capsys.readouterr().err
    assert main(["models", "pull", "video"]) == 2  # not a stage with a model


def main_raises(argv):
    """Run a subcommand's body directly (main() turns errors into an exit code)."""
    from creator.cli import build_parser

    args = build_parser().parse_args(argv)
    import importlib

    module, run = args._run
    return getattr(importlib.import_module(module), run)(args)


def test_pull_takes_one_copy_of_the_weights():
    from creator.models_cli import pull_patterns

    clip = ["config.json", "pytorch_model.bin", "model.safetensors", "tf_model.h5", "flax_model.msgpack",
            "tokenizer.json", "vocab.json", "merges.txt", "preprocessor_config.json", ".gitattributes", "README.md"]
    got = pull_patterns(clip, ModelRef("tagging", "tagging.clip_model", "openai/clip-vit-base-patch32"))
    assert "model.safetensors" in got and "pytorch_model.bin" not in got
    assert not any(f.endswith((".h5", ".msgpack")) for f in got) and "tokenizer.json" in got
    sd = ["model_index.json", "sd_turbo.safetensors", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
          "unet/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.safetensors",
          "text_encoder/model.safetensors", "text_encoder/model.fp16.safetensors", "tokenizer/vocab.json",
          "scheduler/scheduler_config.json"]
    got = pull_patterns(sd, ModelRef("cover", "cover.diffusion_model", "stabilityai/sd-turbo"))
    assert got == ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                   "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
                   "tokenizer/vocab.json", "scheduler/scheduler_config.json"]
    gguf = ["config.json", "smollm2-135m.Q8_0.gguf", "smollm2-135m.f16.gguf", "tokenizer.json"]
    got = pull_patterns(gguf, ModelRef("caption", "caption.model", "x/y", "smollm2-135m.Q8_0.gguf"))
    assert got == ["config.json", "smollm2-135m.Q8_0.gguf", "tokenizer.json"]


def test_qwen2_chat_template_round_trips_through_the_caption_parser(tiny_env):
    """The new default's architecture and tokenizer family (Qwen2, ChatML) through the real
    transformers backend: prompt rendered with the chat template, the JSON reply decoded,
    parsed and accepted by the caption checks (no template fallback)."""
    from creator.config import CaptionSettings
    from pipelines.caption import CaptionRequest, Pipeline, TransformersChat, build_messages
    from tests.pipelines.caption.contexts import hangzhou

    folder = str(tiny_env["caption"])
    chat = TransformersChat(folder)
    prompt = chat.render(build_messages(hangzhou(), lang="zh", style="guide"))
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert prompt.count("<|im_start|>") == 3 and "杭州" in prompt
    settings = CaptionSettings(backend="transformers", model=folder, temperature=0.0, max_new_tokens=24,
                               retries=0, emoji=False)
    out = Pipeline(settings)(CaptionRequest(context=hangzhou(), language="zh"))
    c = out.captions[0]
    assert out.attempts[0].problems == [], out.attempts[0]
    assert c.backend == f"transformers:{folder}"
    assert c.title == REPLY[0] and c.body.startswith("清晨的西湖起了雾")
    assert [h.lstrip("#") for h in c.hashtags] == ["杭州", "西湖", "秋天"]


def build_tiny_chinese_clip(folder: Path) -> Path:
    """A tiny random ChineseCLIPModel with a character-level BERT tokenizer over the
    characters of the vocabulary's zh prompts."""
    import torch
    from transformers import (BertTokenizer, ChineseCLIPConfig, ChineseCLIPImageProcessor, ChineseCLIPModel,
                              ChineseCLIPProcessor)

    from creator.vocabulary import vocabulary

    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted({c for t in vocabulary().tags for p in (t.clip_zh or ()) for c in p})
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars
    (folder / "vocab.txt").write_text("\n".join(words), encoding="utf-8")
    processor = ChineseCLIPProcessor(
        image_processor=ChineseCLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=BertTokenizer(str(folder / "vocab.txt")))
    config = ChineseCLIPConfig(
        text_config=dict(vocab_size=len(words), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=64),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8, projection_dim=16),
        projection_dim=16)
    torch.manual_seed(0)
    ChineseCLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_clip_prompts_are_in_the_models_language(tiny_models, no_network, tmp_path):
    """The default tagger is a Chinese-CLIP: it reads the vocabulary's zh prompts (every tag
    has some); an English CLIP reads the English ones."""
    from creator.understanding.clip import ClipTagger
    from creator.vocabulary import vocabulary

    zh = ClipTagger(str(build_tiny_chinese_clip(tmp_path / "中文clip")), min_score=0.0)
    pairs = zh.prompts()
    assert {tag for tag, _ in pairs} == set(vocabulary().ids)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for _, text in pairs)
    tags = zh.tag([sample_image("coffee")])[0]
    assert tags and all(t.source == "clip" for t in tags)
    en = ClipTagger(str(tiny_models["tagging"])).prompts()
    assert {tag for tag, _ in en} == set(vocabulary().ids)
    assert all(text.isascii() for _, text in en)


def test_a_forced_precision_reaches_the_loaded_models(tiny_env, monkeypatch, capsys):
    import torch

    from creator.cli import main
    from creator.understanding.clip import ClipTagger
    from pipelines.caption.llm import _load_causal_lm

    monkeypatch.setenv("CREATOR_TAGGING__PRECISION", "bfloat16")
    monkeypatch.setenv("CREATOR_CAPTION__PRECISION", "bfloat16")
    monkeypatch.setenv("CREATOR_CAPTION__DEVICE", "cpu")
    main(["models", "list", "--json"])
    rows = {r["stage"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["tagging"]["dtype"], rows["caption"]["dtype"], rows["music"]["dtype"]) == \
        ("bfloat16", "bfloat16", "float32")
    assert main(["models", "verify", "tagging", "caption"]) == 0, capsys.readouterr().out
    tagger = ClipTagger(str(tiny_env["tagging"]), "cpu", precision="bfloat16")
    tagger.tag([sample_image("coffee")])
    assert tagger._model.dtype is torch.bfloat16
    _, lm = _load_causal_lm(str(tiny_env["caption"]), None, "cpu", "bfloat16")
    assert lm.dtype is torch.bfloat16


class _FakeHub:
    """A local stand-in for the Hugging Face hub's HTTP API (model info, tree listing, file
    resolve) serving one repo from a folder: enough for huggingface_hub's own
    model_info and snapshot_download to run for real against it."""

    def __init__(self, repo: str, folder: Path, extra: dict[str, bytes] | None = None):
        import hashlib
        import http.server
        import threading

        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        files.update(extra or {})
        sha = "c" * 40
        self.requests: list[str] = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                hub.requests.append(f"{self.command} {self.path}")

            def _send(self, code, body: bytes, headers: dict):
                self.send_response(code)
                for k, v in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, obj, code=200, error=None):
                headers = {"Content-Type": "application/json", **({"X-Error-Code": error} if error else {})}
                self._send(code, json.dumps(obj).encode(), headers)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                path = self.path.split("?")[0]
                if path.startswith(f"/{repo}/resolve/"):
                    name = path.split("/resolve/", 1)[1].split("/", 1)[1]
                    if name not in files:
                        return self._json({"error": "not found"}, 404, "EntryNotFound")
                    data = files[name]
                    return self._send(200, data, {"ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                                                  "X-Repo-Commit": sha})
                if path.startswith(f"/api/models/{repo}/tree/"):
                    return self._json([{"type": "file", "path": n, "size": len(d),
                                        "oid": hashlib.sha1(d).hexdigest()} for n, d in files.items()])
                if path.startswith(f"/api/models/{repo}"):
                    return self._json({"id": repo, "sha": sha,
                                       "siblings": [{"rfilename": n, "size": len(d)} for n, d in files.items()]})
                self._json({"error": "Repository not found"}, 404, "RepoNotFound")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_pull_then_list_then_verify_offline(tiny_models, tmp_path):
    """`creator models pull` over huggingface_hub's real download path (a local fake hub),
    into the Hugging Face cache and into --dir; then the model is found in the cache and
    verified with the hub off. Subprocesses: huggingface_hub reads HF_ENDPOINT at import."""
    import os
    import subprocess
    import sys

    repo = "travel-note/tiny-clip"
    # a second copy of the weights in another format, which pull must leave on the hub
    hub = _FakeHub(repo, tiny_models["tagging"], {"flax_model.msgpack": b"\0" * 64})
    cache = tmp_path / "hf 缓存"
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") and not k.startswith("CREATOR_")}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_CACHE=str(cache), CREATOR_TAGGING__CLIP_MODEL=repo,
               HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(Path(__file__).resolve().parents[1]))

    def creator(*argv, offline=False):
        e = {**env, **({"HF_HUB_OFFLINE": "1"} if offline else {})}
        return subprocess.run([sys.executable, "-m", "creator.cli", "models", *argv], env=e, capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)

    try:
        before = creator("list", "--json")
        rows = {r["stage"]: r for r in json.loads(before.stdout)}
        assert rows["tagging"]["state"] == "hub", before.stderr  # reachable, not downloaded
        pulled = creator("pull", "tagging")
        assert pulled.returncode == 0, pulled.stderr
        assert f"tagging: {repo}" in pulled.stderr and "the Hugging Face cache" in pulled.stderr
        folder = tmp_path / "下载"
        into_dir = creator("pull", "tagging", "--dir", str(folder), "--json")
        assert into_dir.returncode == 0, into_dir.stderr
        assert f"CREATOR_TAGGING__CLIP_MODEL={folder / 'tiny-clip'}" in into_dir.stderr
    finally:
        hub.close()
    assert (folder / "tiny-clip" / "config.json").is_file()
    assert not (folder / "tiny-clip" / "flax_model.msgpack").exists()
    snapshots = list((cache / "models--travel-note--tiny-clip" / "snapshots").iterdir())
    assert len(snapshots) == 1 and not (snapshots[0] / "flax_model.msgpack").exists()
    # with the hub gone and off, the cached copy is found and runs
    listed = creator("list", "--json", offline=True)
    rows = {r["stage"]: r for r in json.loads(listed.stdout)}
    assert rows["tagging"]["state"] == "cached" and rows["tagging"]["path"] == str(snapshots[0])
    verified = creator("verify", "tagging", offline=True)
    assert verified.returncode == 0 and verified.stdout.startswith("ok   tagging: "), verified.stdout + verified.stderr


@pytest.mark.parametrize("command", ["music", "cover"])
def test_music_and_cover_under_creator_profile_full_name_both_models(command, no_network, empty_cache,
                                                                      tmp_path, monkeypatch, capsys):
    """`creator music PATH` and `creator cover PATH` (no --profile flag: CREATOR_PROFILE=full)
    name the tagging model and their own at once, before understanding anything."""
    from creator.cli import main

    monkeypatch.setenv("CREATOR_PROFILE", "full")
    photo = tmp_path / "照片" / "咖啡.jpg"
    photo.parent.mkdir()
    sample_image("coffee").save(photo)
    argv = [command, str(photo)] + (["-o", str(tmp_path / "封面.png")] if command == "cover" else [])
    assert main(argv) != 0
    captured = capsys.readouterr()
    s = Settings.for_profile("full")
    own = s.music.clap_model if command == "music" else s.cover.diffusion_model
    text = captured.err + captured.out
    assert "2 models of the full profile are not available" in text
    assert f"tagging: {s.tagging.clip_model}" in text and own in text
