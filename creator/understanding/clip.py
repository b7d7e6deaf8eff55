"""The "full" tagger: zero-shot CLIP (or Chinese-CLIP) over the vocabulary's prompts.

The model is a hub id or a local folder holding a saved model and processor; it is loaded
with ``from_pretrained`` (offline when ``HF_HUB_OFFLINE=1``). ``model_type ==
"chinese_clip"`` in its config selects ``ChineseCLIPModel`` and the ``clip_zh`` prompts.

Scoring: each tag's text embedding is the normalised mean of its prompts' embeddings
(prompt ensembling, computed once per model and cached). An image's cosine similarities
to all tags, times the model's logit scale, go through a **softmax over the tags with a
temperature** (``temperature``, default 1: the model's own scale). Softmax mass is
shared by all tags, so a photo with three true tags gives each about a third: the
probabilities are then mapped to per-tag scores by ``p / (p + prior)``, ``prior`` being the
uniform share ``1 / len(vocabulary)`` times ``prior_factor``, which puts a tag that gets
``prior_factor`` times its uniform share at 0.5 and a dominant tag near 1.

Facts and suggestions, as the lite tagger's: a tag scoring ``fact_score`` or more is a
fact; one between ``min_score`` and it is a suggestion (for the editor's add-tag menu,
never in the caption). A photo with visible content and no fact keeps its best tag as
one. The default 0.5 is the mapping's own midpoint (``prior_factor`` uniform shares), not
a figure measured on real photos: ``tests/benchmarks/bench_tagging_clip.py MODEL``
measures a model on the dev photos and picks the threshold by cross-validation.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from PIL import Image

from ..errors import BackendUnavailable, InputError
from ..types import Box
from ..vocabulary import vocabulary
from .lite import TagList, colour_evidence, daylight, time_gate, visible_content

__all__ = ["ClipTagger"]

_INSTALL_HINT = "pip install travel-note-creator[full]"


class ClipTagger:
    """Zero-shot tagging with a CLIP or Chinese-CLIP model from ``transformers``.

    Parameters
    ----------
    model : a hub id or a local folder (model + processor saved with ``save_pretrained``).
    device : "auto" (CUDA, then MPS, then CPU) or a torch device string.
    precision : "auto" (float16 on a GPU, float32 on the CPU), "float32", "float16" or "bfloat16".
    min_score, max_tags, batch_size : as in the lite tagger.
    temperature : divides the logits before the softmax over tags.
    prior_factor : how many uniform shares make a score of 0.5 (see the module docstring).
    fact_score : tags scoring at least this are facts, the rest (down to ``min_score``)
        suggestions.
    """

    name = "clip"

    def __init__(
        self,
        model: str,
        device: str = "auto",
        *,
        precision: str = "auto",
        min_score: float = 0.15,
        max_tags: int = 12,
        batch_size: int = 16,
        temperature: float = 1.0,
        prior_factor: float = 4.0,
        fact_score: float = 0.5,
    ):
        if not model:
            raise InputError("model: give a hub id or a local folder with a CLIP model")
        if not 0.0 <= fact_score <= 1.0:
            raise InputError(f"fact_score must be between 0 and 1, got {fact_score!r}")
        from ..models import resolve_device

        self.model_name = model
        self.device = resolve_device(device)
        self.precision = precision
        self._dtype = None
        self.min_score = min_score
        self.max_tags = max_tags
        self.batch_size = batch_size
        self.temperature = temperature
        self.prior_factor = prior_factor
        self.fact_score = fact_score
        self.vocab = vocabulary()
        self._lock = threading.Lock()
        self._model = None
        self._processor = None
        self._chinese = False
        self._text = None  # (tags, dim) normalised tag embeddings

    # -- loading ------------------------------------------------------------------------
    def _load(self):
        with self._lock:
            if self._model is not None:
                return
            from ..models import dtype_kwargs, require_model, resolve_dtype

            # a missing model fails here at once, naming how to get it (not after the hub's
            # retries)
            require_model("tagging", "tagging.clip_model", self.model_name)
            try:
                import torch  # noqa: F401
                import transformers
                from transformers import AutoConfig, AutoProcessor
            except ImportError as exc:
                raise BackendUnavailable(
                    f"the CLIP tagger needs torch and transformers ({exc}); install them with `{_INSTALL_HINT}`"
                ) from exc
            try:
                config = AutoConfig.from_pretrained(self.model_name)
            except Exception as exc:  # a bad config, or the hub failing mid-download
                raise BackendUnavailable(
                    f"cannot load the CLIP model {self.model_name!r}: {exc}. Give a local folder saved with "
                    "save_pretrained, or a hub id while online (it is cached for offline use)"
                ) from exc
            self._chinese = config.model_type == "chinese_clip"
            model_cls = transformers.ChineseCLIPModel if self._chinese else transformers.CLIPModel
            self._dtype = resolve_dtype(self.precision, self.device)
            model = model_cls.from_pretrained(self.model_name, **dtype_kwargs(self._dtype)).to(self.device).eval()
            self._processor = AutoProcessor.from_pretrained(self.model_name)
            self._model = model
            self._text = self._encode_prompts()

    def prompts(self) -> list[tuple[str, str]]:
        """(tag id, prompt) pairs the text side encodes, in the model's language: the
        vocabulary's ``clip_zh`` prompts for Chinese-CLIP, its English ``clip`` prompts
        otherwise (loads the model to know which it is)."""
        self._load()
        return self._prompts()

    def _prompts(self) -> list[tuple[str, str]]:
        out = []
        for t in self.vocab.tags:
            texts = (t.clip_zh or t.clip) if self._chinese else (t.clip or (f"a photo of {t.en}",))
            out.extend((t.id, text) for text in texts)
        return out

    def _encode_prompts(self) -> np.ndarray:
        import torch

        index = {t.id: k for k, t in enumerate(self.vocab.tags)}
        pairs = self._prompts()
        prompts = [text for _, text in pairs]
        owner = [index[tag] for tag, _ in pairs]
        tok = self._processor.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            emb = self._model.get_text_features(**{k: v.to(self.device) for k, v in tok.items()})
        emb = _as_tensor(emb)
        emb = torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy()
        owner = np.asarray(owner)
        out = np.stack([emb[owner == k].mean(axis=0) for k in range(len(self.vocab))])
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-8)

    # -- the contract -------------------------------------------------------------------
    def image_embeddings(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(N, dim) L2-normalised image embeddings."""
        import torch

        self._load()
        out = []
        for i in range(0, len(images), self.batch_size):
            batch = [im.convert("RGB") for im in images[i : i + self.batch_size]]
            pixels = self._processor.image_processor(images=batch, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                emb = _as_tensor(self._model.get_image_features(
                    pixel_values=pixels.to(self.device, dtype=self._dtype)))
            out.append(torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy())
        return np.concatenate(out)

    def scores(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(N, tags) per-tag scores in 0..1 (see the module docstring)."""
        self._load()
        sims = self.image_embeddings(images) @ self._text.T
        scale = float(self._model.logit_scale.exp().item())
        logits = sims * scale / max(self.temperature, 1e-6)
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        prior = self.prior_factor / probs.shape[1]
        return probs / (probs + prior)

    def tag(
        self,
        images: Sequence[Image.Image],
        *,
        faces: Sequence[list[Box]] | None = None,
        taken_at: Sequence[datetime | None] | None = None,
        sun: Sequence[float | None] | None = None,
    ) -> list[TagList]:
        """One list of fact tags per image, best first (at most ``max_tags``), its
        ``suggestions`` the tags below ``fact_score`` (see the module docstring). CLIP sees
        people and light in the pixels itself (``faces`` is accepted for the shared
        contract); the capture time (``taken_at``, local, and ``sun``, the sun's elevation)
        tells it what pixels cannot: no night or stars while the sun is up, no sunset at
        midday unless the frame's colour shows one (:func:`~creator.understanding.lite.time_gate`)."""
        images = list(images)
        for i, im in enumerate(images):
            if not isinstance(im, Image.Image):
                raise InputError(f"images[{i}]: expected a PIL image, got {type(im).__name__}")
        for name, given in (("taken_at", taken_at), ("sun", sun)):
            if given is not None and len(given) != len(images):
                raise InputError(f"{name}: {len(given)} values for {len(images)} images")
        if not images:
            return []
        rows = self.scores(images)
        for k, im in enumerate(images):
            rows[k] = self._timed(rows[k], im, taken_at[k] if taken_at is not None else None,
                                  sun[k] if sun is not None else None)
        return [self.decide(row, visible_content(im)) for row, im in zip(rows, images)]

    def _timed(self, row: np.ndarray, image: Image.Image, taken_at: datetime | None,
               sun: float | None) -> np.ndarray:
        """One image's scores with what its capture time rules out capped."""
        when = daylight(taken_at, sun)
        if not (when.sun_up or when.midday):
            return row
        ids = [t.id for t in self.vocab.tags]
        glow = colour_evidence(image).get("sunset", 0.0) if when.midday else 0.0
        gated = time_gate({tid: (float(row[k]), "clip") for k, tid in enumerate(ids)}, glow, when)
        return np.array([gated[tid][0] for tid in ids], dtype=row.dtype)

    def decide(self, row: np.ndarray, visible: bool = True) -> TagList:
        """Facts and suggestions from one image's (tags,) :meth:`scores`."""
        order = sorted(range(len(row)), key=lambda k: (-float(row[k]), self.vocab.tags[k].id))
        ranked = [self.vocab.tags[k].make(float(row[k]), "clip") for k in order[: 2 * self.max_tags + 1]]
        facts = [t for t in ranked if t.score >= self.fact_score] if visible else []  # nothing to see
        if not facts and visible and ranked and ranked[0].score > 0.0:
            facts = ranked[:1]  # a photo that shows something keeps its best guess
        kept = {t.id for t in facts}
        out = TagList(facts[: self.max_tags])
        out.suggestions = [t for t in ranked if t.id not in kept and t.score >= self.min_score][: self.max_tags]
        return out


def _as_tensor(x):
    """``get_*_features`` return a tensor in most transformers versions, a model output in some."""
    if hasattr(x, "pooler_output") and not hasattr(x, "shape"):
        return x.pooler_output
    return x
