"""The soundtrack stage end to end on a small generated library (real decoding, analysis,
index and e5 embeddings), plus the CLAP backend with a tiny random model."""

import json
import os

import numpy as np
import pytest

from creator.config import Settings
from creator.errors import InputError
from creator.music.query import query_from_context
from creator.types import NoteContext, Place
from creator.vocabulary import vocabulary
from pipelines.soundtrack import Pipeline, SoundtrackRequest
from tests.factories import make_click_track, make_tone


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("音乐库")
    make_click_track(root / "fast_clicks.wav", bpm=150, duration=20)
    make_click_track(root / "slow_clicks.wav", bpm=70, duration=20)
    make_tone(root / "major.wav", freqs=(523.25, 659.25, 783.99), duration=12)
    make_tone(root / "minor.wav", freqs=(440.0, 523.25, 659.25), duration=12)
    (root / "slow_clicks.json").write_text(json.dumps({"title": "Evening Tide", "artist": "X",
                                                       "license": "CC0", "moods": ["calm"]}), "utf-8")
    return root


@pytest.fixture(scope="module")
def settings(library, tmp_path_factory):
    s = Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    s.music.library = library
    return s


def test_query_text_match(settings):
    pipe = Pipeline(settings)
    out = pipe(SoundtrackRequest(query="relaxed seaside evening", language="en", length=8, top=3))
    assert len(out.matches) == 3 and out.backend == "lite"
    first = out.matches[0]
    assert first.title == "Evening Tide" and first.license == "CC0"  # the sidecar says calm
    assert set(first.breakdown) >= {"text", "acoustic", "mood"}
    assert first.reason.startswith("A ") and "“relaxed seaside evening”" in first.reason
    assert first.excerpt is not None and first.excerpt.duration == pytest.approx(8.0, abs=0.5)
    assert first.beats and all(0 <= b < first.excerpt.duration for b in first.beats)
    scores = [m.score for m in out.matches]
    assert scores == sorted(scores, reverse=True)
    assert abs(sum(out.query_moods.values()) - 1) < 1e-3


def test_context_query_exclude_pin_zh(settings):
    voc = vocabulary()
    ctx = NoteContext(items=[], top_tags=[voc.tag("night_market", 0.9, "test") if "night_market" in voc
                                          else voc.tag(voc.ids[0], 0.9, "test")],
                      places=[Place(name_zh="台北", name_en="Taipei")], time_of_day="night",
                      valence=0.8, energy=0.9)
    text = query_from_context(ctx, "zh")
    assert "台北" in text and "夜晚" in text
    pipe = Pipeline(settings)
    base = pipe(SoundtrackRequest(context=ctx, query="热闹的夜市", language="zh", top=2, length=6))
    assert base.matches[0].reason.endswith("。") and "「热闹的夜市」" in base.matches[0].reason
    # three things it suits read as a list: "甲、乙和「…」", never "甲和乙和…"
    assert "、夜晚和「热闹的夜市」" in base.matches[0].reason and base.matches[0].reason.count("和") == 1
    first = base.matches[0].track_id
    out = pipe(SoundtrackRequest(context=ctx, language="zh", top=2, exclude=[first], pin=["minor.wav"]))
    ids = [m.track_id for m in out.matches]
    assert first not in ids and out.matches[0].title == "minor" and len(ids) == 2


def test_no_duplicates_and_bad_requests(settings, library, tmp_path):
    import shutil

    dup = tmp_path / "dups"
    shutil.copytree(library, dup)
    shutil.copyfile(dup / "major.wav", dup / "major copy.wav")
    s = settings.model_copy(deep=True)
    s.music.library = dup
    out = Pipeline(s)(SoundtrackRequest(query="happy", language="en", top=5))
    ids = [m.track_id for m in out.matches]
    assert len(ids) == len(set(ids)) == 4  # the copy is the same content: listed once
    with pytest.raises(InputError, match="context"):
        Pipeline(s)(SoundtrackRequest())


