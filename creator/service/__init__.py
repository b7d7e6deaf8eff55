"""The Assistant as a service: an HTTP API over the SDK (``creator serve``).

``creator.service.app.create_app(settings)`` is the FastAPI app (bodies and responses
are the SDK's own pydantic types); ``creator.service.ray_serve`` deploys the same app
with Ray Serve, one deployment per heavy stage. FastAPI, uvicorn and Ray are imported
only inside those modules: they come with ``pip install '.[distributed]'``.
"""

from __future__ import annotations

import importlib.util

from ..distributed import EXTRA_HINT
from ..errors import BackendUnavailable

__all__ = ["require_extra", "EXTRA_HINT"]


def require_extra(*modules: str, what: str = "the HTTP API") -> None:
    """BackendUnavailable naming the extra when one of ``modules`` is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise BackendUnavailable(f"{what} needs {', '.join(missing)}, which is not installed: {EXTRA_HINT}")
