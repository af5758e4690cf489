"""One language worker process and its stream: start, handshake, invocations, exit.

The sequence is the Functions host's (azure-functions-host
src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs): start the process with the host's
arguments, wait for `StartStream`, send `WorkerInitRequest`, then `FunctionsMetadataRequest`
(worker indexing) and one `FunctionLoadRequest` per function; after that, `InvocationRequest`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.duration_pb2 import Duration

import devhost
from devhost.rpc import function_rpc_pb2 as pb
from devhost.rpc.server import MAX_MESSAGE_BYTES, RpcServer, WorkerStream

_LOG = logging.getLogger("devhost.worker")
_WORKER_LOG = logging.getLogger("devhost.worker.log")

# The host's defaults for the handshake: StartStream within ProcessStartupTimeout (60 s), the
# WorkerInitResponse within InitializationTimeout (10 s; WorkerProcessCountOptions.cs), the
# metadata within the 1 minute function load timeout (GrpcWorkerChannel
# .SendFunctionMetadataRequest), each FunctionLoadResponse within max(functionTimeout, 1 min).
START_TIMEOUT_SECONDS = 60.0
INIT_TIMEOUT_SECONDS = 10.0
LOAD_TIMEOUT_SECONDS = 60.0
HOST_VERSION = "4.0.0-devhost"
# The folder that holds the `devhost` package, for the worker's import path.
_DEVHOST_ROOT = str(Path(devhost.__file__).resolve().parent.parent)

# RpcLog levels as the host maps them to ILogger levels (GrpcWorkerChannel.Log).
_LEVELS = {
    pb.RpcLog.Trace: logging.DEBUG,
    pb.RpcLog.Debug: logging.DEBUG,
    pb.RpcLog.Information: logging.INFO,
    pb.RpcLog.Warning: logging.WARNING,
    pb.RpcLog.Error: logging.ERROR,
    pb.RpcLog.Critical: logging.CRITICAL,
}


class WorkerError(RuntimeError):
    """The worker could not start, index or load the app; the message is the worker's reason."""


class WorkerExited(RuntimeError):  # noqa: N818  # reads as the event it reports
    """The worker process ended while this call was in flight."""


@dataclass(frozen=True)
class LoadedFunction:
    """A function the worker indexed and loaded: its id and the metadata it reported."""

    function_id: str
    metadata: pb.RpcFunctionMetadata


