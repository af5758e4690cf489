"""The emulators started together, as `python -m emulators` runs them and tests use them.

`EmulatorStack` starts one shared `TokenSigner`, the identity, ARM and Event Grid emulators and,
optionally, Azurite; `settings()` gives the function app's settings pointing at them. Nothing
here needs pytest: the fixtures built on it are in `emulators.testing`.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TypeVar
from urllib.parse import urlsplit

import requests

from emulators.arm import ArmEmulator
from emulators.azurite import Azurite
from emulators.common.server import RESET_PATH
from emulators.common.tokens import TokenSigner
from emulators.eventgrid import DEFAULT_TOPIC_KEY, EventGridEmulator
from emulators.identity import IdentityEmulator
from shared.names import COMPLETION_TOPIC_CONNECTION, SETTING_TOPIC_ENDPOINT

DEFAULT_IDENTITY_HEADER = "local-identity-header"
# Used when Azurite is not started here: the app then expects it on the default ports.
DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"

T = TypeVar("T")


class _Service(Protocol):
    def start(self) -> object: ...
    def stop(self) -> None: ...


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS may hand it out again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until[T](
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


def _secret(path: Path) -> bytes:
    """The signing secret kept at `path`, made (readable by the owner only) on first use."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
    return path.read_bytes()


class EmulatorStack:
    """The identity, ARM and Event Grid emulators (one signer) and optionally Azurite.

    Port 0 picks a free port. With `azurite=True` and no `azurite_location`, Azurite gets a
    temporary data folder that `stop()` removes; `azurite_ports=None` picks free ports.
    `client_id` declares a user-assigned identity the identity emulator accepts besides the
    system-assigned one. With `state_dir`, the token secret and the ARM emulator's resources and
    operations are kept there across restarts, so tokens and operation URLs handed out before a
    restart still work after it; `restart_arm()` restarts the ARM emulator that way.
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
        client_id: str | None = None,
        state_dir: Path | None = None,
    ) -> None:
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        self.signer = TokenSigner(None if state_dir is None else _secret(state_dir / "signer.key"))
        self.identity = IdentityEmulator(
            signer=self.signer,
            port=identity_port,
            identity_header=identity_header,
            allowed_client_ids=[client_id] if client_id else None,
        )
        self._arm_state_file = None if state_dir is None else state_dir / "arm.json"
        self.arm = ArmEmulator(signer=self.signer, port=arm_port, state_file=self._arm_state_file)
        # Local auth off, as on the deployed topics (infra/app/eventgrid.bicep): the app's
        # identity-based output must bring a token from the identity emulator.
        self.eventgrid = EventGridEmulator(
            signer=self.signer, port=eventgrid_port, topic_key=topic_key, local_auth=False
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
        """Start everything; on a failure, undo what had started (and the temporary Azurite
        folder) and re-raise, since `with` never calls `stop()` when entering fails."""
        with ExitStack() as starting:
            if self._temporary_location is not None:
                starting.callback(shutil.rmtree, self._temporary_location, ignore_errors=True)
            for service in self._services():
                service.start()
                starting.callback(service.stop)
            self._running = starting.pop_all()
        return self

    def stop(self) -> None:
        """Stop everything that was started (in reverse order) and remove temporary data."""
        self._running.close()

    def restart_arm(self, *, downtime: float) -> ArmEmulator:
        """Stop the ARM emulator, stay down `downtime` seconds, then serve a new one on the same
        port and state file, as a restarted process would; the stopped one is returned, since
        its journal alone holds what it received (the journal is not kept in the state file)."""
        stopped = self.arm
        port = urlsplit(stopped.url).port
        assert port is not None, stopped.url
        stopped.stop()
        time.sleep(downtime)
        self.arm = ArmEmulator(signer=self.signer, port=port, state_file=self._arm_state_file)
        self.arm.start()
        self._running.callback(self.arm.stop)
        return stopped

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
            SETTING_TOPIC_ENDPOINT: self.eventgrid.topic_endpoint,
            f"{COMPLETION_TOPIC_CONNECTION}__credential": "managedidentity",
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
