"""The engine on a scaled wall clock, driven by its background scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from devhost.durable import DurableEngine, OrchestratorRunner, SqliteStore, VirtualClock, WallClock
from tests.durable.conftest import EngineFactory
from tests.durable.harness import START


@contextlib.asynccontextmanager
async def scheduling(engine: DurableEngine) -> AsyncIterator[asyncio.Task[None]]:
    """Run the engine's background scheduler for the duration of the block."""
    scheduler = asyncio.create_task(engine.run_forever())
    try:
        yield scheduler
    finally:
        scheduler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler


class TestWallClock:
    """WallClock: orchestration time = start + real elapsed * time_scale."""

    async def test_scaled_sleep_takes_the_scaled_real_time(self):
        """At time_scale=1000, sleeping 50 orchestration seconds takes about 50 ms."""
        clock = WallClock(time_scale=1000)
        target = clock.now() + timedelta(seconds=50)
        started = time.monotonic()
        await clock.sleep_until(target)

        assert 0.045 <= time.monotonic() - started < 1.0
        assert clock.now() >= target - timedelta(milliseconds=5)

    def test_now_is_utc_aware_and_close_to_real_time(self):
        """Unscaled, the clock reads the real UTC time."""
        now = WallClock().now()
        assert now.tzinfo is not None
        assert abs(now - datetime.now(UTC)) < timedelta(seconds=1)

    @pytest.mark.parametrize("scale", [0, -1], ids=["zero", "negative"])
    def test_non_positive_scale_is_refused(self, scale):
        """time_scale must be positive."""
        with pytest.raises(ValueError, match="time_scale must be positive"):
            WallClock(time_scale=scale)

    def test_resume_from_a_later_time_carries_on_from_it(self):
        """A restarted sped-up host continues from the recorded time instead of going back."""
        clock = WallClock(time_scale=10)
        ahead = clock.now() + timedelta(hours=1)
        clock.resume_from(ahead)
        assert clock.now() >= ahead
        clock.resume_from(ahead - timedelta(hours=2))
        assert clock.now() >= ahead

    async def test_recover_moves_the_clock_to_the_latest_recorded_time(
        self, make_engine: EngineFactory
    ):
        """Recovering from a store whose instances ran ahead moves a fresh WallClock forward."""
        ahead = datetime.now(UTC) + timedelta(days=1)
        store = SqliteStore(":memory:")
        first, _ = make_engine(clock=VirtualClock(ahead), store=store)
        await first.start_new("chain", "ahead", '"x"')
        await first.run_until_idle()
        clock = WallClock(time_scale=10)
        second, _ = make_engine(clock=clock, store=store)
        second.recover()
        assert clock.now() >= ahead
        store.close()


class TestVirtualClock:
    """VirtualClock: stands still, jumps forward only."""

    async def test_jumps_forward_but_never_back(self):
        """sleep_until moves the clock forward immediately and ignores earlier times."""
        clock = VirtualClock(START)
        await clock.sleep_until(START + timedelta(days=3))
        await clock.sleep_until(START)
        assert clock.now() == START + timedelta(days=3)

    def test_naive_start_is_refused(self):
        """A naive start time would break the SDK's timer comparisons."""
        with pytest.raises(ValueError, match="timezone-aware"):
            VirtualClock(datetime(2024, 1, 1))


class TestRunForever:
    """run_forever as the host's background scheduler."""

    async def test_sixty_second_timer_fires_in_about_sixty_milliseconds(
        self, make_engine: EngineFactory
    ):
        """At time_scale=1000 a 60 s durable timer fires after ~60 ms, at its fireAt."""
        engine, _ = make_engine(clock=WallClock(time_scale=1000))
        async with scheduling(engine):
            started = time.monotonic()
            instance_id = await engine.start_new("nap", None, "60")
            async with asyncio.timeout(10):
                status = await engine.wait_for_completion(instance_id)
            elapsed = time.monotonic() - started

        output = status["output"]
        woke = datetime.fromisoformat(output["woke"])
        assert status["runtimeStatus"] == "Completed"
        assert woke - datetime.fromisoformat(output["started"]) >= timedelta(seconds=60)
        assert 0.055 <= elapsed < 2.0

    async def test_engine_error_in_one_instance_fails_it_and_others_carry_on(
        self, make_engine: EngineFactory
    ):
        """An episode that raises inside the engine fails its instance, not the scheduler.

        `garbled` answers with text that is not the SDK's state JSON.
        """
        engine, _ = make_engine(clock=WallClock())
        async with scheduling(engine) as scheduler:
            broken = await engine.start_new("garbled", None, None)
            fine = await engine.start_new("chain", None, None)
            async with asyncio.timeout(10):
                failed = await engine.wait_for_completion(broken)
                completed = await engine.wait_for_completion(fine)
            assert not scheduler.done()

        assert failed["runtimeStatus"] == "Failed"
        assert "devhost durable engine error: JSONDecodeError" in failed["output"]
        assert completed["output"] == ["Hello Tokyo!", "Hello Seattle!"]

    async def test_broken_invocation_is_retried_by_the_scheduler(
        self, make_engine: EngineFactory, run_orchestrator: OrchestratorRunner
    ):
        """An invocation that breaks is retried after its 2 s backoff (2 ms at time_scale=1000)."""
        calls: list[str] = []

        async def breaks_once(name: str, context_json: str) -> str:
            calls.append(name)
            if len(calls) == 1:
                raise ConnectionError("the language worker process exited")
            return await run_orchestrator(name, context_json)

        engine, _ = make_engine(clock=WallClock(time_scale=1000), runner=breaks_once)
        async with scheduling(engine):
            instance_id = await engine.start_new("chain", None, None)
            async with asyncio.timeout(10):
                status = await engine.wait_for_completion(instance_id)

        assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert calls == ["chain"] * 4  # the broken one, then one episode per step

    async def test_virtual_clock_cannot_run_forever(self, engine):
        """run_forever needs real time; a VirtualClock is driven with run_until_idle."""
        with pytest.raises(TypeError, match="run_forever needs a WallClock"):
            await engine.run_forever()
