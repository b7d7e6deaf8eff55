"""The models the full profile uses: which, where they are, the check before loading, device.

Every full-profile stage names one model in the settings (``tagging.clip_model``,
``music.clap_model``, ``caption.model`` (+ ``gguf_file``), ``cover.diffusion_model``),
each a local folder or a Hugging Face hub id. :func:`configured_models` lists those the
settings actually use; :func:`locate` says where one is — a local folder, the Hugging
Face cache, the hub (reachable now), or missing and why — in milliseconds for the first
two and with a short timeout for the hub (skipped when ``HF_HUB_OFFLINE=1``);
:func:`check_models` raises one :class:`~creator.errors.BackendUnavailable` that names
every missing model and how to get it. The loaders call :func:`require_model` for their
own model, so a missing one fails at once instead of after the hub's retries.

:func:`resolve_device` and :func:`resolve_dtype` turn ``device: auto`` and
``precision: auto`` into what torch needs (CUDA, then MPS, then the CPU; float16 on a
GPU, float32 on the CPU).

Nothing here imports torch or transformers at module level; ``huggingface_hub`` is
imported inside the functions that need it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import BackendUnavailable, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

__all__ = [
    "STAGES",
    "ModelRef",
    "ModelStatus",
    "configured_models",
    "locate",
    "check_models",
    "require_model",
    "missing_message",
    "hub_offline",
    "resolve_device",
    "resolve_dtype",
    "dtype_kwargs",
]

#: The stages that can use a model, in the order they run.
STAGES = ("tagging", "music", "caption", "cover")

#: Seconds the hub gets to answer whether a model that is not here exists there.
HUB_TIMEOUT = 1.5

_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".msgpack", ".h5")


@dataclass(frozen=True)
class ModelRef:
    """One model a stage is configured to use."""

    stage: str  # one of STAGES
    setting: str  # the setting that names it, e.g. "tagging.clip_model"
    model: str  # a hub id or a local folder
    gguf_file: str | None = None  # caption only: a GGUF file in the repo/folder, or a path

    @property
    def key_file(self) -> str:
        """The file whose presence says the model is there."""
        if self.gguf_file:
            return Path(self.gguf_file).name
        return "model_index.json" if self.stage == "cover" else "config.json"

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return "CREATOR_" + self.setting.upper().replace(".", "__")

    def label(self) -> str:
        return f"{self.model} / {self.gguf_file}" if self.gguf_file else self.model


State = Literal["local", "cached", "hub", "missing"]


@dataclass(frozen=True)
class ModelStatus:
    """Where a model is: ``local`` folder or file, ``cached`` in the Hugging Face cache,
    on the ``hub`` (reachable, would be downloaded at load), or ``missing`` (``reason``)."""

    ref: ModelRef
    state: State
    path: Path | None = None  # the folder (or GGUF file) to load from when local or cached
    size: int | None = None  # bytes on disk when local or cached
    reason: str | None = None

    @property
    def present(self) -> bool:
        """On this machine (no network needed to load it)."""
        return self.state in ("local", "cached")

    @property
    def usable(self) -> bool:
        return self.state != "missing"


def configured_models(settings: "Settings", stages: Iterable[str] | None = None) -> list[ModelRef]:
    """The models ``settings`` use, for ``stages`` (default: all), in stage order.

    A section whose backend needs no model (lite tagging and music, template or
    OpenAI-compatible captions, photo covers) contributes nothing.
    """
    wanted = set(STAGES if stages is None else stages)
    unknown = wanted - set(STAGES)
    if unknown:
        raise ConfigError(f"stage: unknown {', '.join(sorted(unknown))} (choose from {', '.join(STAGES)})")
    refs = []
    if "tagging" in wanted and settings.tagging.backend == "clip":
        refs.append(ModelRef("tagging", "tagging.clip_model", settings.tagging.clip_model))
    if "music" in wanted and settings.music.backend == "clap":
        refs.append(ModelRef("music", "music.clap_model", settings.music.clap_model))
    if "caption" in wanted and settings.caption.backend == "transformers":
        refs.append(ModelRef("caption", "caption.model", settings.caption.model, settings.caption.gguf_file))
    if "cover" in wanted and settings.cover.backend == "diffusion":
        refs.append(ModelRef("cover", "cover.diffusion_model", settings.cover.diffusion_model))
    return refs


# --- where a model is -----------------------------------------------------------------------

def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set: never ask the hub."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "on", "yes", "true"):
            return True
    return False


def _hub_cache() -> Path:
    from huggingface_hub import constants

    # read at call time: HF_HUB_CACHE / HF_HOME may be set after huggingface_hub was imported
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def _size(path: Path) -> int:
    """Bytes under ``path`` (symlinks in a cache snapshot counted at their target)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size
            except OSError:
                pass
    return total


