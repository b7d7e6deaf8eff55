from __future__ import annotations

import re

import pytest

from creator.errors import ConfigError
from creator.vocabulary import _parse, vocabulary

REQUIRED = """mountain lake sea beach river waterfall forest meadow flower plant snow desert sky
clouds sunset night starry_sky autumn rain fog city street architecture temple palace church
bridge museum market cafe restaurant indoor boat pier road train car bicycle motorcycle airplane
hiking camping swimming skiing food dessert coffee tea drink fruit people selfie group dog cat
bird insect wildlife art""".split()


def test_vocabulary_has_every_required_tag():
    v = vocabulary()
    assert set(REQUIRED) <= set(v.ids)


def test_every_tag_is_complete():
    han = re.compile(r"[\u4e00-\u9fff]")
    for t in vocabulary():
        assert re.fullmatch(r"[a-z_]+", t.id), t.id
        assert han.search(t.zh), t.id
        assert t.en and not han.search(t.en), t.id
        assert t.group
        assert t.clip and t.clip_zh, t.id
        assert 0 <= t.valence <= 1 and 0 <= t.energy <= 1
        assert all(0 <= i < 1000 for i in t.imagenet)


def test_tag_objects_carry_labels_and_clip_scores():
    tag = vocabulary().tag("sunset", 1.7, "colour")
    assert (tag.label_zh, tag.label_en, tag.score, tag.source) == ("日落", "sunset", 1.0, "colour")


def test_duplicate_ids_and_bad_ranges_are_rejected():
    base = {"id": "a", "zh": "甲", "en": "a", "group": "scene"}
    with pytest.raises(ConfigError):
        _parse({"tags": [base, base]})
    with pytest.raises(ConfigError):
        _parse({"tags": [{**base, "imagenet": ["990-1005"]}]})
