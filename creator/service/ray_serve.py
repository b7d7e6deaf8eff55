"""The same API on Ray Serve: one deployment per heavy stage, so that they scale apart.

``build_app(settings)`` binds a ``Gateway`` (the FastAPI app of creator.service.app,
one replica: it holds the video jobs' table) and one :class:`StageReplica` deployment
per stage of :data:`creator.config.SERVICE_STAGES` (understand, caption, soundtrack,
cover, video), each with ``Settings.service.replicas[stage]`` replicas of
``replica_cpus[stage]`` CPUs and ``replica_gpus[stage]`` GPUs. Every replica holds its
own Assistant (models load once per replica). The gateway calls the stages through
their deployment handles; the stages read the uploads and write covers and videos in
``Settings.service_root``, which on a cluster must be a folder every node sees.

A video job's progress and cancel cross replicas through its job folder: the video
replica writes the fraction done to ``.progress`` and stops the render (the
Assistant's own cancel Event) when ``.cancel`` appears.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from creator.service import require_extra

require_extra("ray", "fastapi", "python_multipart", what="creator serve --ray (Ray Serve)")

from ray import serve  # noqa: E402

from creator.config import SERVICE_STAGES, Settings  # noqa: E402
from creator.errors import CreatorError, InputError  # noqa: E402

__all__ = ["StageReplica", "Gateway", "RayStages", "build_app", "deploy", "serve_forever", "APP_NAME"]

APP_NAME = "creator"
PROGRESS_FILE = ".progress"
CANCEL_FILE = ".cancel"
# the Assistant's methods each stage's deployment answers
STAGE_METHODS = {"understand": ("understand",), "caption": ("caption",), "soundtrack": ("soundtrack",),
                 "cover": ("cover", "carousel"), "video": ("video",)}


def _source_root() -> str:
    """The folder holding this ``creator`` package, first on the replicas' PYTHONPATH, so
    that they run the same code as the driver (a checkout, not another install)."""
    return str(Path(__file__).resolve().parents[2])


def _runtime_env() -> dict:
    path = os.pathsep.join(p for p in (_source_root(), os.environ.get("PYTHONPATH", "")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


@serve.deployment(max_ongoing_requests=8)
class StageReplica:
    """One stage of the Assistant (``stage``), on its own replicas."""

    def __init__(self, stage: str, settings_json: str):
        from creator.assistant import Assistant

        if stage not in STAGE_METHODS:
            raise ValueError(f"unknown stage {stage!r}")
        self.stage = stage
        self.assistant = Assistant(Settings.model_validate_json(settings_json))

    def run(self, method: str, args: tuple, kwargs: dict):
        if method not in STAGE_METHODS[self.stage]:
            raise InputError(f"{method}: not a method of the {self.stage} deployment")
        if method == "video":
            return self._video(*args, **kwargs)
        return getattr(self.assistant, method)(*args, **kwargs)

    def _video(self, draft, *, out: str, draft_dir: str, media_roots: list[str], length=None):
        from creator.drafts import atomic_write_text

        folder = Path(draft_dir)
        cancel, finished = threading.Event(), threading.Event()

        def watch() -> None:
            while not finished.wait(0.2):
                if (folder / CANCEL_FILE).exists():
                    cancel.set()
                    return

        threading.Thread(target=watch, daemon=True, name="creator-video-cancel").start()
        last = [-1.0]

        def progress(_stage: str, done: float, total: float) -> None:
            f = min(1.0, done / total) if total else 0.0
            if f - last[0] >= 0.01 or f >= 1.0:
                last[0] = f
                with contextlib.suppress(OSError):
                    atomic_write_text(folder / PROGRESS_FILE, f"{f:.4f}")

        try:
            return self.assistant.video(draft, out=out, draft_dir=folder, media_roots=media_roots,
                                        progress=progress, cancel=cancel, length=length)
        finally:
            finished.set()


def _cause(error: BaseException) -> BaseException:
    """What a replica raised: a CreatorError as itself (its message, its 4xx), anything
    else as a plain error without the remote traceback (a 500)."""
    cause = getattr(error, "cause", None)  # a RayTaskError (also an instance of the cause's class)
    if isinstance(cause, CreatorError):
        return cause
    if cause is None and isinstance(error, CreatorError):
        return error
    return RuntimeError(f"a stage failed on its replica ({type(cause or error).__name__})")


class RayStages:
    """The Assistant's stage methods, answered by the stage deployments (what
    creator.service.app.create_app calls ``stages``)."""

    def __init__(self, handles: dict):
        self.handles = handles

    def _call(self, stage: str, method: str, *args, **kwargs):
        try:
            return self.handles[stage].run.remote(method, args, kwargs).result()
        except Exception as e:  # noqa: BLE001 - a RayTaskError wraps what the replica raised
            raise _cause(e) from None

    def understand(self, media, **kwargs):
        return self._call("understand", "understand", [str(p) for p in media], **kwargs)

    def caption(self, context, **kwargs):
        return self._call("caption", "caption", context, **kwargs)

    def soundtrack(self, context=None, **kwargs):
        return self._call("soundtrack", "soundtrack", context, **kwargs)

    def cover(self, context, *, out_dir=None, **kwargs):
        return self._call("cover", "cover", context, out_dir=str(out_dir) if out_dir else None, **kwargs)

    def carousel(self, context, **kwargs):
        return self._call("cover", "carousel", context, **kwargs)

    def video(self, draft, *, out, draft_dir, media_roots, progress=None, cancel=None, length=None):
        folder = Path(draft_dir)
        response = self.handles["video"].run.remote("video", (draft,), dict(
            out=str(out), draft_dir=str(folder), media_roots=[str(r) for r in media_roots], length=length))
        while True:
            try:
                return response.result(timeout_s=0.25)
            except TimeoutError as e:
                if getattr(e, "cause", None) is not None:  # the replica's own error, not the wait
                    raise _cause(e) from None
            except Exception as e:  # noqa: BLE001
                raise _cause(e) from None
            if cancel is not None and cancel.is_set():
                with contextlib.suppress(OSError):
                    (folder / CANCEL_FILE).touch()
            if progress is not None:
                with contextlib.suppress(OSError, ValueError):
                    progress("video", float((folder / PROGRESS_FILE).read_text()), 1.0)


@serve.deployment(num_replicas=1, max_ongoing_requests=200)
@serve.ingress()
class Gateway:
    """The HTTP front: creator.service.app's FastAPI app over :class:`RayStages`."""

    def __init__(self, settings_json: str, **handles):
        self._settings = Settings.model_validate_json(settings_json)
        conf = self._settings.service
        # the jobs table runs as many renders at once as the video replicas take together
        conf.video_jobs = conf.video_jobs * conf.replicas.get("video", 1)
        self._stages = RayStages(handles)

    def __serve_build_asgi_app__(self):
        from creator.service.app import create_app

        return create_app(self._settings, assistant=self._stages)


