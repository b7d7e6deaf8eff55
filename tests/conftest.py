"""Shared fixtures: a network guard for the offline promise."""

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
