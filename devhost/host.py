"""The local Functions host: starts the app's language worker, serves HTTP, polls queues and
runs the durable engine. The app itself runs only in the worker process.

Usable in-process (`await Host(...).start()`, or `HostThread` from synchronous tests) and from
`python -m devhost`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from azure.storage.queue.aio import QueueClient

from devhost.bindings import TriggerInput
from devhost.durable import DurableEngine, VirtualClock, WallClock
from devhost.durable.client_binding import client_binding_json
from devhost.durable.http_api import build_routes
from devhost.durable_wiring import DurableFunctions, StateDirInUse, build_engine, open_store
from devhost.http_server import create_web_app
from devhost.indexing import FunctionIndex, index_metadata
from devhost.invoker import Invoker
from devhost.keys import NO_KEYS, HostKeys, configured_keys
from devhost.outputs import OutputSender
from devhost.queue_listener import QueueListener
from devhost.queue_policy import poison_queue_name, trigger_queue_name_problem
from devhost.rpc import function_rpc_pb2 as pb
from devhost.rpc.worker import LanguageWorker, WorkerError
from devhost.settings import HostConfig, load_host_config, resolve_binding_expression
from devhost.storage import QueueClients

_LOG = logging.getLogger("devhost")

BIND_HOST = "127.0.0.1"
# The worker's setting for the v2 app's script, and its default.
SCRIPT_FILE_SETTING = "PYTHON_SCRIPT_FILE_NAME"
DEFAULT_SCRIPT_FILE = "function_app.py"
# How long a stopping host lets queue invocations finish: short, so Ctrl+C feels prompt; what
# is still running after it is released and received again.
STOP_GRACE_SECONDS = 2.0


class HostStartError(RuntimeError):
    """The host cannot start with this app or these settings; the message says why."""


class Host:
    """One running copy of the app. Create, `await start()`, use, `await stop()`."""

    def __init__(
        self,
        *,
        app_dir: Path,
        settings: Mapping[str, str],
        port: int = 0,
        keys: HostKeys = NO_KEYS,
        state_dir: Path,
        clock: VirtualClock | WallClock | None = None,
        time_scale: float = 1.0,
        start_listeners: bool = True,
    ) -> None:
        self.app_dir = app_dir
        self.settings = dict(settings)
        self.port = port
        self.state_dir = state_dir
        self.clock = clock if clock is not None else WallClock(time_scale)
        self.start_listeners = start_listeners
        self._explicit_keys = keys
        # What the app sees as its environment: the settings over the host's own variables.
        self.environment = {**os.environ, **self.settings}
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: list[Callable[[], object]] = []  # sync or async, run in reverse
        self._listeners: list[QueueListener] = []
        self._runner: web.AppRunner | None = None
        self._started = False
        self._index: FunctionIndex | None = None
        self._engine: DurableEngine | None = None
        self._invoker: Invoker | None = None
        self._worker: LanguageWorker | None = None
        self._durable: DurableFunctions | None = None
        self._url: str | None = None
        self._config = HostConfig()

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:7071`."""
        return _once_started(self._url)

    @property
    def route_prefix(self) -> str:
        """The HTTP route prefix from host.json (`api` by default)."""
        return self._config.route_prefix

    @property
    def index(self) -> FunctionIndex:
        """The app's functions."""
        return _once_started(self._index)

    @property
    def worker(self) -> LanguageWorker:
        """The app's language worker process."""
        return _once_started(self._worker)

    @property
    def engine(self) -> DurableEngine:
        """The durable engine running the app's orchestrations."""
        return _once_started(self._engine)

    async def start(self) -> None:
        """Apply the settings, index the app, and start serving; stops cleanly on failure."""
        if self._started:
            raise RuntimeError("the host is already started")
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def invoke(self, function_name: str, trigger: TriggerInput) -> pb.TypedData | None:
        """Run a function in the worker with full binding handling; its `$return` value."""
        return await _once_started(self._invoker).invoke(function_name, trigger)

    async def run_activity(self, name: str, input_json: str) -> str:
        """Run activity `name` with the orchestrator's JSON input; its result as JSON text."""
        return await self._durable_functions().run_activity(name, input_json)

    async def run_orchestrator(self, name: str, context_json: str) -> str:
        """Run one episode of orchestrator `name`; the SDK's state JSON text."""
        return await self._durable_functions().run_orchestrator(name, context_json)

    async def apply_settings(self, changes: Mapping[str, str]) -> None:
        """Change app settings while running: as in Azure, the worker restarts with them."""
        self.settings.update(changes)
        self.environment.update(changes)
        await self.worker.restart(self.environment)

    def _durable_functions(self) -> DurableFunctions:
        return _once_started(self._durable)

    async def stop(self) -> None:
        """Stop listeners, the engine and the server, close clients, restore the environment.

        Queue invocations in flight get STOP_GRACE_SECONDS to finish, and the messages of the
        rest are made visible again; activities in flight are cancelled and run again at the
        next start. Both happen before the store and the clients close under them.
        """
        for task in self._tasks:
            task.cancel()
        # A task that crashed was logged when it ended; its exception must not skip the rest.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        in_flight = [listener.stop(STOP_GRACE_SECONDS) for listener in self._listeners]
        if self._engine is not None:
            in_flight.append(self._engine.aclose())
        await asyncio.gather(*in_flight)
        if self._worker is not None:
            await self._worker.stop()
            self._worker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for close in reversed(self._closers):
            outcome = close()
            if inspect.isawaitable(outcome):
                await outcome
        self._closers.clear()
        self._started = False

    async def _start(self) -> None:
        environment = self.environment
        self._config = config = load_host_config(self.app_dir)
        keys = configured_keys(self._explicit_keys, environment)
        sock = _bind(self.port)
        self._closers.append(sock.close)  # in case start fails before the server owns it
        self._url = f"http://{BIND_HOST}:{sock.getsockname()[1]}"

        # The worker treats a folder without the script as a v1 app and loads nothing
        # (azure_functions_runtime handle_event.load_function_metadata); say so instead.
        script = self.app_dir / environment.get(SCRIPT_FILE_SETTING, DEFAULT_SCRIPT_FILE)
        if not script.is_file():
            raise HostStartError(f"{script} not found: --app-dir must hold the app's {script.name}")
        self._worker = worker = LanguageWorker(app_dir=self.app_dir, environment=environment)
        try:
            await worker.start()
        except WorkerError as err:
            raise HostStartError(str(err)) from None
        self._index = index = index_metadata(worker.functions)
        self._durable = DurableFunctions(index=index, invoke=self.invoke)

        queues = QueueClients(environment)
        http = aiohttp.ClientSession()
        self._closers.extend([queues.close, http.close])

        try:
            store = open_store(self.state_dir, config.hub_name)
        except StateDirInUse as err:
            raise HostStartError(str(err)) from None
        self._closers.append(store.close)
        self._engine = engine = build_engine(
            index=index,
            run_orchestrator=self.run_orchestrator,
            run_activity=self.run_activity,
            store=store,
            clock=self.clock,
            task_hub=config.hub_name,
            max_concurrent_activities=config.max_concurrent_activities,
        )
        client_json = client_binding_json(self._url, engine.task_hub, keys.durabletask_extension)
        outputs = OutputSender(
            settings=environment,
            queues=queues,
            http=http,
            base64_queue_messages=config.queues.base64,
            on_enqueued=self._wake_listeners,
        )
        self._closers.append(outputs.close)
        self._invoker = Invoker(
            index=index,
            worker=worker,
            outputs=outputs,
            durable_client=lambda: client_json,
            function_timeout=config.function_timeout,
        )

        if self.start_listeners:
            self._listeners = await self._create_listeners(index, config, queues)
        app = create_web_app(
            index=index,
            route_prefix=config.route_prefix,
            keys=keys,
            invoke=self.invoke,
            extra_routes=build_routes(engine, keys=keys),
            background_errors=self._background_errors,
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

        engine.recover()  # re-queue what a killed host left in flight
        if isinstance(self.clock, WallClock):
            # A VirtualClock is driven by its owner through engine.run_until_idle().
            self._spawn(engine.run_forever(), "durable engine")
        for listener in self._listeners:
            self._spawn(listener.run(), f"queue listener {listener.queue_name!r}")
        _LOG.info("devhost serving %s at %s", self.app_dir, self._url)

    async def _create_listeners(
        self, index: FunctionIndex, config: HostConfig, queues: QueueClients
    ) -> list[QueueListener]:
        listeners = []
        for function in index.of_trigger("queueTrigger"):
            name = resolve_binding_expression(
                str(function.trigger.get("queueName", "")), self.environment
            )
            problem = trigger_queue_name_problem(name)
            if problem:
                raise HostStartError(f"function {function.name!r}: {problem}")
            connection = function.trigger.get("connection")
            try:
                queue = await queues.existing_queue(connection, name)
            except Exception as err:
                raise HostStartError(
                    f"function {function.name!r}: cannot reach queue {name!r} through "
                    f"{connection or 'AzureWebJobsStorage'}: {err}"
                ) from err

            async def poison(connection: str | None = connection, name: str = name) -> QueueClient:
                return await queues.existing_queue(connection, poison_queue_name(name))

            listeners.append(
                QueueListener(
                    function_name=function.name,
                    queue=queue,
                    poison_queue=poison,
                    options=config.queues,
                    invoke=self.invoke,
                )
            )
        return listeners

    def _wake_listeners(self, queue_name: str) -> None:
        for listener in self._listeners:
            if listener.queue_name == queue_name:
                listener.wake()

    def _background_errors(self) -> list[str]:
        crashes = [_crash_report(task) for task in self._tasks]
        if self._worker is not None:
            crashes.append(self._worker.failure)
        return [crash for crash in crashes if crash is not None]

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(work, name=what)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)


def _once_started[T](part: T | None) -> T:
    """`part`, which `start()` sets; None means the host was never started."""
    if part is None:
        raise RuntimeError("the host has not been started")
    return part


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((BIND_HOST, port))
    except OSError as err:
        sock.close()
        raise HostStartError(f"cannot listen on {BIND_HOST}:{port}: {err.strerror}") from None
    return sock


def _crash_report(task: asyncio.Task[None]) -> str | None:
    """Why a background task ended; None while it runs or once it was cancelled (stop)."""
    if not task.done() or task.cancelled():
        return None
    return f"{task.get_name()} stopped: {task.exception()!r}"


def _report_crash(task: asyncio.Task[None]) -> None:
    crash = _crash_report(task)
    if crash is not None:
        _LOG.error("%s", crash)
