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
