"""Beyond one machine: the assistant's batch work on Ray (``pip install '.[distributed]'``).

- :func:`creator.distributed.data.understand_many` — batch understanding on Ray Data
  (``Assistant.understand_many``, ``creator tag PATH... --ray --out results.parquet``);
- :func:`creator.distributed.index.ray_analyser` — the music library's decoding and
  analysis as Ray tasks (``creator library index DIR --ray``).

Ray and pyarrow are imported only inside the functions that use them; without the extra,
:func:`require_ray` raises one BackendUnavailable naming it. ``import creator`` never
imports this package's dependencies.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from ..errors import BackendUnavailable, InputError

__all__ = ["require_ray", "require_pyarrow", "ray_session", "worker_runtime_env", "is_ray_address",
           "cli_ray_address", "EXTRA_HINT"]

EXTRA_HINT = "pip install '.[distributed]'  (or 'travel-note-creator[distributed]')"


def require_ray():
    """The ``ray`` module, or BackendUnavailable naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library is part of the extra
    except ImportError as e:
        raise BackendUnavailable(
            f"Ray is not installed ({e.name or e}): {EXTRA_HINT}") from e
    return ray


def require_pyarrow():
    """The ``pyarrow`` module (Parquet), or BackendUnavailable naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as e:
        raise BackendUnavailable(
            f"pyarrow is not installed ({e.name or e}): {EXTRA_HINT}") from e
    return pyarrow


def worker_runtime_env() -> dict:
    """A runtime_env under which a local Ray's workers import this very ``creator`` (the
    folder it was imported from first on their PYTHONPATH). On a cluster every node needs
    the package installed (the same version) or shipped with ``py_modules``."""
    here = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None):
    """Ray, ready to use, for a block.

    A Ray the caller already started (``ray.init`` in an app or a test) is used as it is
    and left running. Otherwise ``address`` None (or "local") starts a Ray on this machine
    for the block and stops it after; any other address ("auto", "ray://head:10001",
    "10.0.0.5:6379") connects to that cluster and disconnects after.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    import logging

    kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address in (None, "", "local"):
        kwargs.update(address="local", num_cpus=num_cpus, runtime_env=worker_runtime_env())
    else:
        kwargs.update(address=address)
    try:
        ray.init(**kwargs)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise BackendUnavailable(f"cannot start or reach Ray at {address or 'local'}: {e}") from e
    try:
        yield ray
    finally:
        ray.shutdown()


def is_ray_address(value: str) -> bool:
    """Whether ``value`` reads as a Ray address: auto, local, HOST:PORT, ray://HOST:PORT."""
    return value in ("auto", "local") or bool(re.fullmatch(r"(ray://)?[\w.\-\[\]:]+:\d+", value))


def cli_ray_address(value: str | None, paths: list) -> str | None:
    """The address a ``--ray [ADDRESS]`` option was given (None: a local Ray). argparse
    gives the PATH after a bare ``--ray`` to the option (``creator tag --ray photos/``):
    an existing path that is no address is put back at the front of ``paths``. Anything
    else that is no address is an InputError naming the option."""
    if value is None or value == "local":
        return None
    if is_ray_address(value):
        return value
    if Path(value).exists():
        paths.insert(0, value)
        return None
    raise InputError(f"--ray: {value!r} is not a Ray address (auto, local, HOST:PORT, ray://HOST:PORT)")
