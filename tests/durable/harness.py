"""The sample app in Microsoft's Python worker, its orchestrator runner and an activity host.

Shared by the fixtures and the crash worker. The app (tests/durable/app) runs only in the
worker process; this process sends it invocations through devhost's own host-side classes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp

from devhost.durable import DurableEngine
from devhost.durable_wiring import DurableFunctions
from devhost.host_thread import LoopThread
from devhost.indexing import index_metadata
from devhost.invoker import Invoker
from devhost.outputs import OutputSender
from devhost.rpc.worker import LanguageWorker
from devhost.storage import QueueClients

T = TypeVar("T")

APP_DIR = Path(__file__).resolve().parent / "app"

# As in the app: the file whose existence makes `moody` take the other branch.
SAD_FILE_SETTING = "DURABLE_SAMPLE_SAD_FILE"

START = datetime(2024, 1, 1, tzinfo=UTC)
"""Where every virtual clock in these tests starts."""

# Starting the worker imports the SDKs and indexes the app; a loaded machine gets headroom.
START_TIMEOUT_SECONDS = 60.0


class SampleWorker:
    """The sample app loaded in one LanguageWorker, running on its own loop in a thread.

    A LanguageWorker belongs to the event loop it started on, while each engine test runs on
    a fresh loop; so the worker keeps a loop of its own and every call is handed to it.
    `run_orchestrator` and `run_activity` may be awaited on any loop. Create, use, `stop()`.
    """

    def __init__(self, *, scratch_dir: Path) -> None:
        """Start the worker; `scratch_dir` holds the files the tests steer the app with."""
        self._sad_file = scratch_dir / "sad"
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._loop = LoopThread("durable sample worker")
        environment = {**os.environ, SAD_FILE_SETTING: str(self._sad_file)}
        try:
            self._functions = self._loop.call(
                self._start(environment), timeout=START_TIMEOUT_SECONDS
            )
        except BaseException:
            self.stop()
            raise
        self.orchestrators = frozenset(
            f.name for f in self._index.of_trigger("orchestrationTrigger")
        )
        """The names of the app's orchestrator functions."""

    async def run_orchestrator(self, name: str, context_json: str) -> str:
        """An OrchestratorRunner: one episode in the worker, as Host.run_orchestrator runs it."""
        return await self._loop.run(self._functions.run_orchestrator(name, context_json))

    async def run_activity(self, name: str, input_json: str) -> str:
        """Run activity `name` in the worker as Host.run_activity does; its result as JSON."""
        return await self._loop.run(self._functions.run_activity(name, input_json))

    def set_mood(self, *, happy: bool) -> None:
        """Steer the `moody` orchestrator's branch from now on."""
        if happy:
            self._sad_file.unlink(missing_ok=True)
        else:
            self._sad_file.touch()

    def stop(self) -> None:
        """Stop the worker process, then the loop and its thread."""
        if not self._loop.running:
            return
        try:
            self._loop.call(self._stop(), timeout=START_TIMEOUT_SECONDS)
        finally:
            self._loop.close()
            self._sad_file.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # On the worker's loop

    async def _start(self, environment: dict[str, str]) -> DurableFunctions:
        worker = LanguageWorker(app_dir=APP_DIR, environment=environment)
        self._closers.append(worker.stop)
        await worker.start()
        self._index = index = index_metadata(worker.functions)
        # The Invoker delivers output bindings; the sample app has none, so these stay idle.
        queues = QueueClients(environment)
        http = aiohttp.ClientSession()
        self._closers.extend([queues.close, http.close])
        outputs = OutputSender(
            settings=environment,
            queues=queues,
            http=http,
            base64_queue_messages=True,
            on_enqueued=lambda _queue: None,
        )
        invoker = Invoker(
            index=index,
            worker=worker,
            outputs=outputs,
            durable_client=_no_durable_client,
            function_timeout=None,
        )
        return DurableFunctions(index=index, invoke=invoker.invoke)

    async def _stop(self) -> None:
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            await close()


def _no_durable_client() -> str:
    raise AssertionError("the sample app has no durableClient input")


class ActivityHost:
    """Runs the sample app's activities in the worker and records each call on the way."""

    def __init__(self, worker: SampleWorker) -> None:
        self.worker = worker
        self.calls: list[tuple[str, Any]] = []

    async def __call__(self, name: str, input_json: str) -> str:
        self.calls.append((name, json.loads(input_json)))
        return await self.worker.run_activity(name, input_json)

    def count(self, name: str) -> int:
        """How many times the activity ran."""
        return sum(1 for called, _ in self.calls if called == name)


def status_of(engine: DurableEngine, instance_id: str, **options: bool) -> dict[str, Any]:
    """The instance's status; fails the test when the instance does not exist."""
    status = engine.get_status(instance_id, **options)
    assert status is not None, f"no instance {instance_id}"
    return status
