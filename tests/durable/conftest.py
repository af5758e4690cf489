"""Fixtures for the durable engine tests: engines over the sample app, async test support.

The sample app runs in one worker process for the whole session (starting one takes about a
second); every engine sends its episodes and activities there.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.durable import DurableEngine, OrchestratorRunner, SqliteStore, VirtualClock, WallClock
from tests.durable.harness import START, ActivityHost, SampleWorker


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in this folder on a fresh event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


EngineFactory = Callable[..., tuple[DurableEngine, ActivityHost]]


async def shut_down_mid_run(
    driver: asyncio.Task[Any], engine: DurableEngine, store: SqliteStore
) -> None:
    """Stop an engine while something it started is still in flight, as a host shutting down
    does: cancel the task driving it, then aclose() the engine and close its store."""
    driver.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await driver
    await engine.aclose()
    store.close()


async def restarted(
    make_engine: EngineFactory, path: Path, **options: Any
) -> tuple[DurableEngine, ActivityHost]:
    """A new engine over the store file an earlier one left at `path`, recovered and run until
    idle, as the host does after a restart."""
    engine, host = make_engine(store=SqliteStore(path), **options)
    engine.recover()
    await engine.run_until_idle()
    return engine, host


@pytest.fixture(scope="session")
def sample_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleWorker]:
    """The sample app in Microsoft's Python worker, shared by every test of the session."""
    with SampleWorker(scratch_dir=tmp_path_factory.mktemp("sample-worker")) as worker:
        yield worker


@pytest.fixture
def run_orchestrator(sample_worker: SampleWorker) -> OrchestratorRunner:
    """The runner that sends each episode to the sample app's worker."""
    return sample_worker.run_orchestrator


@pytest.fixture
def make_engine(sample_worker: SampleWorker) -> Iterator[EngineFactory]:
    """Build engines on a VirtualClock at START and an in-memory store unless told otherwise.

    Every store an engine was built on is closed at teardown, given or not.

    Orchestrators and activities run in the sample app's worker, unless a `runner` or a
    `host` is given.
    """
    stores: list[SqliteStore] = []

    def build(
        *,
        store: SqliteStore | None = None,
        clock: VirtualClock | WallClock | None = None,
        host: ActivityHost | None = None,
        max_concurrent_activities: int = 4,
        runner: OrchestratorRunner | None = None,
    ) -> tuple[DurableEngine, ActivityHost]:
        store = store or SqliteStore(":memory:")
        stores.append(store)
        host = host or ActivityHost(sample_worker)
        engine = DurableEngine(
            sample_worker.orchestrators,
            runner or sample_worker.run_orchestrator,
            host,
            store,
            clock or VirtualClock(START),
            max_concurrent_activities=max_concurrent_activities,
        )
        return engine, host

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def engine(make_engine: EngineFactory) -> DurableEngine:
    """An engine on a VirtualClock at START with an in-memory store."""
    return make_engine()[0]


@pytest.fixture
def engine_and_host(make_engine: EngineFactory) -> tuple[DurableEngine, ActivityHost]:
    """An engine and the activity host it calls."""
    return make_engine()