class WorkerChannel:
    """One worker process. `start()` returns once its functions are loaded."""

    def __init__(
        self,
        *,
        server: RpcServer,
        app_dir: Path,
        environment: Mapping[str, str],
    ) -> None:
        self.worker_id = str(uuid.uuid4())
        self.functions: dict[str, LoadedFunction] = {}
        self._server = server
        self._app_dir = app_dir
        self._environment = environment
        self._process: asyncio.subprocess.Process | None = None
        self._stream: WorkerStream | None = None
        self._pending: dict[str, asyncio.Future[pb.StreamingMessage]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.exited = asyncio.Event()
        self.returncode: int | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        """Start the process, complete the handshake and load every function the app has."""
        connected = self._server.expect(self.worker_id)
        self._process = await asyncio.create_subprocess_exec(
            *self._command(),
            cwd=self._app_dir,
            env=self._worker_environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own session: a terminal's Ctrl+C or a signal to the host's group reaches the
            # host, which then stops the worker; a host that dies ends the stream, and the
            # worker exits on its own.
            start_new_session=True,
        )
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._spawn(self._relay_output(self._process.stdout, logging.INFO))
        self._spawn(self._relay_output(self._process.stderr, logging.WARNING))
        self._spawn(self._watch_exit())
        exited: asyncio.Future[Any] = asyncio.ensure_future(self.exited.wait())
        either: set[asyncio.Future[Any]] = {connected, exited}
        try:
            done, _ = await asyncio.wait(
                either, timeout=START_TIMEOUT_SECONDS, return_when="FIRST_COMPLETED"
            )
        finally:
            exited.cancel()
        if connected not in done:
            self._server.forget(self.worker_id)
            why = f"exited with code {self.returncode}" if self.exited.is_set() else "timed out"
            raise WorkerError(f"the language worker did not connect: it {why}")
        self._stream = connected.result()
        self._spawn(self._receive(self._stream))
        await self._handshake()

    async def invoke(self, request: pb.InvocationRequest) -> pb.InvocationResponse:
        """Send one invocation and await its response; WorkerExited if the worker dies first."""
        reply = await self._call(
            request.invocation_id, pb.StreamingMessage(invocation_request=request), within=None
        )
        return reply.invocation_response

    async def stop(self) -> None:
        """Ask the worker to exit, then make sure it has; in-flight calls fail WorkerExited."""
        if self._stream is not None and not self.exited.is_set():
            self._stream.send(
                pb.StreamingMessage(
                    worker_terminate=pb.WorkerTerminate(grace_period=Duration(seconds=1))
                )
            )
            self._stream.close()
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exited.wait(), 2.0)
            if self._process.returncode is None:
                self._process.kill()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def kill(self) -> None:
        """SIGKILL the process: nothing in it runs again."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()

    async def _handshake(self) -> None:
        init = await self._call(
            _request_id(),
            pb.StreamingMessage(
                worker_init_request=pb.WorkerInitRequest(
                    host_version=HOST_VERSION,
                    worker_directory=_DEVHOST_ROOT,
                    function_app_directory=str(self._app_dir),
                )
            ),
            within=INIT_TIMEOUT_SECONDS,
        )
        _raise_for(init.worker_init_response.result, "indexing the app failed")
        listed = await self._call(
            _request_id(),
            pb.StreamingMessage(
                functions_metadata_request=pb.FunctionsMetadataRequest(
                    function_app_directory=str(self._app_dir)
                )
            ),
            within=LOAD_TIMEOUT_SECONDS,
        )
        metadata = listed.function_metadata_response
        _raise_for(metadata.result, "listing the app's functions failed")
        for function in metadata.function_metadata_results:
            loaded = await self._call(
                _request_id(),
                pb.StreamingMessage(
                    function_load_request=pb.FunctionLoadRequest(
                        function_id=function.function_id, metadata=function
                    )
                ),
                within=LOAD_TIMEOUT_SECONDS,
            )
            _raise_for(loaded.function_load_response.result, f"loading {function.name!r} failed")
            self.functions[function.name] = LoadedFunction(function.function_id, function)

    async def _call(
        self, key: str, message: pb.StreamingMessage, *, within: float | None
    ) -> pb.StreamingMessage:
        if self._stream is None or self.exited.is_set():
            raise WorkerExited(f"the language worker has exited (code {self.returncode})")
        if not message.HasField("invocation_request"):
            message.request_id = key
        reply = asyncio.get_running_loop().create_future()
        self._pending[key] = reply
        self._stream.send(message)
        try:
            return await asyncio.wait_for(reply, within)
        finally:
            self._pending.pop(key, None)

    async def _receive(self, stream: WorkerStream) -> None:
        async for message in stream:
            kind = message.WhichOneof("content")
            if kind == "rpc_log":
                _forward_log(message.rpc_log)
                continue
            key = (
                message.invocation_response.invocation_id
                if kind == "invocation_response"
                else message.request_id
            )
            waiting = self._pending.get(key)
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
            elif kind not in ("worker_status_response", "invocation_response"):
                _LOG.debug("unexpected %s from the worker", kind)
        # The stream ended: whatever the process does next, nothing more will be answered.
        self._fail_pending()

    async def _watch_exit(self) -> None:
        assert self._process is not None
        self.returncode = await self._process.wait()
        self.exited.set()
        if self._stream is not None:
            self._stream.close()
        self._fail_pending()
        _LOG.log(
            logging.INFO if self.returncode == 0 else logging.WARNING,
            "language worker %s (pid %s) exited with code %s",
            self.worker_id[:8],
            self._process.pid,
            self.returncode,
        )

    def _fail_pending(self) -> None:
        error = WorkerExited(f"the language worker exited (code {self.returncode})")
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(error)

    async def _relay_output(self, pipe: asyncio.StreamReader, level: int) -> None:
        # The host logs the worker's console output as its own lines.
        while line := await pipe.readline():
            _WORKER_LOG.log(level, "%s", line.decode(errors="replace").rstrip())

    def _command(self) -> list[str]:
        # The host's command line for a language worker (RpcWorkerContext.GetFormattedArguments;
        # the Python worker.config.json adds `-X no_debug_ranges`).
        port, worker, request = str(self._server.port), self.worker_id, _request_id()
        length = str(MAX_MESSAGE_BYTES)
        return [
            sys.executable,
            "-X",
            "no_debug_ranges",
            "-m",
            "devhost.worker",
            *("--host", "127.0.0.1", "--port", port),
            *("--workerId", worker, "--requestId", request, "--grpcMaxMessageLength", length),
            *("--functions-uri", f"http://127.0.0.1:{port}/"),
            *("--functions-worker-id", worker, "--functions-request-id", request),
            *("--functions-grpc-max-message-length", length),
        ]

    def _worker_environment(self) -> dict[str, str]:
        environment = dict(self._environment)
        # The proxy worker lives beside the host, not in the app: make it importable after the
        # app's own folder, which `-m` puts first.
        paths = [environment.get("PYTHONPATH", ""), _DEVHOST_ROOT]
        environment["PYTHONPATH"] = ":".join(p for p in paths if p)
        return environment

    def _spawn(self, work: object) -> None:
        assert asyncio.iscoroutine(work)
        self._tasks.append(asyncio.create_task(work))


def _forward_log(log: pb.RpcLog) -> None:
    # Named by the record's category (the worker's logger name), so the host's log levels
    # apply per category, as host.json's logLevel does in Azure.
    logger = _WORKER_LOG.getChild(log.category) if log.category else _WORKER_LOG
    level = _LEVELS.get(log.level, logging.INFO)
    text = log.message
    if log.HasField("exception") and log.exception.message:
        text = f"{text}: {log.exception.message}" if text else log.exception.message
    if log.invocation_id:
        logger.log(level, "[%s] %s", log.invocation_id[:8], text)
    else:
        logger.log(level, "%s", text)


def _raise_for(result: pb.StatusResult, what: str) -> None:
    if result.status != pb.StatusResult.Success:
        exception = result.exception
        raise WorkerError(f"{what}: {exception.message or 'no reason given'}")


def _request_id() -> str:
    return str(uuid.uuid4())
