"""``creator models list|pull|verify`` — the models of the full profile, explicitly.

- ``list``: what each stage is configured to use, whether it is here (a local folder or
  the Hugging Face cache), its size, and the device and precision it would run with.
- ``pull [STAGE...]``: download the configured hub models (progress bars, resumable) into
  the Hugging Face cache, or into ``--dir FOLDER`` (one plain folder per model, with the
  setting that points at it printed). Nothing else in the assistant ever downloads.
- ``verify [STAGE...]``: load each configured model and run one tiny forward through the
  same backend the stage uses.

The models are those of ``--profile`` (default: full) with the environment's overrides
(``CREATOR_TAGGING__CLIP_MODEL=...``), as every other command reads them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .errors import BackendUnavailable, CreatorError, InputError
from .models import STAGES, ModelRef, configured_models, locate_all

__all__ = ["add_models_parser", "run_models", "pull_patterns", "verify_model"]

# weight formats the transformers / diffusers loaders here never read
_NEVER = (".msgpack", ".h5", ".ot", ".onnx", ".onnx_data", ".tflite", ".mlmodel", ".pb")
_NEVER_DIRS = ("onnx/", "openvino/", "coreml/", "tf/", "flax/")


def add_models_parser(sub) -> None:
    p = sub.add_parser("models", help="the full profile's models: list, pull (download), verify")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    for name, text in (("list", "what each stage uses, whether it is here, its size"),
                       ("pull", "download the configured models (into the Hugging Face cache or --dir)"),
                       ("verify", "load each configured model and run one tiny forward")):
        q = msub.add_parser(name, help=text)
        if name != "list":
            q.add_argument("stages", nargs="*", metavar="STAGE",
                           help=f"some of {', '.join(STAGES)} (default: every stage that uses a model)")
        q.add_argument("--profile", choices=["lite", "full"], default="full",
                       help="whose models (default: full; the environment's CREATOR_... settings apply)")
        q.add_argument("--json", action="store_true", help="print JSON")
        if name == "list":
            q.add_argument("--offline", action="store_true", help="do not ask the hub about models not here")
        if name == "pull":
            q.add_argument("--dir", type=Path, default=None, metavar="FOLDER",
                           help="download into FOLDER/<name> instead of the Hugging Face cache")


def _settings(args):
    from .config import Settings

    return Settings.for_profile(args.profile)


def _configured(args, verb: str):
    """(settings, the models the asked-for stages use); says so on stderr when none."""
    settings = _settings(args)
    refs = configured_models(settings, _stages(args))
    if not refs:
        print(f"nothing to {verb}: no stage of the {args.profile} profile uses a model", file=sys.stderr)
    return settings, refs


def _stages(args) -> list[str] | None:
    stages = list(getattr(args, "stages", None) or [])
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise InputError(f"STAGE: unknown {', '.join(bad)} (choose from {', '.join(STAGES)})")
    return stages or None


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def _device_of(settings, stage: str) -> tuple[str, str]:
    """(device, dtype name) a stage would run with."""
    from .models import resolve_device, resolve_dtype

    section = getattr(settings, stage)
    device = resolve_device(section.device)
    try:
        dtype = str(resolve_dtype(section.precision, device)).replace("torch.", "")
    except ImportError:  # no torch: nothing would run
        dtype = "-"
    return device, dtype


def _backend_of(settings, stage: str) -> str:
    return getattr(settings, stage).backend


# --- list ---------------------------------------------------------------------------------------

def run_list(args) -> int:
    settings = _settings(args)
    refs = {r.stage: r for r in configured_models(settings)}
    statuses = {s.ref.stage: s for s in locate_all(list(refs.values()), hub=not args.offline)}
    rows = []
    for stage in STAGES:
        status = statuses.get(stage)
        row = {"stage": stage, "backend": _backend_of(settings, stage), "model": None, "setting": None,
               "state": "packaged", "path": None, "size": None, "reason": None}
        if status is not None:
            device, dtype = _device_of(settings, stage)
            row.update(model=status.ref.label(), setting=status.ref.setting, state=status.state,
                       path=str(status.path) if status.path else None, size=status.size, reason=status.reason,
                       device=device, dtype=dtype)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"models of the {args.profile} profile")
        for col in ("stage", "backend", "model", "here", "size", "device"):
            table.add_column(col)
        words = {"local": "[green]local folder[/green]", "cached": "[green]in the HF cache[/green]",
                 "hub": "[yellow]on the hub (not downloaded)[/yellow]", "packaged": "packaged"}
        for r in rows:
            here = words.get(r["state"]) or "[red]missing[/red]"
            device = f"{r['device']} {r['dtype']}" if r.get("device") else "-"
            table.add_row(r["stage"], r["backend"], r["model"] or "(ships with the package)", here,
                          _human(r["size"]), device)
        console = Console()
        console.print(table)
        for r in rows:
            if r["state"] == "missing":
                console.print(f"{r['stage']}: {r['model']} ({r['setting']}): {r['reason']}",
                              markup=False, soft_wrap=True)
        absent = [r["stage"] for r in rows if r["state"] in ("hub", "missing")]
        if absent:
            print(f"get them with: creator models pull {' '.join(absent)}"
                  + (" --profile lite" if args.profile == "lite" else ""))
    return 0 if all(r["state"] in ("local", "cached", "packaged") for r in rows) else 1


# --- pull ---------------------------------------------------------------------------------------

def pull_patterns(files: list[str], ref: ModelRef) -> list[str]:
    """The files of a hub repo that the stage's loader reads: configs, tokenizers and
    processors, and one copy of the weights (safetensors over .bin, full precision over
    the ``fp16`` variants, no TF/Flax/ONNX; a diffusers pipeline's weights only inside
    its component folders, not the single-file checkpoint beside them). A GGUF caption
    model gets only its GGUF file and the small files."""
    def weight(f: str) -> bool:
        return f.endswith((".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf"))

    keep = []
    for f in files:
        low = f.lower()
        if low.endswith(_NEVER) or low.startswith(_NEVER_DIRS) or "/." in "/" + f:
            continue
        if not weight(low):
            keep.append(f)
            continue
        folder = f.rsplit("/", 1)[0] if "/" in f else ""
        if ref.gguf_file:
            if f == ref.gguf_file or Path(f).name == Path(ref.gguf_file).name:
                keep.append(f)
            continue
        if low.endswith(".gguf"):
            continue
        if ref.stage == "cover" and not folder:
            continue  # the single-file checkpoint; from_pretrained reads the component folders
        if ".fp16." in low or ".non_ema." in low or ".ema." in low:
            continue
        if low.endswith(".bin") and any(g.startswith(folder) and g.endswith(".safetensors")
                                        and (g.rsplit("/", 1)[0] if "/" in g else "") == folder
                                        for g in files):
            continue
        if low.endswith((".ckpt", ".pt", ".pth")) and any(
                (g.rsplit("/", 1)[0] if "/" in g else "") == folder and g.endswith((".safetensors", ".bin"))
                for g in files):
            continue
        keep.append(f)
    return keep


def _pull_one(ref: ModelRef, target: Path | None) -> dict:
    from huggingface_hub import HfApi, snapshot_download

    info = HfApi().model_info(ref.model, files_metadata=True, timeout=20)
    sizes = {s.rfilename: (s.size or 0) for s in (info.siblings or [])}
    files = pull_patterns(sorted(sizes), ref)
    total = sum(sizes[f] for f in files)
    print(f"{ref.stage}: {ref.model} — {len(files)} files, {_human(total)}"
          + (f" → {target}" if target else " → the Hugging Face cache"), file=sys.stderr)
    kwargs = {"local_dir": str(target)} if target else {}
    path = snapshot_download(ref.model, allow_patterns=files, **kwargs)
    return {"stage": ref.stage, "model": ref.model, "path": str(path), "files": len(files), "size": total}


def run_pull(args) -> int:
    from .models import _is_repo_id, hub_offline

    settings, refs = _configured(args, "pull")
    if not refs:
        return 0
    if hub_offline():
        raise BackendUnavailable("HF_HUB_OFFLINE is set: unset it to download "
                                 f"({', '.join(r.model for r in refs)})")
    results, failed = [], 0
    for ref in refs:
        if not _is_repo_id(ref.model):
            status = locate_all([ref], hub=False)[0]
            word = "is a local folder" if status.present else f"is not a hub id and not here ({status.reason})"
            print(f"{ref.stage}: {ref.model} {word}; nothing to download", file=sys.stderr)
            failed += not status.present
            continue
        target = Path(args.dir).expanduser() / ref.model.split("/")[-1] if args.dir else None
        try:
            row = _pull_one(ref, target)
        except Exception as e:  # noqa: BLE001 - one model failing does not stop the others
            first = (str(e).splitlines() or [type(e).__name__])[0][:200]
            print(f"{ref.stage}: could not download {ref.model}: {type(e).__name__}: {first}", file=sys.stderr)
            failed += 1
            continue
        if target:
            row["setting"] = f"{ref.env}={target}"
            print(f"  use it with {ref.env}={target}", file=sys.stderr)
        results.append(row)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if failed else 0


# --- verify -------------------------------------------------------------------------------------

def verify_model(settings, stage: str) -> str:
    """Load the model ``stage`` is configured with, through the stage's own backend, and
    run one tiny forward; returns what came out (raises on failure)."""
    if stage == "tagging":
        from PIL import Image

        from .understanding.clip import ClipTagger

        t = settings.tagging
        tagger = ClipTagger(t.clip_model, t.device, precision=t.precision, min_score=0.0, max_tags=3,
                            fact_score=t.clip_fact_score)
        tags = tagger.tag([Image.new("RGB", (64, 64), (90, 140, 200))])[0]
        # the best three, facts or suggestions: this checks the model runs, not the photo
        top = sorted([*tags, *tags.suggestions], key=lambda x: -x.score)[:3]
        return f"{len(top)} tags ({', '.join(x.id for x in top)}) on {tagger.device}"
    if stage == "music":
        import numpy as np
        import torch

        from .music.embeddings import ClapEmbedder

        m = settings.music
        emb = ClapEmbedder(m.clap_model, device=m.device, precision=m.precision)
        text = emb.embed_query("calm piano by the lake")
        sr = emb.sampling_rate
        y = (0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)
        inputs = emb.processor(audio=[y], sampling_rate=sr, return_tensors="pt")
        inputs = {k: v.to(emb.device, dtype=emb.dtype) if v.is_floating_point() else v.to(emb.device)
                  for k, v in inputs.items()}
        with torch.no_grad():
            audio = emb._norm(emb.model.get_audio_features(**inputs))
        if not (np.isfinite(text).all() and np.isfinite(audio).all()):
            raise BackendUnavailable("the CLAP model returned non-finite embeddings")
        return f"text and audio embeddings of {text.shape[-1]} dims on {emb.device}"
    if stage == "caption":
        from pipelines.caption.llm import TransformersChat

        c = settings.caption
        chat = TransformersChat(c.model, gguf_file=c.gguf_file, device=c.device, precision=c.precision)
        reply = chat.chat([{"role": "user", "content": "Reply with OK."}], seed=0, temperature=0.0,
                          max_new_tokens=4)
        return f"generated {len(reply) - len(chat.PREFILL)} characters on {chat.device}"
    if stage == "cover":
        from pipelines.cover.diffusion import DiffusionBackend

        c = settings.cover
        backend = DiffusionBackend(c.diffusion_model, c.device, precision=c.precision)
        image = backend.generate("a lake at dawn", seed=0, width=64, height=64, steps=1)
        return f"a {image.width}x{image.height} image on {backend.device}"
    raise InputError(f"STAGE: unknown {stage!r}")


def run_verify(args) -> int:
    settings, refs = _configured(args, "verify")
    if not refs:
        return 0
    rows, failed = [], 0
    for ref in refs:
        t0 = time.perf_counter()
        try:
            what, ok = verify_model(settings, ref.stage), True
        except CreatorError as e:
            what, ok = str(e), False
        except Exception as e:  # noqa: BLE001 - a model that cannot run is a failed verification
            what, ok = f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}", False
        failed += not ok
        rows.append({"stage": ref.stage, "model": ref.label(), "ok": ok, "result": what,
                     "seconds": round(time.perf_counter() - t0, 2)})
        if not args.json:
            mark = "ok  " if ok else "FAIL"
            print(f"{mark} {ref.stage}: {ref.label()} — {what} ({rows[-1]['seconds']:.1f} s)")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 1 if failed else 0


_RUN: dict[str, Callable] = {"list": run_list, "pull": run_pull, "verify": run_verify}


def run_models(args) -> int:
    return _RUN[args.models_command](args)
