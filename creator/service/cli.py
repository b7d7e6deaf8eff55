"""``creator serve``: the Assistant as an HTTP API (uvicorn, or Ray Serve with ``--ray``).

Wired into creator/cli.py as ``add_serve_parser(subparsers)`` / ``run_serve(args)``;
FastAPI, uvicorn and Ray are imported only when the command runs.
"""

from __future__ import annotations

import os
import sys

from creator.service import bare_host, is_loopback

__all__ = ["add_serve_parser", "run_serve", "bind_warning", "is_loopback", "bare_host"]


def bind_warning(host: str) -> str | None:
    """What to say on stderr when ``host`` lets other computers reach the API (None for a
    loopback address)."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}: other computers can reach this API, which has no "
            "authentication; put it behind your own gateway, or keep the default 127.0.0.1")


def add_serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="the Assistant as an HTTP API (OpenAPI page at /docs)",
                       description="Serve the SDK over HTTP: upload media, then understand, caption, "
                                   "soundtrack, cover, carousel and video jobs. Bound to 127.0.0.1 "
                                   "(this computer only) unless --host says otherwise.")
    p.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1, or CREATOR_SERVICE__HOST); "
                        "any other address is said on stderr")
    p.add_argument("--port", type=int, default=None, help="port (default 8000, or CREATOR_SERVICE__PORT)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="deploy on Ray Serve, one deployment per stage (replicas from "
                        "CREATOR_SERVICE__REPLICAS); ADDRESS of a running cluster ('auto', "
                        "'ray://host:10001'), or none to start a local Ray")
    p.add_argument("--profile", choices=["lite", "full"], default=None,
                   help="model profile (default: lite, or CREATOR_PROFILE)")


def run_serve(args) -> int:
    from creator.config import Settings
    from creator.service import require_extra

    settings = Settings.for_profile(args.profile or os.environ.get("CREATOR_PROFILE") or "lite")
    host = bare_host(args.host or settings.service.host)
    port = settings.service.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        from creator.errors import InputError

        raise InputError(f"--port: {port} is not a port number (0..65535)")
    settings.service.host = host  # the app answers to the names of the address it is bound to
    warning = bind_warning(host)
    if warning:
        print(warning, file=sys.stderr)
    if args.ray is not None:
        require_extra("ray", "fastapi", "python_multipart", what="Ray Serve (--ray)")
        from creator.service.ray_serve import serve_forever

        return serve_forever(settings, host=host, port=port, address=args.ray)
    require_extra("fastapi", "uvicorn", "python_multipart", what="the HTTP API")
    import uvicorn

    from creator.service.app import create_app

    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    print(f"creator serve: http://{shown}:{port} (API docs: /docs); Ctrl+C stops it", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