def build_app(settings: Settings):
    """The Serve application: the gateway bound to one deployment per stage."""
    conf = settings.service
    settings_json = settings.model_dump_json()
    env = _runtime_env()
    stages = {}
    for stage in SERVICE_STAGES:
        actor = {"num_cpus": conf.replica_cpus.get(stage, 1.0), "num_gpus": conf.replica_gpus.get(stage, 0.0),
                 "runtime_env": env}
        extra = {"max_ongoing_requests": conf.video_jobs} if stage == "video" else {}  # renders per replica
        stages[stage] = StageReplica.options(name=stage, num_replicas=conf.replicas.get(stage, 1),
                                             ray_actor_options=actor, **extra).bind(stage, settings_json)
    return Gateway.options(ray_actor_options={"num_cpus": 0, "runtime_env": env}).bind(settings_json, **stages)


def deploy(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000):
    """Start Serve's HTTP proxy on ``host:port`` in the Ray cluster this process is
    connected to (``ray.init`` first) and run the application; returns its handle."""
    serve.start(http_options={"host": host, "port": port})
    return serve.run(build_app(settings), name=APP_NAME, route_prefix="/")


def serve_forever(settings: Settings, *, host: str, port: int, address: str | None = "local") -> int:
    """``creator serve --ray [ADDRESS]``: connect to Ray (``local``: start one here), deploy,
    and serve until Ctrl+C or SIGTERM; then the application is deleted and Ray left."""
    import signal
    import sys

    import ray

    def stop(*_):  # SIGTERM (docker stop, systemd) shuts down as cleanly as Ctrl+C
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, stop)

    if address == "local":
        # a Ray of its own on this computer: enough logical CPUs for every replica asked
        # for (CPUs are Ray's scheduling tokens; the stages mostly wait for requests)
        import math

        conf = settings.service
        wanted = sum(conf.replicas.get(s, 1) * conf.replica_cpus.get(s, 1.0) for s in SERVICE_STAGES)
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, math.ceil(wanted)), include_dashboard=False,
                 runtime_env=_runtime_env())
    else:
        ray.init(address=address)
    try:
        deploy(settings, host=host, port=port)
        shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
        print(f"creator serve: http://{shown}:{port} on Ray Serve (API docs: /docs); Ctrl+C stops it",
              file=sys.stderr)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        with contextlib.suppress(Exception):
            serve.delete(APP_NAME)
            serve.shutdown()
        ray.shutdown()
