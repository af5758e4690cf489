"""Awaited episodes: client operations meanwhile, aclose(), and invocations that break."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devhost.durable import (
    DurableEngine,
    OrchestratorInvocationError,
    OrchestratorRunner,
    SqliteStore,
    VirtualClock,
)
from devhost.durable.history import EventType
from tests.durable.conftest import EngineFactory, restarted, shut_down_mid_run
from tests.durable.harness import START, ActivityHost, status_of


class GatedRunner:
    """Holds the first episode until `open()`, then runs it with `run`; records every context
    and the overlap."""

    def __init__(self, run: OrchestratorRunner) -> None:
        self.run = run
        self.contexts: list[dict[str, Any]] = []
        self.waiting = asyncio.Event()
        self.cancelled = False
        self.peak = 0
        self._running = 0
        self._open = asyncio.Event()

    async def __call__(self, name: str, context_json: str) -> str:
        self.contexts.append(json.loads(context_json))
        self._running += 1
        self.peak = max(self.peak, self._running)
        try:
            self.waiting.set()
            await self._open.wait()
            return await self.run(name, context_json)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self._running -= 1

    def open(self) -> None:
        """Let the held episode and every later one through."""
        self._open.set()


async def _hold_first_episode(engine: DurableEngine, gate: GatedRunner) -> asyncio.Task[None]:
    """Drive the engine in a task until its first episode waits at the gate."""
    driver = asyncio.create_task(engine.run_until_idle())
    async with asyncio.timeout(5):
        await gate.waiting.wait()
    return driver


async def _finish(driver: asyncio.Task[None], gate: GatedRunner) -> None:
    """Let the engine react to what the test did (it must not start a second episode of the
    instance), then open the gate and wait for the engine to go idle."""
    for _ in range(10):
        await asyncio.sleep(0)
    gate.open()
    async with asyncio.timeout(5):
        await driver


@dataclass
class HeldEpisode:
    """An engine whose first episode, of `instance_id`, waits at `gate` while `driver` runs."""

    engine: DurableEngine
    host: ActivityHost
    gate: GatedRunner
    instance_id: str
    driver: asyncio.Task[None]

    async def finish(self) -> None:
        await _finish(self.driver, self.gate)


async def _start_held(
    make_engine: EngineFactory,
    run_orchestrator: OrchestratorRunner,
    name: str,
    instance_id: str | None = None,
    **engine_options: Any,
) -> HeldEpisode:
    """Start `name` on a new engine whose runner holds the first episode, and wait for it."""
    gate = GatedRunner(run_orchestrator)
    engine, host = make_engine(runner=gate, **engine_options)
    started = await engine.start_new(name, instance_id, None)
    driver = await _hold_first_episode(engine, gate)
    return HeldEpisode(engine, host, gate, started, driver)


def _types(events: list[dict[str, Any]]) -> list[int]:
    return [event["EventType"] for event in events]


class TestClientOperationsDuringAnEpisode:
    """What a client does while an episode is awaited, and what the episode's commit keeps."""

    async def test_event_raised_during_an_episode_waits_for_the_next(
        self, make_engine, run_orchestrator
    ):
        """The held episode does not see the event; the next one does, and wins the race."""
        held = await _start_held(make_engine, run_orchestrator, "cancellable")
        engine, gate = held.engine, held.gate
        await engine.raise_event(held.instance_id, "cancel", json.dumps({"by": "meanwhile"}))
        await held.finish()

        status = status_of(engine, held.instance_id)
        assert status["output"] == {"outcome": "canceled", "data": {"by": "meanwhile"}}
        first, second = (_types(context["history"]) for context in gate.contexts)
        assert EventType.EventRaised not in first
        assert EventType.EventRaised in second
        assert gate.peak == 1

    async def test_terminate_during_an_episode_drops_its_result(
        self, make_engine, run_orchestrator
    ):
        """The episode's activity is never scheduled; the instance stays Terminated."""
        held = await _start_held(make_engine, run_orchestrator, "chain")
        await held.engine.terminate(held.instance_id, "stopped meanwhile")
        await held.finish()

        status = status_of(held.engine, held.instance_id, show_history=True)
        assert (status["runtimeStatus"], status["output"]) == ("Terminated", "stopped meanwhile")
        assert [e["EventType"] for e in status["historyEvents"]] == ["ExecutionTerminated"]
        assert held.host.calls == []

    async def test_new_start_over_an_id_terminated_during_its_episode(
        self, make_engine, run_orchestrator
    ):
        """The old episode's result is dropped; the new execution runs after it, not beside it."""
        held = await _start_held(make_engine, run_orchestrator, "chain", "reused")
        engine = held.engine
        await engine.terminate("reused", "make room")
        await engine.start_new("fan_out", "reused", json.dumps(["a"]))
        await held.finish()

        status = status_of(engine, "reused")
        assert (status["name"], status["output"]) == ("fan_out", ["Hello a!"])
        assert held.host.calls == [("greet", "a")]
        assert held.gate.peak == 1

    async def test_purge_during_an_episode_leaves_nothing_behind(
        self, make_engine, run_orchestrator
    ):
        """An instance terminated and purged meanwhile does not come back with the commit."""
        held = await _start_held(make_engine, run_orchestrator, "chain")
        engine, instance_id = held.engine, held.instance_id
        await engine.terminate(instance_id, "gone")
        assert await engine.purge(instance_id) == 1
        await held.finish()

        assert engine.get_status(instance_id) is None
        assert engine.query() == []
        assert held.host.calls == []

    async def test_aclose_cancels_an_episode_in_flight_and_recover_reruns_it(
        self, make_engine: EngineFactory, run_orchestrator: OrchestratorRunner, tmp_path: Path
    ):
        """aclose() ends a held episode without a commit; the next engine runs it again."""
        path = tmp_path / "hub.sqlite"
        store = SqliteStore(path)
        held = await _start_held(make_engine, run_orchestrator, "chain", store=store)
        await shut_down_mid_run(held.driver, held.engine, store)

        assert held.gate.cancelled
        assert asyncio.all_tasks() == {asyncio.current_task()}
        second, host = await restarted(make_engine, path)
        status = status_of(second, held.instance_id, show_history=True)
        assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert [e["EventType"] for e in status["historyEvents"]].count("ExecutionStarted") == 1
        assert host.count("greet") == 2


