"""Fixtures for the durable engine tests: engines over the sample app, async test support."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator, Mapping

import pytest

from devhost.durable import DurableEngine, OrchestratorRunner, SqliteStore, VirtualClock, WallClock
from tests.durable.harness import (
    ORCHESTRATORS,
    START,
    ActivityHost,
    OrchestratorHandle,
    in_process_runner,
)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in this folder on a fresh event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


EngineFactory = Callable[..., tuple[DurableEngine, ActivityHost]]


@pytest.fixture
def make_engine() -> Iterator[EngineFactory]:
    """Build engines on a VirtualClock at START and an in-memory store unless told otherwise.

    Orchestrators run in process unless a `runner` is given.
    """
    stores: list[SqliteStore] = []

    def build(
        *,
        store: SqliteStore | None = None,
        clock: VirtualClock | WallClock | None = None,
        host: ActivityHost | None = None,
        max_concurrent_activities: int = 4,
        orchestrators: Mapping[str, OrchestratorHandle] = ORCHESTRATORS,
        runner: OrchestratorRunner | None = None,
    ) -> tuple[DurableEngine, ActivityHost]:
        if store is None:
            store = SqliteStore(":memory:")
            stores.append(store)
        host = host or ActivityHost()
        engine = DurableEngine(
            orchestrators.keys(),
            runner or in_process_runner(orchestrators),
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
