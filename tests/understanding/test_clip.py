"""The CLIP tagger, end to end with a tiny random CLIP saved to disk and loaded back through
``from_pretrained`` — the same path a user's model takes. No network."""

from __future__ import annotations

import pytest


from creator.errors import BackendUnavailable  # noqa: E402
from creator.understanding.clip import ClipTagger  # noqa: E402
from creator.vocabulary import vocabulary  # noqa: E402
from tests.factories import sample_image  # noqa: E402


def _tiny_clip(folder):
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer
    # a byte-level vocabulary with no merges: every byte's printable stand-in is a token
    # (the GPT-2 byte-to-unicode table: printable bytes map to themselves, others to 256+)
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    extra = [b for b in range(256) if b not in printable]
    chars = [chr(b) for b in printable] + [chr(256 + i) for i in range(len(extra))]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, projection_dim=16,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8, projection_dim=16),
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    return _tiny_clip(tmp_path_factory.mktemp("tiny_clip_模型"))


def test_clip_tagger_loads_a_saved_model_and_tags(tiny_clip_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tagger = ClipTagger(str(tiny_clip_dir), min_score=0.0, max_tags=8)
    images = [sample_image("coffee"), sample_image("chelsea"), sample_image("astronaut")]
    result = tagger.tag(images)
    ids = set(vocabulary().ids)
    assert len(result) == 3
    for tags in result:
        assert 1 <= len(tags) <= 8
        assert all(t.id in ids and t.source == "clip" and 0 <= t.score <= 1 for t in tags)
        assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)
    # one text embedding per tag, unit length
    assert tagger._text.shape[0] == len(vocabulary())
    # deterministic: a second tagger over the same folder gives the same tags
    again = ClipTagger(str(tiny_clip_dir), min_score=0.0, max_tags=8).tag(images)
    assert [[(t.id, t.score) for t in r] for r in again] == [[(t.id, t.score) for t in r] for r in result]


def test_clip_scores_follow_the_softmax_mapping(tiny_clip_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tagger = ClipTagger(str(tiny_clip_dir), temperature=0.01)
    scores = tagger.scores([sample_image("coffee")])
    assert scores.shape == (1, len(vocabulary()))
    # a very low temperature makes one tag dominate the softmax: it scores near 1, the rest near 0
    assert scores.max() > 0.9
    assert (scores > 0.5).sum() == 1
    # min_score filters
    assert all(t.score >= tagger.min_score for t in tagger.tag([sample_image("coffee")])[0])


def test_clip_missing_model_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackendUnavailable, match="save_pretrained"):
        ClipTagger(str(tmp_path / "nope")).tag([sample_image("coffee")])


