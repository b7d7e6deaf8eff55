"""Fixtures of the reliability suite (the helpers themselves are in ``harness.py``, so that
the suite's script modes can use them without pytest).

- ``good_set``: a folder of two small good photos (date + place), made once a session, for
  runs that need something usable besides the bad input;
- ``cli``: ``harness.run_cli`` (``creator <argv>`` in-process, strict UTF-8 streams, a
  timeout, the traceback kept);
- ``unchanged``: ``with unchanged(folder, ...):`` fails when anything under those folders
  was changed, added or removed by the block.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.reliability.harness import make_good_set, run_cli, snapshot


@pytest.fixture(scope="session")
def good_set(tmp_path_factory):
    return make_good_set(tmp_path_factory.mktemp("good") / "好照片")


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def unchanged():
    @contextlib.contextmanager
    def check(*roots):
        before = snapshot(*roots)
        yield
        after = snapshot(*roots)
        changed = sorted(set(before.items()) ^ set(after.items()))
        assert not changed, f"inputs changed: {changed[:5]}"

    return check
