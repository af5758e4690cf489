"""pytest fixtures for the emulators, built on `emulators.stack`.

The `*_fixture` factories turn a stack or a single emulator into a pytest fixture::

    # conftest.py
    from emulators.testing import emulator_stack_fixture
    emulators = emulator_stack_fixture(scope="session", azurite=True)

`EmulatorStack`, `free_port` and `wait_until` live in `emulators.stack` (which `python -m
emulators` uses without pytest) and are re-exported here for tests that import them from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Literal

import pytest

from emulators.azurite import AZURITE_BIN, REPO_ROOT, Azurite
from emulators.common.tokens import TokenSigner
from emulators.eventgrid import DEFAULT_TOPIC_KEY, EventGridEmulator
from emulators.stack import EmulatorStack, free_port, wait_until

__all__ = [
    "EmulatorStack",
    "azurite_fixture",
    "emulator_stack_fixture",
    "eventgrid_fixture",
    "free_port",
    "skip_without_azurite",
    "wait_until",
]

FixtureScope = Literal["session", "package", "module", "class", "function"]


def emulator_stack_fixture(
    *, scope: FixtureScope = "session", azurite: bool = False
) -> Callable[..., Iterator[EmulatorStack]]:
    """A pytest fixture yielding a started `EmulatorStack`; bind it to the fixture's name."""

    @pytest.fixture(scope=scope)
    def stack() -> Iterator[EmulatorStack]:
        if azurite:
            skip_without_azurite()
        with EmulatorStack(azurite=azurite) as started:
            yield started

    return stack


def eventgrid_fixture(
    *, scope: FixtureScope = "module", topic_key: str = DEFAULT_TOPIC_KEY
) -> Callable[..., Iterator[EventGridEmulator]]:
    """A pytest fixture yielding a started `EventGridEmulator` with its own signer."""

    @pytest.fixture(scope=scope)
    def eventgrid() -> Iterator[EventGridEmulator]:
        emulator = EventGridEmulator(signer=TokenSigner(), topic_key=topic_key)
        emulator.start()
        yield emulator
        emulator.stop()

    return eventgrid


def azurite_fixture(*, scope: FixtureScope = "session") -> Callable[..., Iterator[Azurite]]:
    """A pytest fixture yielding Azurite on free ports with a temporary data folder.

    Skips (with the command to run) when `node_modules/.bin/azurite` is missing.
    """

    @pytest.fixture(scope=scope)
    def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
        skip_without_azurite()
        runner = Azurite(
            location=tmp_path_factory.mktemp("azurite"),
            blob_port=free_port(),
            queue_port=free_port(),
            table_port=free_port(),
        )
        with runner:
            yield runner

    return azurite


def skip_without_azurite() -> None:
    """Skip the current test, saying how to install Azurite, when it is not installed.

    Under CI (CI set) a missing Azurite fails instead: a skip there would hide every test
    that needs storage.
    """
    if not AZURITE_BIN.exists():
        message = f"Azurite is not installed: run `npm ci` in {REPO_ROOT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
