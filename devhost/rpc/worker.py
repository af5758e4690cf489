"""The app's language worker as the host sees it: one process, restarted when it exits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path

from devhost.rpc import function_rpc_pb2 as pb
from devhost.rpc.channel import LoadedFunction, WorkerChannel, WorkerError, WorkerExited
from devhost.rpc.server import RpcServer

_LOG = logging.getLogger("devhost.worker")

# The host's restart policy (azure-functions-host src/WebJobs.Script/Workers/Rpc/
# FunctionRegistration/RpcFunctionInvocationDispatcher.cs): each worker error goes into a
# bucket that empties when 30 minutes pass without one; the worker is restarted while the
# bucket holds fewer than 3 errors (ErrorEventsThreshold), and the third stops the host. A
# restart waits until ProcessRestartInterval (10 s) has passed since the previous start.
ERROR_THRESHOLD = 3
ERROR_WINDOW_SECONDS = 30 * 60.0
RESTART_INTERVAL_SECONDS = 10.0

__all__ = ["LanguageWorker", "WorkerError", "WorkerExited"]


class LanguageWorker:
    """Starts the worker, keeps it running, and sends it invocations."""

    def __init__(self, *, app_dir: Path, environment: Mapping[str, str]) -> None:
        self._app_dir = app_dir.resolve()
        self._environment = dict(environment)
        self._server = RpcServer()
        self._channel: WorkerChannel | None = None
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._errors: list[float] = []
        self._failure: str | None = None
        self._stopping = False
        self._planned_restart = False
        self._started_at = 0.0
        self.functions: Mapping[str, pb.RpcFunctionMetadata] = {}
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The running worker's process id."""
        return None if self._channel is None else self._channel.pid

    @property
    def failure(self) -> str | None:
        """Why the worker is down for good (restarts exhausted), else None."""
        return self._failure

    async def start(self) -> None:
        """Start the worker and load the app; WorkerError says why the app cannot load."""
        await self._server.start()
        channel = await self._start_channel()
        self.functions = {name: f.metadata for name, f in channel.functions.items()}
        self._supervisor = asyncio.create_task(self._supervise(), name="language worker")

    async def invoke(
        self, function_name: str, request: pb.InvocationRequest
    ) -> pb.InvocationResponse:
        """Send the invocation to the running worker, waiting for a restart in progress."""
        while not self._ready.is_set():
            if self._failure is not None or self._stopping:
                raise WorkerExited(self._failure or "the host is stopping")
            await self._ready.wait()
        channel = self._channel
        assert channel is not None
        request.function_id = self._loaded(channel, function_name).function_id
        return await channel.invoke(request)

    async def restart(self, environment: Mapping[str, str] | None = None) -> None:
        """Replace the running worker, with a new environment if given, as a settings change
        does in Azure; returns once the new one has loaded the app."""
        if environment is not None:
            self._environment = dict(environment)
        self.recycle()
        await self._ready.wait()

    def recycle(self) -> None:
        """Kill the running worker and start another, not counted as a worker error: what the
        host does after a function timeout (WebScriptHostExceptionHandler
        .OnTimeoutExceptionAsync → RestartWorkerWithInvocationIdAsync)."""
        self._planned_restart = True
        self._ready.clear()
        if self._channel is not None:
            self._channel.kill()

    async def kill(self) -> None:
        """End the running worker now (SIGKILL), as a crash would; the supervisor restarts it."""
        if self._channel is not None:
            self._channel.kill()

    async def stop(self) -> None:
        """Stop the worker and the gRPC server; no restart follows."""
        self._stopping = True
        self._ready.set()  # wake waiters, who then see `_stopping`
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._channel is not None:
            await self._channel.stop()
        await self._server.stop()

    async def _start_channel(self) -> WorkerChannel:
        channel = WorkerChannel(
            server=self._server, app_dir=self._app_dir, environment=self._environment
        )
        self._channel = channel
        try:
            await channel.start()
        except BaseException:
            await channel.stop()
            raise
        self.starts += 1
        self._started_at = time.monotonic()
        self._ready.set()
        _LOG.info(
            "language worker %s (pid %s) loaded %d functions",
            channel.worker_id[:8],
            channel.pid,
            len(channel.functions),
        )
        return channel

    async def _supervise(self) -> None:
        while True:
            channel = self._channel
            assert channel is not None
            await channel.exited.wait()
            self._ready.clear()
            await channel.stop()
            planned, self._planned_restart = self._planned_restart, False
            while not self._stopping:
                if not planned:
                    if not self._record_error():
                        return
                    wait = self._started_at + RESTART_INTERVAL_SECONDS - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                try:
                    await self._start_channel()
                    break
                except (WorkerError, OSError) as err:
                    _LOG.error("the language worker could not be restarted: %s", err)
                    planned = False
            if self._stopping:
                return

    def _record_error(self) -> bool:
        """Count one worker error; False (and the worker down for good) at the threshold."""
        now = time.monotonic()
        if self._errors and now - self._errors[-1] > ERROR_WINDOW_SECONDS:
            self._errors.clear()
        self._errors.append(now)
        if len(self._errors) >= ERROR_THRESHOLD:
            self._failure = (
                f"the language worker failed {len(self._errors)} times within "
                f"{ERROR_WINDOW_SECONDS / 60:.0f} minutes; it is not restarted again "
                "(in Azure the host stops and the platform starts a new one)"
            )
            _LOG.error("%s", self._failure)
            self._ready.set()  # wake waiters, who then see `_failure`
            return False
        _LOG.warning(
            "restarting the language worker (%d of %d errors)", len(self._errors), ERROR_THRESHOLD
        )
        return True

    @staticmethod
    def _loaded(channel: WorkerChannel, function_name: str) -> LoadedFunction:
        try:
            return channel.functions[function_name]
        except KeyError:
            raise WorkerError(f"the worker has no function {function_name!r}") from None
