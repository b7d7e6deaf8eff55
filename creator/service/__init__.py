"""The Assistant as a service: an HTTP API over the SDK (``creator serve``).

``creator.service.app.create_app(settings)`` is the FastAPI app (bodies and responses
are the SDK's own pydantic types); ``creator.service.ray_serve`` deploys the same app
with Ray Serve, one deployment per heavy stage. FastAPI, uvicorn and Ray are imported
only inside those modules: they come with ``pip install '.[distributed]'``.
"""

from __future__ import annotations

import importlib.util
import ipaddress

from ..distributed import EXTRA_HINT
from ..errors import BackendUnavailable

__all__ = ["require_extra", "EXTRA_HINT", "is_loopback", "bare_host"]


def bare_host(host: str) -> str:
    """``host`` as an address to bind: an IPv6 address without its URL brackets
    ("[::1]" → "::1", which uvicorn and Ray can bind)."""
    host = host.strip()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this computer only: ``localhost`` or any loopback address
    (127.0.0.0/8, ::1; brackets allowed). The one rule of ``creator serve``'s warning
    (creator.service.cli.bind_warning) and of the app's Host/Origin guard."""
    host = bare_host(host).lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_extra(*modules: str, what: str = "the HTTP API") -> None:
    """BackendUnavailable naming the extra when one of ``modules`` is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise BackendUnavailable(f"{what} needs {', '.join(missing)}, which is not installed: {EXTRA_HINT}")