class BreakingRunner:
    """Breaks (as a dying worker would) for the first `breaks` calls, per instance; else `run`."""

    def __init__(
        self, run: OrchestratorRunner, clock: VirtualClock, breaks: int, only: str | None = None
    ) -> None:
        self.run = run
        self.clock = clock
        self.breaks = breaks
        self.only = only
        self.calls: list[tuple[str, datetime]] = []

    async def __call__(self, name: str, context_json: str) -> str:
        instance_id = json.loads(context_json)["instanceId"]
        self.calls.append((instance_id, self.clock.now()))
        earlier = sum(1 for called, _ in self.calls if called == instance_id)
        if (self.only is None or instance_id == self.only) and earlier <= self.breaks:
            raise ConnectionError("the language worker process exited")
        return await self.run(name, context_json)

    def times(self, instance_id: str) -> list[datetime]:
        """When the instance's episodes were attempted."""
        return [when for called, when in self.calls if called == instance_id]


class TestBrokenInvocations:
    """A runner that raises anything but OrchestratorInvocationError: the episode is retried."""

    @pytest.mark.parametrize(
        ("breaks", "retried_after_s"),
        [(1, [2]), (3, [2, 6, 14]), (10, [2, 6, 14, 30, 62, 126, 254, 510, 1022, 1622])],
        ids=["once", "three-times", "backoff-capped-at-600-s"],
    )
    async def test_batch_stays_and_the_episode_is_retried_with_backoff(
        self, make_engine, run_orchestrator, breaks: int, retried_after_s: list[int]
    ):
        """Retries at 2, 4, 8 ... 600 s apart; then the instance runs as if nothing happened."""
        clock = VirtualClock(START)
        runner = BreakingRunner(run_orchestrator, clock, breaks)
        engine, host = make_engine(clock=clock, runner=runner)
        instance_id = await engine.start_new("chain", "shaky", None)
        await engine.run_until_idle(until=START + timedelta(seconds=1))
        assert status_of(engine, instance_id)["runtimeStatus"] == "Pending"
        await engine.run_until_idle()

        attempts = [START + timedelta(seconds=s) for s in [0, *retried_after_s]]
        assert runner.times(instance_id)[: breaks + 1] == attempts
        status = status_of(engine, instance_id, show_history=True)
        assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert [e["EventType"] for e in status["historyEvents"]].count("ExecutionStarted") == 1
        assert host.count("greet") == 2

    async def test_other_instances_carry_on_while_one_keeps_breaking(
        self, make_engine, run_orchestrator
    ):
        """An instance whose invocations keep breaking holds up no other instance."""
        clock = VirtualClock(START)
        runner = BreakingRunner(run_orchestrator, clock, breaks=10**6, only="broken")
        engine, _ = make_engine(clock=clock, runner=runner)
        await engine.start_new("chain", "broken", None)
        await engine.start_new("chain", "fine", None)
        await engine.run_until_idle(until=START + timedelta(minutes=1))

        assert status_of(engine, "fine")["runtimeStatus"] == "Completed"
        assert status_of(engine, "broken")["runtimeStatus"] == "Pending"
        assert len(runner.times("broken")) == 5  # at 0, 2, 6, 14 and 30 s

    async def test_terminate_while_waiting_to_retry_cancels_the_retry(
        self, make_engine, run_orchestrator
    ):
        """A terminated instance is not retried, and time does not move for its retry."""
        clock = VirtualClock(START)
        runner = BreakingRunner(run_orchestrator, clock, breaks=10**6)
        engine, _ = make_engine(clock=clock, runner=runner)
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle(until=START + timedelta(seconds=1))
        await engine.terminate(instance_id, "given up")
        await engine.run_until_idle()

        assert status_of(engine, instance_id)["runtimeStatus"] == "Terminated"
        assert len(runner.calls) == 1
        assert clock.now() == START + timedelta(seconds=1)

    async def test_function_failure_fails_the_instance_at_once(self, make_engine):
        """OrchestratorInvocationError without a state is the function failing: no retry."""
        calls: list[str] = []

        async def failing(name: str, context_json: str) -> str:
            calls.append(name)
            raise OrchestratorInvocationError("RuntimeError: the orchestrator broke")

        runner: OrchestratorRunner = failing
        engine, _ = make_engine(runner=runner)
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Failed"
        assert status["output"] == (
            "Orchestrator function 'chain' failed: RuntimeError: the orchestrator broke"
        )
        assert calls == ["chain"]
