"""``creator ui``: start the Streamlit editor (``streamlit run`` on the installed app).

Wired into creator/cli.py as ``add_ui_parser(subparsers)`` / ``run_ui(args) -> int``.
Streamlit is imported only by the child process, so the CLI stays light.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["add_ui_parser", "run_ui", "app_path", "streamlit_command", "HOST_ENV"]

# The address the editor serves on, for the app (ui/panels/start.py): the folder field
# is on by default only where the browser can only be on this computer.
HOST_ENV = "CREATOR_UI_HOST"


def app_path() -> Path:
    """Where ui/app.py is, from a checkout or from an installed wheel."""
    spec = importlib.util.find_spec("ui.app")
    if spec is None or spec.origin is None:
        return Path(__file__).resolve().with_name("app.py")
    return Path(spec.origin)


def streamlit_command(*, host: str = "127.0.0.1", port: int = 8501, headless: bool = False,
                      max_upload_mb: float | None = None) -> list[str]:
    """The command line that serves the editor (no usage statistics are sent).
    ``max_upload_mb``: Streamlit refuses a bigger upload itself (Settings.ui.upload_max_mb)."""
    extra = ["--server.maxUploadSize", str(max(1, math.ceil(max_upload_mb)))] if max_upload_mb else []
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",  # no "Deploy" button in a local editor
        *extra,
    ]


def add_ui_parser(subparsers) -> None:
    p = subparsers.add_parser("ui", help="open the editor in the browser (Streamlit)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to serve on (default: this computer only; on any other address the "
                        "field that reads a folder on this computer is off unless CREATOR_UI__LOCAL_FOLDERS=true)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--profile", choices=["lite", "full"], default=None,
                   help="model profile (default: lite, or CREATOR_PROFILE)")
    p.add_argument("--drafts", metavar="DIR", default=None,
                   help="where drafts are kept (default: <cache>/drafts, or CREATOR_DRAFTS_DIR)")
    p.add_argument("--headless", action="store_true", help="don't open a browser window")


def run_ui(args) -> int:
    """Run the editor until it is stopped (Ctrl+C); returns Streamlit's exit status."""
    if importlib.util.find_spec("streamlit") is None:
        print("the editor needs Streamlit: pip install 'travel-note-creator[ui]'", file=sys.stderr)
        return 2
    env = dict(os.environ)
    profile = args.profile or env.get("CREATOR_PROFILE")
    if profile:
        env["CREATOR_UI_PROFILE"] = profile
    if args.drafts:
        env["CREATOR_DRAFTS_DIR"] = str(Path(args.drafts).expanduser().resolve())
    env[HOST_ENV] = args.host
    from creator.config import Settings
    from creator.errors import ConfigError

    try:
        ui = Settings.for_profile(profile or "lite").ui
    except (ConfigError, ValueError) as e:  # a bad CREATOR_* variable
        print(f"creator ui: {e}", file=sys.stderr)
        return 2
    cmd = streamlit_command(host=args.host, port=args.port, headless=args.headless,
                            max_upload_mb=ui.upload_max_mb)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
