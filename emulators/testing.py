"""Start the emulators together, for tests and for `python -m emulators`.

`EmulatorStack` starts one shared `TokenSigner`, the identity, ARM and Event Grid emulators and,
optionally, Azurite; `settings()` gives the function app's settings pointing at them. The
`*_fixture` factories turn a stack or a single emulator into a pytest fixture::

    # conftest.py
    from emulators.testing import emulator_stack_fixture
    emulators = emulator_stack_fixture(scope="session", azurite=True)
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self, TypeVar

import pytest
import requests

from emulators.arm import ArmEmulator
from emulators.azurite import AZURITE_BIN, REPO_ROOT, Azurite
from emulators.common.server import RESET_PATH
from emulators.common.tokens import TokenSigner
from emulators.eventgrid import DEFAULT_TOPIC_KEY, EventGridEmulator
from emulators.identity import IdentityEmulator

DEFAULT_IDENTITY_HEADER = "local-identity-header"
# Used when Azurite is not started here: the app then expects it on the default ports.
DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"

T = TypeVar("T")
FixtureScope = Literal["session", "package", "module", "class", "function"]


class _Service(Protocol):
    def start(self) -> object: ...
    def stop(self) -> None: ...


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS may hand it out again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll `condition` until it returns something truthy, and return that; bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout} s waiting for {what or condition!r}")
        time.sleep(interval)


class EmulatorStack:
    """The identity, ARM and Event Grid emulators (one signer) and optionally Azurite.

    Port 0 picks a free port. With `azurite=True` and no `azurite_location`, Azurite gets a
    temporary data folder that `stop()` removes; `azurite_ports=None` picks free ports.
    """

    def __init__(
        self,
        *,
        arm_port: int = 0,
        identity_port: int = 0,
        eventgrid_port: int = 0,
        azurite: bool = False,
        azurite_location: Path | None = None,
        azurite_ports: tuple[int, int, int] | None = None,
        topic_key: str = DEFAULT_TOPIC_KEY,
        identity_header: str = DEFAULT_IDENTITY_HEADER,
    ) -> None:
        self.signer = TokenSigner()
        self.identity = IdentityEmulator(
            signer=self.signer, port=identity_port, identity_header=identity_header
        )
        self.arm = ArmEmulator(signer=self.signer, port=arm_port)
        self.eventgrid = EventGridEmulator(
            signer=self.signer, port=eventgrid_port, topic_key=topic_key
        )
        self.azurite: Azurite | None = None
        self._temporary_location: Path | None = None
        if azurite:
            if azurite_location is None:
                azurite_location = self._temporary_location = Path(
                    tempfile.mkdtemp(prefix="azurite-")
                )
            blob, queue, table = azurite_ports or (free_port(), free_port(), free_port())
            self.azurite = Azurite(
                location=azurite_location, blob_port=blob, queue_port=queue, table_port=table
            )
        self._running = ExitStack()

    def start(self) -> Self:
        """Start everything; on a failure, stop whatever had started and re-raise."""
        with ExitStack() as starting:
            for service in self._services():
                service.start()
                starting.callback(service.stop)
            self._running = starting.pop_all()
        return self

    def stop(self) -> None:
        """Stop everything that was started (in reverse order) and remove temporary data."""
        self._running.close()
        if self._temporary_location is not None:
            shutil.rmtree(self._temporary_location, ignore_errors=True)
            self._temporary_location = None

    def reset(self) -> None:
        """`POST /_emulator/reset` on every emulator: forget requests, events, faults, scenarios."""
        for url in self.urls().values():
            requests.post(f"{url}{RESET_PATH}", timeout=5).raise_for_status()

    def urls(self) -> dict[str, str]:
        """Base URL of each HTTP emulator, by name."""
        return {"identity": self.identity.url, "arm": self.arm.url, "eventgrid": self.eventgrid.url}

    def settings(self) -> dict[str, str]:
        """The function app settings (local.settings.json `Values`) that use these emulators."""
        storage = self.azurite.connection_string if self.azurite else DEVELOPMENT_STORAGE
        return {
            "AzureWebJobsStorage": storage,
            "ARM_ENDPOINT": self.arm.url,
            "IDENTITY_ENDPOINT": self.identity.endpoint,
            "IDENTITY_HEADER": self.identity.identity_header,
            "EVENTGRID_TOPIC_ENDPOINT": self.eventgrid.topic_endpoint,
            "EVENTGRID_TOPIC_KEY": self.eventgrid.topic_key,
        }

    def _services(self) -> list[_Service]:
        # Azurite first: it is the slowest and the likeliest to fail (missing npm install).
        services: list[_Service] = [self.azurite] if self.azurite else []
        return [*services, self.identity, self.arm, self.eventgrid]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


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
