"""Text-to-image (and img2img) covers with diffusers.

In: a NoteContext and a style → a prompt and negative prompt built from the templates
in prompts/cover/diffusion.yaml (top tags, place, season, light, style). The
:class:`DiffusionBackend` loads ``AutoPipelineForText2Image.from_pretrained`` from a hub
id or a local folder (``CoverSettings.diffusion_model``), picks steps and guidance for
its model family, and turns (prompt, seed, size) into a PIL image; with an init image
it runs ``AutoPipelineForImage2Image`` over the same components.

torch and diffusers are imported only when a backend is created.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from creator.errors import BackendUnavailable, ConfigError, InputError
from creator.resources import load_prompt
from creator.types import NoteContext
from creator.understanding.moments import trip_time_of_day
from pipelines.caption.template import stated_top_tags

__all__ = ["Family", "family_for", "generation_size", "build_prompt", "DiffusionBackend"]

_INSTALL = "install the full extra: `pip install travel-note-creator[full]`"


@dataclass(frozen=True)
class Family:
    """Settings of a model family (see prompts/cover/diffusion.yaml)."""

    name: str
    steps: int
    guidance: float
    size: int
    img2img_steps: int
    img2img_strength: float
    negative: bool


def family_for(model: str) -> Family:
    """The family of a model id or folder: the first whose ``match`` is in its name."""
    spec = load_prompt("cover/diffusion.yaml")
    name = str(model).lower()
    families = spec["families"]
    chosen = next((f for f in families if any(m in name for m in f.get("match", []))), None)
    if chosen is None:
        chosen = next((f for f in families if f["name"] == spec["default_family"]), None)
    if chosen is None:
        raise ConfigError(f"default_family {spec['default_family']!r} is not defined in diffusion.yaml")
    i2i = chosen.get("img2img", {})
    return Family(name=chosen["name"], steps=int(chosen["steps"]), guidance=float(chosen["guidance"]),
                  size=int(chosen["size"]), img2img_steps=int(i2i.get("steps", chosen["steps"])),
                  img2img_strength=float(i2i.get("strength", 0.5)), negative=bool(chosen.get("negative", True)))


def generation_size(size: int, ratio: float, multiple: int = 16) -> tuple[int, int]:
    """(width, height) with about ``size``² pixels in ``ratio``, multiples of ``multiple``."""
    w = size * math.sqrt(ratio)
    h = size / math.sqrt(ratio)
    return (max(multiple, int(round(w / multiple)) * multiple), max(multiple, int(round(h / multiple)) * multiple))


def build_prompt(context: NoteContext, style: str) -> tuple[str, str]:
    """(prompt, negative prompt) for a cover of ``context`` in ``style`` (English: the
    text encoders of the common checkpoints read English)."""
    from creator.vocabulary import vocabulary

    spec = load_prompt("cover/diffusion.yaml")
    p = spec["prompt"]
    vocab = vocabulary()
    subjects = []
    # what the caption may state: a weak tag (an airplane half-seen over a lake) is not painted
    for tag in stated_top_tags(context)[: int(p.get("subject_tags", 3))]:
        phrase = spec.get("tags", {}).get(tag.id)
        if phrase is None:
            phrase = vocab[tag.id].en if tag.id in vocab else tag.label_en
        subjects.append(phrase)
    place = context.places[0].name_en if context.places else None
    parts = {
        "subject": ", ".join(subjects) or p["fallback_subject"],
        "place": p["place"].format(place=place) if place else "",
        "season": spec.get("seasons", {}).get(context.season or "", ""),
        "light": spec.get("light", {}).get(trip_time_of_day(context) or "", ""),  # the caption's time of day
        "style": spec.get("styles", {}).get(style, ""),
        "quality": p.get("quality", ""),
    }
    prompt = ", ".join(parts[k] for k in p["order"] if parts.get(k))
    return prompt, spec["negative"]


class DiffusionBackend:
    """A diffusers text-to-image model, loaded once on first use.

    ``model`` is a hub id or a folder written by ``save_pretrained``; ``device`` "auto"
    (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps"; ``precision`` "auto"
    (float16 on a GPU, float32 on the CPU) or a forced "float32", "float16", "bfloat16".
    """

    def __init__(self, model: str, device: str = "auto", *, precision: str = "auto") -> None:
        for module in ("torch", "diffusers", "transformers"):
            if importlib.util.find_spec(module) is None:
                raise BackendUnavailable(f"text-to-image covers need {module!r}: {_INSTALL}")
        from creator.models import resolve_device

        self.model = str(model)
        self.device = resolve_device(device)
        self.precision = precision
        self.family = family_for(self.model)
        self._pipe = None
        self._img2img = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._pipe is None:
                from diffusers import AutoPipelineForText2Image

                from creator.models import dtype_kwargs, require_model, resolve_dtype

                # what is missing, said at once: not in the cache and the hub off or unreachable,
                # a folder without model_index.json... and `creator models pull cover` to get it
                require_model("cover", "cover.diffusion_model", self.model)
                local = Path(self.model).expanduser()
                source = str(local) if local.exists() else self.model
                dtype = resolve_dtype(self.precision, self.device)
                try:
                    pipe = AutoPipelineForText2Image.from_pretrained(source, **dtype_kwargs(dtype, "diffusers"))
                except (OSError, ValueError) as e:  # a damaged folder or a download that failed
                    raise BackendUnavailable(
                        f"cannot load the text-to-image model {self.model!r} ({e.__class__.__name__}: "
                        f"{str(e).splitlines()[0][:200]}); check the folder set in cover.diffusion_model, "
                        "or fetch the model again with `creator models pull cover`") from e
                pipe = pipe.to(self.device)
                pipe.set_progress_bar_config(disable=True)
                self._pipe = pipe
            return self._pipe

    def _load_img2img(self):
        pipe = self._load()
        with self._lock:
            if self._img2img is None:
                from diffusers import AutoPipelineForImage2Image

                self._img2img = AutoPipelineForImage2Image.from_pipe(pipe)
                self._img2img.set_progress_bar_config(disable=True)
            return self._img2img

    def generate(self, prompt: str, negative: str | None = None, *, seed: int, width: int, height: int,
                 steps: int | None = None, guidance: float | None = None,
                 init_image: Image.Image | None = None, strength: float | None = None) -> Image.Image:
        """One RGB image of ``width`` × ``height`` for ``prompt``; the same seed gives the
        same image. With ``init_image`` it is an img2img run from that picture."""
        import torch

        if width % 8 or height % 8:
            raise InputError(f"width and height must be multiples of 8, got {width}x{height}")
        fam = self.family
        guidance = fam.guidance if guidance is None else guidance
        kwargs = dict(prompt=prompt, guidance_scale=guidance, output_type="pil",
                      # a CPU generator gives the same noise on every device
                      generator=torch.Generator("cpu").manual_seed(int(seed)))
        if negative and fam.negative and guidance > 1:
            kwargs["negative_prompt"] = negative
        with torch.inference_mode():
            if init_image is None:
                pipe = self._load()
                result = pipe(num_inference_steps=steps or fam.steps, width=width, height=height, **kwargs)
            else:
                pipe = self._load_img2img()
                strength = fam.img2img_strength if strength is None else strength
                n = steps or fam.img2img_steps
                n = max(n, math.ceil(1 / max(strength, 1e-3)))  # at least one denoising step
                init = init_image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
                result = pipe(image=init, num_inference_steps=n, strength=strength, **kwargs)
        return result.images[0].convert("RGB")