def test_clap_backend_tiny_random(settings, tmp_path, monkeypatch):
    import transformers
    from transformers import (ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel,
                              ClapProcessor, ClapTextConfig, RobertaTokenizer)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # a tiny BPE tokenizer written here: bytes of ASCII letters, no merges
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["Ġ"]
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"] + chars)}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    tok = RobertaTokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    fe = ClapFeatureExtractor(feature_size=16, sampling_rate=16000, hop_length=160, fft_window_size=400,
                              max_length_s=2, truncation="rand_trunc", padding="repeatpad")
    text_cfg = ClapTextConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                              num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                              projection_dim=8)
    audio_cfg = ClapAudioConfig(num_mel_bins=16, spec_size=64, freq_ratio=4, patch_size=4, patch_stride=(4, 4),
                                hidden_size=32, depths=[1, 1], num_attention_heads=[2, 2], window_size=4,
                                patch_embeds_hidden_size=16, projection_dim=8, enable_fusion=False)
    cfg = ClapConfig(text_config=text_cfg.to_dict(), audio_config=audio_cfg.to_dict(), projection_dim=8)
    model_dir = tmp_path / "tiny-clap"
    ClapModel(cfg).save_pretrained(model_dir)
    ClapProcessor(feature_extractor=fe, tokenizer=tok).save_pretrained(model_dir)

    s = settings.model_copy(deep=True)
    s.music.backend = "clap"
    s.music.clap_model = str(model_dir)
    out = Pipeline(s)(SoundtrackRequest(query="calm evening", language="en", top=4, length=6))
    assert out.backend == "clap" and len(out.matches) == 4
    assert all(np.isfinite(m.score) for m in out.matches)
    cache = list((s.cache_dir / "music").glob("*.clap-*.npz"))
    assert cache, "CLAP audio embeddings are cached beside the index"
    with np.load(cache[0]) as z:
        assert z["vectors"].shape == (4, 8)


def test_pick_widens_past_the_candidates_and_skips_duplicates():
    """The top-k pick sorts only the best CANDIDATES tracks; when exclusions use them all
    up it falls back to the whole library, and never returns near-duplicates."""
    from creator.music.analysis import TrackAnalysis
    from creator.music.embeddings import TrackMatrix
    from creator.music.library import TrackRecord
    from pipelines.soundtrack.pipeline_soundtrack import CANDIDATES

    n = CANDIDATES + 100
    rng = np.random.default_rng(0)
    text = rng.normal(size=(n, 8)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    recs = [TrackRecord(id=f"{k:016x}", path=f"/曲库/{k}.mp3", size=1, mtime_ns=0, title=f"曲 {k}",
                        artist="A" if k in (CANDIDATES + 1, CANDIDATES + 2) else None,
                        analysis=TrackAnalysis(duration=60.0)) for k in range(n)]
    recs[CANDIDATES + 2].title = recs[CANDIDATES + 1].title  # same artist and title: a duplicate
    tracks = TrackMatrix(recs, text, np.zeros((n, 5), np.float32), np.full((n, 5), 0.2, np.float32))
    scores = np.linspace(1.0, 0.0, n).astype(np.float32)  # track k is the k-th best
    excluded = [f"曲 {k}" for k in range(CANDIDATES + 1)]
    got = Pipeline(Settings())._pick(tracks, scores, [], 3, excluded)
    assert got == [CANDIDATES + 1, CANDIDATES + 3, CANDIDATES + 4]


def test_cli_music_json_fields_and_query_language(settings, capsys, monkeypatch):
    from creator.cli import main

    monkeypatch.setenv("CREATOR_CACHE_DIR", str(settings.cache_dir))
    lib = str(settings.music.library)
    assert main(["music", "--query", "relaxed seaside evening", "--library", lib, "--top", "2",
                 "--length", "6", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2
    for r in rows:
        assert {"track_id", "title", "path", "score", "moods", "tempo", "reason", "excerpt"} <= set(r)
        assert set(r["moods"]) == {"calm", "energetic", "happy", "nostalgic", "tender"}
        assert 0 <= r["excerpt"]["start"] < r["excerpt"]["end"] and os.path.exists(r["path"])
        assert r["reason"].startswith("A ")  # an English query gets English reasons
    assert main(["music", "--query", "海边安静的傍晚", "--library", lib, "--top", "1", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in row["reason"]) and not row["reason"].startswith("A ")


def test_reasons_follow_the_query_language_unless_told(settings):
    from creator.music.query import text_language

    assert (text_language("海边 sunset"), text_language("quiet lake"), text_language("  ")) == ("zh", "en", None)
    pipe = Pipeline(settings)
    en = pipe(SoundtrackRequest(query="quiet lake at dawn", top=1, length=6)).matches[0]
    zh = pipe(SoundtrackRequest(query="安静的湖边清晨", top=1, length=6)).matches[0]
    told = pipe(SoundtrackRequest(query="quiet lake at dawn", language="zh", top=1, length=6)).matches[0]
    assert en.reason.startswith("A ") and not zh.reason.startswith("A ") and not told.reason.startswith("A ")