def test_clip_tags_below_the_fact_score_are_suggestions(tiny_clip_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photo = sample_image("coffee")
    ids = vocabulary().ids
    for temperature in (0.05, 0.2):  # a few tags above the fact score, the rest below
        tagger = ClipTagger(str(tiny_clip_dir), temperature=temperature, min_score=0.1)
        scores = dict(zip(ids, tagger.scores([photo])[0]))
        [tags] = tagger.tag([photo])
        facts = {t for t, v in scores.items() if v >= tagger.fact_score}
        assert facts and {t.id for t in tags} == facts
        assert {t.id for t in tags.suggestions} == {t for t, v in scores.items() if 0.1 <= v < tagger.fact_score}
        assert all(t.score >= 0.5 for t in tags) and all(0.1 <= t.score < 0.5 for t in tags.suggestions)
    # a fact score of 0 makes every tag a fact (up to max_tags)
    [tags] = ClipTagger(str(tiny_clip_dir), fact_score=0.0, max_tags=5).tag([photo])
    assert len(tags) == 5 and not tags.suggestions


def test_a_photo_with_no_fact_keeps_its_best_tag_and_a_blank_frame_none(tiny_clip_dir, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tagger = ClipTagger(str(tiny_clip_dir), temperature=100.0)  # a flat softmax: every score near 0.2
    photo, blank = sample_image("coffee"), Image.new("RGB", (64, 64), (0, 0, 0))
    flat = tagger.scores([photo])[0]
    assert flat.max() < tagger.fact_score
    [tags], [none] = tagger.tag([photo]), tagger.tag([blank])
    assert [t.score for t in tags] == [round(float(flat.max()), 4)] and tags.suggestions
    assert list(none) == [] and none.suggestions


def test_the_capture_time_rules_out_what_clip_cannot_see(tiny_clip_dir, monkeypatch):
    """The sun up (30°): no night, no stars; midday with no warm glow: no sunset (a warm
    frame, the coffee's, keeps it). Every other tag keeps CLIP's own score; at dusk, or
    without a time, nothing changes."""
    from datetime import datetime

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    n = len(vocabulary())
    tagger = ClipTagger(str(tiny_clip_dir), min_score=0.0, fact_score=0.0, max_tags=n)
    photo = sample_image("china")
    scores = dict(zip(vocabulary().ids, tagger.scores([photo])[0].tolist()))
    assert min(scores["night"], scores["starry_sky"], scores["sunset"]) > 0.0

    def all_scores(tags):
        return {t.id: t.score for t in [*tags, *tags.suggestions]}

    [plain] = tagger.tag([photo])
    [noon] = tagger.tag([photo], taken_at=[datetime(2026, 12, 4, 12, 0)], sun=[30.0])
    [dusk] = tagger.tag([photo], taken_at=[datetime(2026, 12, 4, 17, 40)], sun=[-11.0])
    assert all_scores(plain) == pytest.approx({k: round(v, 4) for k, v in scores.items()}, abs=1e-4)
    got = all_scores(noon)
    assert got.get("night", 0.0) == 0.0 and got.get("starry_sky", 0.0) == 0.0 and got.get("sunset", 0.0) == 0.0
    assert {k: v for k, v in got.items() if k not in ("night", "starry_sky", "sunset")} == \
        {k: v for k, v in all_scores(plain).items() if k not in ("night", "starry_sky", "sunset")}
    assert all_scores(dusk) == all_scores(plain)
    warm = sample_image("coffee")
    [warm_plain], [warm_noon] = tagger.tag([warm]), tagger.tag([warm], taken_at=[datetime(2026, 12, 4, 12, 0)])
    assert all_scores(warm_noon)["sunset"] == all_scores(warm_plain)["sunset"] > 0.0
    with pytest.raises(Exception, match="sun: 2 values for 1 images"):
        tagger.tag([photo], sun=[1.0, 2.0])


def test_the_fact_score_is_a_setting(tiny_clip_dir, monkeypatch):
    from creator.config import Settings
    from creator.understanding.backends import get_tagger

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings()
    settings.tagging.backend = "clip"
    settings.tagging.clip_model = str(tiny_clip_dir)
    settings.tagging.clip_fact_score = 0.0
    tagger = get_tagger(settings.tagging)
    assert tagger.fact_score == 0.0 and len(tagger.tag([sample_image("coffee")])[0]) == tagger.max_tags
    with pytest.raises(Exception, match="less than or equal to 1"):
        settings.tagging.clip_fact_score = 1.5


def test_the_clip_benchmark_picks_the_lowest_fact_score_that_keeps_precision(tmp_path):
    """tests/benchmarks/bench_tagging_clip.py on made-up scores whose truth is known: the
    acceptable tags score 0.6, two wrong ones 0.4 and 0.3, so facts at 0.45 or more are
    all right and the pick is 0.45 (0.2-0.4 let a wrong tag in)."""
    import numpy as np

    from tests.benchmarks.bench_tagging_clip import FACT_SCORES, Photo, cross_validated, facts_at, pick_fact_score

    tagger = ClipTagger("not-loaded")  # decide() needs the vocabulary only
    ids = vocabulary().ids
    truth = [("sea", "beach"), ("mountain", "snow"), ("cat",), ("food", "fruit"), ("city", "night"), ("temple",)]
    wrong = [("desert", "bird"), ("river", "dog"), ("airplane", "lake"), ("car", "fog"), ("boat", "forest"),
             ("train", "meadow")]
    photos, scores = [], np.full((len(truth), len(ids)), 0.01)
    for k, (good, bad) in enumerate(zip(truth, wrong)):
        photos.append(Photo(f"pkg{k % 3}", tmp_path / f"{k}.jpg", [{t} for t in good], set(good)))
        for t in good:
            scores[k, ids.index(t)] = 0.6
        scores[k, ids.index(bad[0])], scores[k, ids.index(bad[1])] = 0.4, 0.3
    visible = [True] * len(photos)
    assert 0.45 in FACT_SCORES and pick_fact_score(tagger, photos, scores, visible) == 0.45
    assert facts_at(tagger, scores, visible, 0.45)[0] == ["beach", "sea"]  # ties in id order
    assert facts_at(tagger, scores, visible, 0.35)[0] == ["beach", "sea", "desert"]
    facts, picked = cross_validated(tagger, photos, scores, visible)
    assert picked == [0.45, 0.45, 0.45] and [set(f) for f in facts] == [set(g) for g in truth]


def test_the_clip_benchmark_runs_a_saved_model_end_to_end(tiny_clip_dir, tmp_path, monkeypatch):
    from tests.benchmarks.bench_tagging_clip import Photo, clip_scores, report

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photos = []
    for k, (name, label) in enumerate([("coffee", "drink"), ("chelsea", "cat"), ("astronaut", "people")]):
        path = tmp_path / f"照片{k}.jpg"
        sample_image(name).save(path)
        photos.append(Photo(f"包{k}", path, [{label}], {label}))
    tagger = ClipTagger(str(tiny_clip_dir), min_score=0.0)
    scores, visible = clip_scores(tagger, photos, cache=False)
    assert scores.shape == (3, len(vocabulary())) and visible == [True, True, True]
    text = report(tagger, photos, scores, visible, [("held-out photos", photos[:2], scores[:2], visible[:2]),
                                                   ("photos of a new package", photos[2:], scores[2:], visible[2:])])
    assert "leave-one-package-out CV" in text and "leave-one-source-out CV" in text
    assert "CREATOR_TAGGING__CLIP_FACT_SCORE=" in text
    assert "2 held-out photos at that fact score" in text
    assert "1 photos of a new package at that fact score" in text
