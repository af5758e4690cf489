"""Resuming from the SQLite file after the engine that wrote it vanished mid-run."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

from devhost.durable import DurableEngine, SqliteStore, VirtualClock
from tests.durable.conftest import EngineFactory, restarted, shut_down_mid_run
from tests.durable.crash_worker import INSTANCE_ID, PAUSED_AT
from tests.durable.harness import START, ActivityHost, SampleWorker, status_of

REPO_ROOT = Path(__file__).resolve().parents[2]


class BlockingHost(ActivityHost):
    """A host whose activities start and then never finish, like a process about to die."""

    def __init__(self, worker: SampleWorker) -> None:
        super().__init__(worker)
        self.started = asyncio.Event()
        self.cancelled = False

    async def __call__(self, name: str, input_json: str) -> str:
        self.calls.append((name, input_json))
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("unreachable: the activity never finishes")


async def _run_until_an_activity_blocks(
    engine: DurableEngine, blocking: BlockingHost
) -> asyncio.Task[None]:
    """Drive the engine in a task until its first activity has started on `blocking`."""
    runner = asyncio.create_task(engine.run_until_idle())
    async with asyncio.timeout(5):
        await blocking.started.wait()
    return runner


class TestRecovery:
    """recover() on a new engine over the file a crashed engine left behind."""

    async def test_recorded_activity_is_not_rerun_after_restart(
        self, make_engine: EngineFactory, tmp_path: Path
    ):
        """Crash while a timer is pending: the finished first activity never runs again."""
        path = tmp_path / "hub.sqlite"
        first, first_host = make_engine(store=SqliteStore(path))
        instance_id = await first.start_new("bookends", "survivor", None)
        await first.run_until_idle(until=START + timedelta(minutes=30))
        assert first_host.calls == [("greet", "start")]
        del first  # dropped without any cleanup; its connection is never closed

        clock = VirtualClock(START + timedelta(minutes=30))
        second, second_host = await restarted(make_engine, path, clock=clock)

        status = status_of(second, instance_id)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == ["Hello start!", "Hello end!"]
        assert second_host.calls == [("greet", "end")]
        assert clock.now() == START + timedelta(hours=1)

    async def test_activity_in_flight_at_the_crash_runs_again(
        self, make_engine: EngineFactory, sample_worker: SampleWorker, tmp_path: Path
    ):
        """An activity whose TaskScheduled is stored but whose result is not runs again."""
        path = tmp_path / "hub.sqlite"
        blocking = BlockingHost(sample_worker)
        first, _ = make_engine(store=SqliteStore(path), host=blocking)
        instance_id = await first.start_new("chain", None, None)
        runner = await _run_until_an_activity_blocks(first, blocking)
        runner.cancel()
        del first

        second, second_host = await restarted(make_engine, path)

        assert status_of(second, instance_id)["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert blocking.calls == [("greet", '"Tokyo"')]
        assert second_host.calls == [("greet", "Tokyo"), ("greet", "Seattle")]

    async def test_aclose_ends_activities_in_flight_and_a_restart_runs_them(
        self, make_engine: EngineFactory, sample_worker: SampleWorker, tmp_path: Path
    ):
        """After aclose() no activity is left to write to the store; the next engine reruns it."""
        path = tmp_path / "hub.sqlite"
        blocking = BlockingHost(sample_worker)
        store = SqliteStore(path)
        first, _ = make_engine(store=store, host=blocking)
        instance_id = await first.start_new("chain", None, None)
        runner = await _run_until_an_activity_blocks(first, blocking)
        await shut_down_mid_run(runner, first, store)

        assert blocking.cancelled
        assert asyncio.all_tasks() == {asyncio.current_task()}
        second, second_host = await restarted(make_engine, path)
        assert status_of(second, instance_id)["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert second_host.calls == [("greet", "Tokyo"), ("greet", "Seattle")]

    async def test_unprocessed_start_message_is_picked_up(
        self, make_engine: EngineFactory, tmp_path: Path
    ):
        """An instance started but never run before the crash runs after recover()."""
        path = tmp_path / "hub.sqlite"
        first, _ = make_engine(store=SqliteStore(path))
        instance_id = await first.start_new("chain", None, None)
        del first

        second, _ = make_engine(store=SqliteStore(path))
        await second.run_until_idle()
        assert status_of(second, instance_id)["runtimeStatus"] == "Pending"
        second.recover()
        await second.run_until_idle()

        assert status_of(second, instance_id)["runtimeStatus"] == "Completed"


class TestRecoveryAfterSigkill:
    """recover() over the file of a process that was killed with SIGKILL."""

    async def test_killed_process_resumes_without_rerunning_its_finished_activity(
        self, make_engine: EngineFactory, tmp_path: Path
    ):
        """A worker killed while its timer is pending leaves a file a new engine can finish."""
        path = tmp_path / "hub.sqlite"
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.durable.crash_worker",
            str(path),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert worker.stdout is not None
        try:
            async with asyncio.timeout(60):
                line = await worker.stdout.readline()
        finally:
            worker.kill()
            await worker.wait()
        assert line == b"paused\n"
        assert worker.returncode == -signal.SIGKILL

        engine, host = make_engine(store=SqliteStore(path), clock=VirtualClock(PAUSED_AT))
        engine.recover()
        await engine.run_until_idle()

        assert status_of(engine, INSTANCE_ID)["output"] == ["Hello start!", "Hello end!"]
        assert host.calls == [("greet", "end")]
