"""The app as Microsoft's worker loads it: every function declared must be indexed and loaded.

The worker checks every binding's annotation and loads all functions or none, so one refusal
means an app with no functions in Azure. This test runs that indexing for real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.rpc.worker import WorkerError
from tests.app_functions import app_functions
from tests.devhost.support import index_in_worker

REPO_ROOT = Path(__file__).resolve().parents[2]


def declared_functions() -> set[str]:
    """The names function_app.py declares, read from its decorators (nothing is called)."""
    return {f.get_function_name() for f in app_functions()}


def test_the_worker_loads_every_function_of_the_app() -> None:
    try:
        loaded = set(index_in_worker(REPO_ROOT).functions)
    except WorkerError as err:
        pytest.fail(f"Microsoft's worker refused the app: {err}")
    declared = declared_functions()
    assert declared - loaded == set(), f"declared but not loaded: {sorted(declared - loaded)}"
    assert loaded == declared
