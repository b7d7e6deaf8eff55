"""The caption stage: NoteContext → n drafts of a travel note (title, body, hashtags).

The template composer always drafts (it is the default backend and the fallback); an
LLM backend, when configured, drafts from the same facts, and its reply is parsed,
validated (limits, language, grounding), repaired and retried before the template
draft is used instead, with a note saying so.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from creator.config import CaptionSettings
from creator.errors import InputError
from creator.resources import load_prompt
from creator.types import Caption, NoteContext

from .checks import caption_problems, parse_reply, repair
from .llm import ChatBackend, ChatError, build_messages, make_backend, retry_message
from .template import compose, keyword_sentence, load_style, style_names

__all__ = ["CaptionRequest", "CaptionOutput", "LLMAttempt", "Pipeline"]


class CaptionRequest(BaseModel):
    """What to draft.

    ``language``, ``style`` and ``emoji`` default to the settings; ``hints`` are the
    user's own words (quoted when in the draft's language, and allowed as facts);
    ``keywords`` must appear in every draft; ``tone`` picks the closing line (warm,
    calm, playful, excited, or the Chinese names) and is passed to an LLM as is.
    """

    model_config = ConfigDict(extra="forbid")

    context: NoteContext
    language: Literal["zh", "en"] | None = None
    style: str | None = None
    n: int = Field(1, ge=1, le=10)
    seed: int = 0
    hints: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    tone: str | None = None
    emoji: bool | None = None

    @field_validator("hints", "keywords", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v


class LLMAttempt(BaseModel):
    """One LLM generation: its raw reply and what was wrong with it (empty: accepted)."""

    draft: int
    attempt: int
    backend: str
    reply: str
    problems: list[str] = Field(default_factory=list)


class CaptionOutput(BaseModel):
    captions: list[Caption]
    attempts: list[LLMAttempt] = Field(default_factory=list)  # LLM backends only


class Pipeline:
    """``Pipeline(settings)(CaptionRequest(context=...)) -> CaptionOutput``.

    ``backend`` (any :class:`~pipelines.caption.llm.ChatBackend`) overrides the one the
    settings name; tests and apps inject theirs this way.
    """

    def __init__(self, settings: CaptionSettings | None = None, *, backend: ChatBackend | None = None):
        self.settings = settings or CaptionSettings()
        self._backend = backend

    @property
    def backend(self) -> ChatBackend | None:
        if self._backend is None and self.settings.backend != "template":
            self._backend = make_backend(self.settings)
        return self._backend

    def __call__(self, request: CaptionRequest) -> CaptionOutput:
        s = self.settings

        # 1. check the request and fill defaults from the settings
        lang = request.language or s.language
        emoji = s.emoji if request.emoji is None else request.emoji
        try:
            style, _ = load_style(request.style or s.style)
        except KeyError:
            raise InputError(f"style: unknown style {request.style or s.style!r}; "
                             f"choose one of {', '.join(style_names())}") from None
        keywords = [k.strip() for k in request.keywords if k and k.strip()]
        if any(len(k) > 40 for k in keywords):
            raise InputError("keywords: each keyword must be at most 40 characters")
        hints = [h.strip() for h in request.hints if h and h.strip()]

        # 2. template drafts: always made (the lite backend, and the fallback of the others)
        templates = self._template_drafts(request, lang, style, emoji, hints, keywords)

        # 3. LLM drafts, each validated against the same facts, else the template draft
        backend = self.backend
        if backend is None:
            return CaptionOutput(captions=templates)
        captions, attempts = [], []
        for i, fallback in enumerate(templates):
            caption, tries = self._llm_draft(backend, request, i, lang, style, hints, keywords, fallback)
            captions.append(caption)
            attempts += tries
        return CaptionOutput(captions=captions, attempts=attempts)

    # --- steps ---------------------------------------------------------------------------

    def _template_drafts(self, request, lang, style, emoji, hints, keywords) -> list[Caption]:
        """``n`` template drafts; draft i uses its own generator so drafts differ and repeat."""
        drafts: list[Caption] = []
        for i in range(request.n):
            for reroll in range(20):  # a collision with an earlier draft: draw again
                rng = random.Random(f"caption:{request.seed}:{i}:{reroll}")
                c = compose(request.context, lang=lang, style=style, rng=rng, emoji=emoji,
                            hints=hints, keywords=keywords, tone=request.tone)
                # the drafts differ in text, and in title too while other titles can be had
                if all(c.text() != d.text() and (reroll >= 12 or c.title != d.title) for d in drafts):
                    break
            drafts.append(c)
        return drafts

    def _llm_draft(self, backend, request, i, lang, style, hints, keywords, fallback):
        s = self.settings
        messages = build_messages(request.context, lang=lang, style=style, hints=hints,
                                  keywords=keywords, tone=request.tone)
        bank = load_prompt(f"caption/{lang}.yaml")
        attempts: list[LLMAttempt] = []
        for attempt in range(s.retries + 1):
            seed = request.seed * 1000 + i * 10 + attempt
            try:
                reply = backend.chat(messages, seed=seed, temperature=s.temperature,
                                     max_new_tokens=s.max_new_tokens)
            except ChatError as e:
                attempts.append(LLMAttempt(draft=i, attempt=attempt, backend=backend.name, reply="",
                                           problems=[str(e)]))
                continue
            try:
                parsed = parse_reply(reply)
            except ValueError as e:
                problems = [f"unparsable reply: {e}"]
            else:
                draft = Caption(title=parsed["title"], body=parsed["body"], hashtags=parsed["hashtags"],
                                language=lang, style=style, backend=backend.name)
                missing = [k for k in keywords if k.lower() not in (draft.title + draft.body).lower()]
                line = keyword_sentence(bank, missing) if missing else None
                draft = repair(draft, fallback, keywords_line=line)
                problems = caption_problems(draft, request.context, hints=hints, keywords=keywords)
                if not problems:
                    attempts.append(LLMAttempt(draft=i, attempt=attempt, backend=backend.name, reply=reply))
                    return draft, attempts
            attempts.append(LLMAttempt(draft=i, attempt=attempt, backend=backend.name, reply=reply,
                                       problems=problems))
            # show the model its own answer and what was wrong, then ask again
            messages = messages[:2] + [{"role": "assistant", "content": reply[:2000]},
                                       retry_message(lang, problems[:5])]
        last = attempts[-1].problems[:3] if attempts else []
        note = (f"{backend.name} gave no usable draft in {len(attempts)} attempt(s) "
                f"({'; '.join(last)}); the template draft is shown instead")
        return fallback.model_copy(update={
            "backend": f"template (fallback: {backend.name})",
            "notes": fallback.notes + [note],
        }), attempts
