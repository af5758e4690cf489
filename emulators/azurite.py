"""Run Azurite (blob, queue and table in one Node process) for local work and tests.

Azurite cannot bind port 0, so callers choose the ports; the runner refuses ports that are
already answering, waits until all three accept connections, and fails fast with Azurite's own
output if the process exits early.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"
DEFAULT_LOCATION = REPO_ROOT / ".local" / "azurite"

# The well-known development account and key, public and identical on every Azurite install.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

# Azurite needs about 1 s per service (docs/contracts/functions-io.md §1.2); a slow CI machine
# gets headroom.
STARTUP_TIMEOUT_SECONDS = 30.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0
_POLL_INTERVAL_SECONDS = 0.05


class AzuriteError(RuntimeError):
    """Azurite is missing, could not start, or its ports are taken."""


def port_accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Azurite:
    """One Azurite process in its own process group, stopped with the whole group."""

    def __init__(
        self,
        *,
        location: Path = DEFAULT_LOCATION,
        blob_port: int = 10000,
        queue_port: int = 10001,
        table_port: int = 10002,
        host: str = "127.0.0.1",
    ) -> None:
        self.location = location
        self.blob_port = blob_port
        self.queue_port = queue_port
        self.table_port = table_port
        self.host = host
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def ports(self) -> tuple[int, int, int]:
        """Blob, queue and table ports."""
        return (self.blob_port, self.queue_port, self.table_port)

    @property
    def connection_string(self) -> str:
        """Explicit development connection string naming the actual ports."""
        base = f"http://{self.host}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{ACCOUNT_NAME};"
            f"QueueEndpoint={base}:{self.queue_port}/{ACCOUNT_NAME};"
            f"TableEndpoint={base}:{self.table_port}/{ACCOUNT_NAME};"
        )

    def command(self) -> list[str]:
        """The argument list used to start Azurite."""
        return [
            str(AZURITE_BIN),
            "--blobHost", self.host, "--blobPort", str(self.blob_port),
            "--queueHost", self.host, "--queuePort", str(self.queue_port),
            "--tableHost", self.host, "--tablePort", str(self.table_port),
            "--location", str(self.location),
            "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        ]  # fmt: skip

    def start(self) -> None:
        """Spawn Azurite and return once blob, queue and table accept connections."""
        if self._process is not None:
            raise AzuriteError("Azurite is already running")
        if not AZURITE_BIN.exists():
            raise AzuriteError(f"{AZURITE_BIN} not found: run `npm ci` in {REPO_ROOT}")
        taken = [port for port in self.ports if port_accepts(self.host, port)]
        if taken:
            raise AzuriteError(
                f"port(s) {', '.join(map(str, taken))} on {self.host} are already in use; "
                "stop the other Azurite or choose other ports"
            )
        self.location.mkdir(parents=True, exist_ok=True)
        # A temporary file, not a pipe: a pipe nobody reads can fill and stall Azurite.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        pending = list(self.ports)
        while pending:
            if self._process.poll() is not None:
                raise AzuriteError(
                    f"Azurite exited with code {self._process.returncode} during startup:\n"
                    f"{self.output()}"
                )
            pending = [port for port in pending if not port_accepts(self.host, port)]
            if pending and time.monotonic() > deadline:
                raise AzuriteError(
                    f"Azurite did not open port(s) {pending} within "
                    f"{STARTUP_TIMEOUT_SECONDS:.0f} s:\n{self.output()}"
                )
            if pending:
                time.sleep(_POLL_INTERVAL_SECONDS)

    def output(self) -> str:
        """What Azurite has written to stdout and stderr so far."""
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    @property
    def pid(self) -> int | None:
        """Process id of the running Azurite, which also names its process group."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        """Whether the Azurite process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Terminate Azurite's process group, escalating to SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is not None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
