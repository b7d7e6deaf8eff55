"""The one local Ray the Ray Data and library-index tests share (a module's worth each)."""

from __future__ import annotations

import pytest
import ray  # the `distributed` extra: `make test` installs it

from creator.distributed import worker_runtime_env


@pytest.fixture(scope="module")
def local_ray():
    """A fresh local Ray of 2 CPUs (``address="local"``: never another one running here),
    whose workers import this checkout; shut down after the module."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=worker_runtime_env())
    yield
    ray.shutdown()
