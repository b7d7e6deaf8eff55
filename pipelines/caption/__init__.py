"""Caption stage: a travel-note draft (title, body, hashtags) in zh or en, grounded in the media.

>>> from pipelines.caption import Pipeline, CaptionRequest
>>> out = Pipeline()(CaptionRequest(context=context, language="en", n=3))  # doctest: +SKIP
>>> print(out.captions[0].text())  # doctest: +SKIP
"""

from .checks import (BODY_MAX, HASHTAGS_MAX, HASHTAGS_MIN, TITLE_MAX, caption_problems, grounding_problems,
                     mentioned_themes, parse_reply, repair, title_length)
from .llm import ChatBackend, ChatError, OpenAIChat, TransformersChat, build_messages, packaged_gguf
from .pipeline_caption import CaptionOutput, CaptionRequest, LLMAttempt, Pipeline
from .template import compose, style_names

__all__ = [
    "Pipeline",
    "CaptionRequest",
    "CaptionOutput",
    "LLMAttempt",
    "ChatBackend",
    "ChatError",
    "TransformersChat",
    "OpenAIChat",
    "build_messages",
    "packaged_gguf",
    "compose",
    "style_names",
    "title_length",
    "grounding_problems",
    "caption_problems",
    "mentioned_themes",
    "parse_reply",
    "repair",
    "TITLE_MAX",
    "BODY_MAX",
    "HASHTAGS_MIN",
    "HASHTAGS_MAX",
]