def _has_weights(folder: Path) -> bool:
    for _, _, files in os.walk(folder):
        if any(f.endswith(_WEIGHTS) for f in files):
            return True
    return False


def _is_repo_id(name: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if name.startswith(("/", "./", "../", "~")) or "\\" in name or name.count("/") > 1:
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _folder_status(ref: ModelRef, folder: Path, state: State) -> ModelStatus:
    if ref.gguf_file:
        gguf = folder / ref.gguf_file
        if not gguf.is_file():
            return ModelStatus(ref, "missing", reason=f"no {ref.gguf_file} in {folder}")
        return ModelStatus(ref, state, gguf, _size(gguf))
    if not (folder / ref.key_file).is_file():
        return ModelStatus(ref, "missing", reason=f"{folder} has no {ref.key_file} (not a folder saved "
                                                  "with save_pretrained)")
    if not _has_weights(folder):
        return ModelStatus(ref, "missing", reason=f"{folder} has a {ref.key_file} but no weights "
                                                  "(an interrupted download?)")
    return ModelStatus(ref, state, folder, _size(folder))


def _local(ref: ModelRef) -> ModelStatus | None:
    """The status when the model (or its GGUF file) is a path on this machine; None for a hub id."""
    if ref.gguf_file and Path(ref.gguf_file).expanduser().is_absolute():
        gguf = Path(ref.gguf_file).expanduser()
        if gguf.is_file():
            return ModelStatus(ref, "local", gguf, _size(gguf))
        return ModelStatus(ref, "missing", reason=f"no such file {gguf}")
    path = Path(ref.model).expanduser()
    if path.is_dir():
        return _folder_status(ref, path, "local")
    if path.exists():
        return ModelStatus(ref, "missing", reason=f"{path} is a file, not a model folder")
    if not _is_repo_id(ref.model):
        return ModelStatus(ref, "missing", reason=f"no such folder {path}")
    return None


def _cached(ref: ModelRef, cache_dir: Path | None = None) -> ModelStatus | None:
    """The status from the Hugging Face cache, or None when it is not there."""
    from huggingface_hub import try_to_load_from_cache

    cache = Path(cache_dir) if cache_dir else _hub_cache()
    found = try_to_load_from_cache(ref.model, ref.key_file if not ref.gguf_file else ref.gguf_file,
                                   cache_dir=str(cache))
    if not isinstance(found, str):
        return None
    snapshot = Path(found).parent
    if ref.gguf_file:  # the GGUF may sit in a subfolder of the snapshot
        snapshot = Path(found)
        while snapshot.parent.name != "snapshots" and snapshot.parent != snapshot:
            snapshot = snapshot.parent
    return _folder_status(ref, snapshot, "cached")


def _hub(ref: ModelRef) -> ModelStatus:
    """Ask the hub (quickly) whether the model exists there."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        HfApi().model_info(ref.model, timeout=HUB_TIMEOUT)
    except GatedRepoError:
        return ModelStatus(ref, "missing", reason="gated on the hub: accept its licence on huggingface.co and "
                                                  "log in (`hf auth login`)")
    except RepositoryNotFoundError:
        return ModelStatus(ref, "missing", reason="no such model on the Hugging Face hub")
    except Exception as e:  # noqa: BLE001 - no network, DNS, timeout, proxy: all "unreachable"
        first = (str(e).splitlines() or [type(e).__name__])[0][:120]
        return ModelStatus(ref, "missing", reason=f"not in the Hugging Face cache ({_hub_cache()}) and the hub "
                                                  f"is not reachable ({type(e).__name__}: {first})")
    return ModelStatus(ref, "hub")


def locate(ref: ModelRef, *, hub: bool = True, cache_dir: Path | None = None) -> ModelStatus:
    """Where ``ref`` is. ``hub=False`` (or ``HF_HUB_OFFLINE=1``) never asks the hub."""
    status = _local(ref)
    if status is not None:
        return status
    status = _cached(ref, cache_dir)
    if status is not None:
        return status
    if not hub or hub_offline():
        return ModelStatus(ref, "missing", reason=f"not in the Hugging Face cache ({cache_dir or _hub_cache()}) "
                                                  "and the hub is off (HF_HUB_OFFLINE=1)")
    return _hub(ref)


def locate_all(refs: Sequence[ModelRef], *, hub: bool = True) -> list[ModelStatus]:
    """:func:`locate` for each, the hub questions asked in parallel (one timeout in all)."""
    first = [(_local(r) or _cached(r)) for r in refs]
    ask = [i for i, s in enumerate(first) if s is None]
    if ask and (not hub or hub_offline()):
        for i in ask:
            first[i] = locate(refs[i], hub=False)
    elif ask:
        with ThreadPoolExecutor(max_workers=len(ask)) as pool:
            for i, status in zip(ask, pool.map(lambda r: _hub(r), [refs[i] for i in ask])):
                first[i] = status
    return list(first)


# --- the check ---------------------------------------------------------------------------------

def missing_message(missing: Sequence[ModelStatus]) -> str:
    """One message naming every missing model, why, and how to get them."""
    n = len(missing)
    lines = [f"{n} model{'s' if n != 1 else ''} of the full profile "
             f"{'are' if n != 1 else 'is'} not available:"]
    for s in missing:
        lines.append(f"  - {s.ref.stage}: {s.ref.label()} ({s.ref.setting}): {s.reason}")
    hub_ids = [s for s in missing if _is_repo_id(s.ref.model)]
    stages = " ".join(dict.fromkeys(s.ref.stage for s in hub_ids))  # what `pull` can fetch
    how = []
    if hub_ids:
        how.append(f"download {'them' if len(hub_ids) > 1 else 'it'} while online with "
                   f"`creator models pull {stages}` (into the Hugging Face cache; `--dir FOLDER` for a folder)")
    how.append("or point each setting at a local folder saved with save_pretrained, e.g. "
               f"{missing[0].ref.env}=/path/to/model")
    how.append("or use the lite profile, or set that stage back to its lite backend "
               "(e.g. CREATOR_TAGGING__BACKEND=lite)")
    lines.append("Get them: " + "; ".join(how) + ".")
    return "\n".join(lines)


_OK_LOCK = threading.Lock()
# found present in this process, per Hugging Face cache folder (a missing one is looked for again)
_OK: dict[tuple[ModelRef, str], ModelStatus] = {}


def _remembered(ref: ModelRef) -> ModelStatus | None:
    key = (ref, str(_hub_cache()))
    with _OK_LOCK:
        status = _OK.get(key)
    if status is not None and status.path is not None and status.path.exists():
        return status
    return None


def _remember(status: ModelStatus) -> None:
    if status.present:
        with _OK_LOCK:
            _OK[(status.ref, str(_hub_cache()))] = status


def check_models(settings: "Settings", stages: Iterable[str] | None = None, *, hub: bool = True
                 ) -> list[ModelStatus]:
    """Every model ``settings`` use for ``stages`` (default: all), located at once.

    Raises BackendUnavailable naming all that are missing (see :func:`missing_message`);
    returns their statuses otherwise. Offline this takes milliseconds.
    """
    refs = configured_models(settings, stages)
    known = {r: _remembered(r) for r in refs}
    todo = [r for r in refs if known[r] is None]
    statuses = {s.ref: s for s in locate_all(todo, hub=hub)}
    missing = [statuses[r] for r in todo if not statuses[r].usable]
    for status in statuses.values():
        _remember(status)
    if missing:
        raise BackendUnavailable(missing_message(missing))
    return [known[r] or statuses[r] for r in refs]


def require_model(stage: str, setting: str, model: str, gguf_file: str | None = None) -> ModelStatus:
    """The check a loader makes for its own model just before ``from_pretrained``."""
    ref = ModelRef(stage, setting, str(model), gguf_file)
    status = _remembered(ref) or locate_all([ref])[0]
    if not status.usable:
        raise BackendUnavailable(missing_message([status]))
    _remember(status)
    return status


# --- device and precision ------------------------------------------------------------------------

def resolve_device(device: str | None = "auto") -> str:
    """``auto`` → ``cuda`` when torch sees a CUDA GPU, else ``mps`` (Apple), else ``cpu``;
    any other value is returned as given (a forced device)."""
    device = (device or "auto").strip()
    if device.lower() != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(precision: str | None, device: str, *, prefer_bf16: bool = False):
    """The torch dtype for ``precision`` on ``device``: ``auto`` is half precision on CUDA
    and MPS (half the memory, the GPUs' fast path) and float32 on the CPU; ``float32``,
    ``float16`` and ``bfloat16`` force that dtype. ``prefer_bf16`` (models trained in
    bfloat16, such as the caption LLM, whose activations can overflow float16) takes
    bfloat16 on a CUDA GPU that supports it."""
    import torch

    precision = (precision or "auto").lower()
    if precision == "auto":
        device = str(device)
        if device.startswith("cuda"):
            bf16 = prefer_bf16 and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
            return torch.bfloat16 if bf16 else torch.float16
        return torch.float16 if device.startswith("mps") else torch.float32
    table = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if precision not in table:
        raise ConfigError(f"precision: {precision!r} is not one of auto, float32, float16, bfloat16")
    return table[precision]


def dtype_kwargs(dtype, library: str = "transformers") -> dict:
    """``from_pretrained`` keyword for ``dtype``: ``dtype=`` in transformers >= 4.56 and
    diffusers >= 0.36, ``torch_dtype=`` before (both renamed it)."""
    import importlib.metadata

    first = (4, 56) if library == "transformers" else (0, 36)
    try:
        version = tuple(int(x) for x in importlib.metadata.version(library).split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        version = first
    return {"dtype": dtype} if version >= first else {"torch_dtype": dtype}
