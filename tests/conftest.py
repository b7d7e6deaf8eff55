"""Shared fixtures: a network guard for the offline promise, and a cache of the tests' own."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to reach a non-loopback address (and tell the hub to stay offline)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    real_connect = socket.socket.connect

    def guarded(self, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1")
                                      or self.family == socket.AF_UNIX):
            return real_connect(self, address, *args, **kwargs)
        raise OSError(f"network access blocked in this test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """The cache every test gets instead of the user's (~/.cache/travel-note-creator):
    ``CREATOR_CACHE_DIR`` for the whole session (and the subprocesses tests start), so
    ``Settings()`` / ``Assistant()`` with no cache_dir index the demo music there, once
    per session (13 s on 2 idle cores). Tests that need a cache of their own set one
    (tmp_path) and win over this one."""
    folder = tmp_path_factory.mktemp("缓存")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREATOR_CACHE_DIR", str(folder))
        yield folder
