"""The engine running the sample app's real orchestrators on a virtual clock."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from devhost.durable import (
    DurableEngine,
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    InstanceStillRunning,
    OrchestratorRunner,
    UnknownOrchestrator,
    VirtualClock,
)
from tests.durable.conftest import EngineFactory
from tests.durable.harness import START, ActivityHost, SampleWorker, status_of

HOUR = timedelta(hours=1)


def _event_types(engine: DurableEngine, instance_id: str) -> list[str]:
    events = status_of(engine, instance_id, show_history=True)["historyEvents"]
    return [event["EventType"] for event in events]


class TestActivities:
    """Activities scheduled by orchestrators, in sequence and in parallel."""

    async def test_chain_returns_each_result_in_order(self, engine_and_host):
        """A two-step chain completes with both activity results, each activity run once."""
        engine, host = engine_and_host
        instance_id = await engine.start_new("chain", "chain-1", None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]
        assert host.calls == [("greet", "Tokyo"), ("greet", "Seattle")]

    async def test_fan_out_collects_every_result(self, engine_and_host):
        """A task_all over three activities returns the three results in call order."""
        engine, host = engine_and_host
        instance_id = await engine.start_new("fan_out", None, json.dumps(["a", "b", "c"]))
        await engine.run_until_idle()

        assert status_of(engine, instance_id)["output"] == ["Hello a!", "Hello b!", "Hello c!"]
        assert host.count("greet") == 3

    async def test_activities_never_exceed_the_concurrency_limit(self, make_engine, sample_worker):
        """With max_concurrent_activities=2, at most two activities run at the same time."""

        class CountingHost(ActivityHost):
            running = 0
            peak = 0

            async def __call__(self, name: str, input_json: str) -> str:
                self.running += 1
                self.peak = max(self.peak, self.running)
                try:
                    return await super().__call__(name, input_json)
                finally:
                    self.running -= 1

        host = CountingHost(sample_worker)
        engine, _ = make_engine(host=host, max_concurrent_activities=2)
        await engine.start_new("fan_out", None, json.dumps([str(n) for n in range(6)]))
        await engine.run_until_idle()

        assert host.count("greet") == 6
        assert host.peak == 2

    async def test_caught_failure_reaches_the_orchestrator_as_an_exception(self, engine):
        """An activity that raises is caught by the orchestrator, whose text names it."""
        instance_id = await engine.start_new("catch_failure", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"]["caught"].startswith(
            "Activity function 'explode' failed: RuntimeError: exploded on boom"
        )

    async def test_uncaught_failure_fails_the_instance_with_the_error_text(self, engine):
        """An activity failure the orchestrator does not catch fails the instance."""
        instance_id = await engine.start_new("uncaught_failure", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Failed"
        assert status["output"].startswith("Orchestrator function 'uncaught_failure' failed:")
        assert "exploded on boom" in status["output"]


class TestLogging:
    """One INFO line per state change, through the module's logger."""

    async def test_start_and_completion_are_logged_at_info(self, engine, caplog):
        """Starting and completing an instance each log one INFO line naming it."""
        caplog.set_level(logging.INFO, logger="devhost.durable.engine")
        instance_id = await engine.start_new("chain", "logged", None)
        await engine.run_until_idle()

        info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert info == [
            "Orchestration logged (chain) started",
            "Orchestration logged (chain) completed",
        ]
        assert instance_id == "logged"


class TestRetries:
    """call_activity_with_retry, with DTFx's retry timers emulated by the engine."""

    async def test_activity_succeeding_on_third_attempt_completes(self, engine_and_host):
        """Two failures then a success: three calls, two 5 s retry timers, then the next step."""
        engine, host = engine_and_host
        settings = {"key": "third-time-lucky", "failures": 2, "maxAttempts": 3}
        instance_id = await engine.start_new("with_retry", None, json.dumps(settings))
        await engine.run_until_idle()

        status = status_of(engine, instance_id, show_history=True)
        assert status["output"]["result"] == "succeeded on attempt 3"
        assert status["output"]["after"] == "Hello after retry!"
        assert datetime.fromisoformat(status["output"]["at"]) == START + timedelta(seconds=10)
        assert host.count("flaky") == 3
        history = status["historyEvents"]
        assert [e["EventType"] for e in history].count("TimerFired") == 2

    async def test_activity_failing_every_attempt_gives_up_after_max_attempts(
        self, engine_and_host
    ):
        """Failing 3 of 3 attempts surfaces the last error after the SDK's extra retry timer."""
        engine, host = engine_and_host
        settings = {"key": "hopeless", "failures": 99, "maxAttempts": 3}
        instance_id = await engine.start_new("with_retry", None, json.dumps(settings))
        await engine.run_until_idle()

        output = status_of(engine, instance_id)["output"]
        assert "ConnectionError: attempt 3 failed" in output["gaveUp"]
        assert datetime.fromisoformat(output["at"]) == START + timedelta(seconds=15)
        assert host.count("flaky") == 3
        assert host.count("greet") == 0

    async def test_retry_interval_beyond_a_century_fails_the_instance_clearly(
        self, engine_and_host
    ):
        """10**15 ms cannot be added to the clock: the instance fails, naming the option."""
        engine, host = engine_and_host
        instance_id = await engine.start_new("absurd_retry", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Failed"
        assert "firstRetryIntervalInMilliseconds=1000000000000000" in status["output"]
        assert host.count("explode") == 0


class TestTimers:
    """Durable timers on the virtual clock."""

    async def test_timer_jumps_the_virtual_clock_without_waiting(self, engine):
        """A 60 s timer moves orchestration time by 60 s and takes no real minute."""
        started = time.monotonic()
        instance_id = await engine.start_new("nap", None, "60")
        await engine.run_until_idle()

        output = status_of(engine, instance_id)["output"]
        woke = datetime.fromisoformat(output["woke"])
        assert woke - datetime.fromisoformat(output["started"]) == timedelta(seconds=60)
        assert engine.clock.now() == START + timedelta(seconds=60)
        assert time.monotonic() - started < 5

    async def test_ten_day_timer_is_split_into_sub_timers(self, engine):
        """With Azure Storage limits a 10-day timer becomes 3 sub-timers (3 + 3 + 4 days)."""
        instance_id = await engine.start_new("long_nap", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id, show_history=True)
        assert status["output"] == (START + timedelta(days=10)).isoformat()
        assert [e["EventType"] for e in status["historyEvents"]].count("TimerCreated") == 3

    async def test_run_until_stops_before_a_later_timer(self, engine):
        """run_until_idle(until) leaves a later timer pending and the clock at `until`."""
        instance_id = await engine.start_new("nap", None, "60")
        await engine.run_until_idle(until=START + timedelta(seconds=30))

        assert status_of(engine, instance_id)["runtimeStatus"] == "Running"
        assert engine.clock.now() == START + timedelta(seconds=30)


class TestExternalEvents:
    """wait_for_external_event, alone and raced against a timer with task_any."""

    async def test_event_before_the_deadline_wins_and_the_timer_never_fires(self, engine):
        """`cancel` raised at 30 min wins; the instance completes, so its 1 h timer is dropped."""
        instance_id = await engine.start_new("cancellable", None, None)
        await engine.run_until_idle(until=START + timedelta(minutes=30))
        await engine.raise_event(instance_id, "cancel", json.dumps({"by": "operator"}))
        await engine.run_until_idle()

        status = status_of(engine, instance_id, show_history=True)
        assert status["output"] == {"outcome": "canceled", "data": {"by": "operator"}}
        assert "TimerFired" not in [e["EventType"] for e in status["historyEvents"]]
        assert engine.clock.now() == START + timedelta(minutes=30)

    async def test_canceled_timer_still_fires_in_an_episode_of_its_own(
        self, make_engine: EngineFactory, run_orchestrator: OrchestratorRunner
    ):
        """A timer canceled after losing a race fires at its time as an extra episode.

        The extension arms a canceled timer too (OutOfProcOrchestrationShim); the SDK
        ignores its TimerFired and the orchestration carries on.
        """
        clock = VirtualClock(START)
        episodes: list[datetime] = []

        async def recording(name: str, context_json: str) -> str:
            episodes.append(clock.now())
            return await run_orchestrator(name, context_json)

        engine, _ = make_engine(clock=clock, runner=recording)
        instance_id = await engine.start_new("cancel_then_wait", None, None)
        await engine.run_until_idle(until=START + timedelta(minutes=30))
        await engine.raise_event(instance_id, "go", None)
        await engine.run_until_idle(until=START + 2 * HOUR)

        assert episodes == [START, START + timedelta(minutes=30), START + HOUR]
        assert status_of(engine, instance_id)["runtimeStatus"] == "Running"
        assert _event_types(engine, instance_id) == [
            "ExecutionStarted",
            "TimerCreated",
            "EventRaised",
            "TimerFired",
        ]
        await engine.raise_event(instance_id, "done", json.dumps("finished"))
        await engine.run_until_idle()
        assert status_of(engine, instance_id)["output"] == "finished"

    async def test_deadline_wins_when_no_event_arrives(self, engine):
        """Without `cancel` the 1 h timer wins and the orchestrator reports the timeout."""
        instance_id = await engine.start_new("cancellable", None, None)
        await engine.run_until_idle()

        output = status_of(engine, instance_id)["output"]
        assert output == {"outcome": "timed out", "at": (START + HOUR).isoformat()}

    # The SDK parks an event nobody waits for yet and warns about it; that is the path tested.
    @pytest.mark.filterwarnings("ignore:Potential duplicate Task completion:UserWarning")
    async def test_event_raised_before_the_wait_is_buffered(self, engine):
        """An event raised before the orchestrator waits for it is delivered when it does."""
        instance_id = await engine.start_new("late_listener", None, None)
        await engine.raise_event(instance_id, "go", json.dumps([1, 2]))
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == [1, 2]

    async def test_event_for_unknown_instance_is_refused(self, engine):
        """Raising an event on an id nobody started raises InstanceNotFound."""
        with pytest.raises(InstanceNotFound, match="nobody"):
            await engine.raise_event("nobody", "go", None)

    async def test_event_for_completed_instance_is_refused(self, engine):
        """Raising an event on a completed instance raises InstanceNotRunning."""
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle()
        with pytest.raises(InstanceNotRunning, match="Completed"):
            await engine.raise_event(instance_id, "go", None)


class TestCustomStatus:
    """The extension's 16 KB limit on a custom status, in UTF-16 bytes of compact JSON."""

    TOO_BIG = (
        "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. "
        "The current payload size is 17 KB."
    )

    @pytest.mark.parametrize(
        ("char", "size"),
        [("x", 8701), ("\N{EURO SIGN}", 6000)],
        ids=["just-under-17-kb", "non-ascii-counted-in-utf-16"],
    )
    async def test_custom_status_up_to_the_limit_is_kept(self, engine_and_host, char, size):
        """8,701 characters (17,406 bytes with quotes) still fit: the KB count rounds down."""
        engine, host = engine_and_host
        settings = {"char": char, "size": size}
        instance_id = await engine.start_new("status_report", None, json.dumps(settings))
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", "reported")
        assert status["customStatus"] == char * size
        assert host.count("greet") == 1

    async def test_custom_status_over_the_limit_fails_before_any_action(self, engine_and_host):
        """At 17 KB the instance fails with the extension's message and schedules nothing."""
        engine, host = engine_and_host
        settings = {"char": "x", "size": 8702}
        instance_id = await engine.start_new("status_report", None, json.dumps(settings))
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Failed"
        assert status["output"] == f"Orchestrator function 'status_report' failed: {self.TOO_BIG}"
        assert status["customStatus"] is None
        assert host.count("greet") == 0
        assert _event_types(engine, instance_id) == ["ExecutionStarted", "ExecutionCompleted"]

    async def test_oversized_status_of_a_raising_orchestrator_is_the_bare_output(self, engine):
        """When the function also raised, the size error escapes the extension unprefixed."""
        settings = {"char": "x", "size": 8702, "raise": True}
        instance_id = await engine.start_new("status_report", None, json.dumps(settings))
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert (status["runtimeStatus"], status["output"]) == ("Failed", self.TOO_BIG)


class TestContinueAsNew:
    """Eternal-style orchestrations that continue as new."""

    async def test_generations_run_each_activity_once_and_keep_custom_status(self, engine_and_host):
        """Four generations: one `record` call each, custom status and input from the last."""
        engine, host = engine_and_host
        instance_id = await engine.start_new(
            "generations", "eternal", json.dumps({"generation": 0, "last": 3})
        )
        await engine.run_until_idle()

        status = status_of(engine, instance_id, show_history=True)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == {"final": 3}
        assert status["customStatus"] == {"generation": 3}
        assert json.loads(status["input"]) == {"generation": 3, "last": 3}
        assert host.calls == [("record", f"generation {n}") for n in range(4)]
        # Only the last execution's history is kept, as after a real ContinueAsNew.
        assert [e["EventType"] for e in status["historyEvents"]].count("ExecutionStarted") == 1
        assert engine.clock.now() == START + timedelta(minutes=4)


class TestNonDeterminism:
    """Replays that do not match the recorded history."""

    @pytest.fixture
    def mood_swinging_host(self, sample_worker: SampleWorker) -> Iterator[ActivityHost]:
        """A host whose first activity changes the mood the `moody` orchestrator reads."""

        class MoodSwing(ActivityHost):
            async def __call__(self, name: str, input_json: str) -> str:
                self.worker.set_mood(happy=False)
                return await super().__call__(name, input_json)

        sample_worker.set_mood(happy=True)
        yield MoodSwing(sample_worker)
        sample_worker.set_mood(happy=True)

    async def test_changed_activity_name_on_replay_fails_the_instance(
        self, make_engine: EngineFactory, mood_swinging_host: ActivityHost
    ):
        """A replay that schedules `record` where history has `greet` fails as non-deterministic."""
        engine, _ = make_engine(host=mood_swinging_host)
        instance_id = await engine.start_new("moody", None, None)
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Failed"
        assert "Non-deterministic workflow detected" in status["output"]
        assert "CallActivity 'greet'" in status["output"]
        assert "CallActivity 'record'" in status["output"]


class TestTerminate:
    """Terminating an instance from outside."""

    async def test_terminated_instance_keeps_reason_and_drops_its_timer(self, engine):
        """Terminate: status Terminated, output = reason, and the pending timer is dropped."""
        instance_id = await engine.start_new("cancellable", None, None)
        await engine.run_until_idle(until=START + timedelta(minutes=1))
        await engine.terminate(instance_id, "operator gave up")
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status["runtimeStatus"] == "Terminated"
        assert status["output"] == "operator gave up"
        assert engine.clock.now() == START + timedelta(minutes=1)
        assert _event_types(engine, instance_id)[-1] == "ExecutionTerminated"

    async def test_terminating_a_finished_instance_is_refused(self, engine):
        """A completed instance cannot be terminated."""
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle()
        with pytest.raises(InstanceNotRunning):
            await engine.terminate(instance_id, "too late")


class TestStartNew:
    """Starting, replacing and refusing instances."""

    async def test_running_instance_id_cannot_be_reused(self, engine):
        """start_new on a Pending/Running id raises InstanceExists."""
        await engine.start_new("cancellable", "singleton", None)
        with pytest.raises(InstanceExists, match="with the status Pending already exists"):
            await engine.start_new("chain", "singleton", None)

    async def test_completed_instance_id_is_replaced(self, engine_and_host):
        """start_new on a completed id starts a fresh instance under the same id."""
        engine, host = engine_and_host
        await engine.start_new("chain", "again", None)
        await engine.run_until_idle()
        await engine.start_new("fan_out", "again", json.dumps(["x"]))
        assert status_of(engine, "again")["runtimeStatus"] == "Pending"
        await engine.run_until_idle()

        status = status_of(engine, "again", show_history=True)
        assert status["name"] == "fan_out"
        assert status["output"] == ["Hello x!"]
        assert [e["EventType"] for e in status["historyEvents"]].count("ExecutionStarted") == 1
        assert host.count("greet") == 3

    async def test_unknown_orchestrator_is_refused(self, engine):
        """start_new with a name that is not an orchestrator raises UnknownOrchestrator."""
        with pytest.raises(UnknownOrchestrator, match="'greet' doesn't exist"):
            await engine.start_new("greet", None, None)

    async def test_input_that_is_not_json_text_is_refused(self, engine):
        """start_new checks that the input is JSON text."""
        with pytest.raises(ValueError, match="must be JSON text"):
            await engine.start_new("chain", None, "not json")

    async def test_generated_ids_are_unique(self, engine):
        """Without an id, each start gets a fresh one."""
        first = await engine.start_new("chain", None, None)
        second = await engine.start_new("chain", None, None)
        assert first != second


class TestStatusAndPurge:
    """get_status, query and purge."""

    async def test_status_has_extension_shape_and_time_format(self, engine):
        """Status carries the extension's fields, with times as yyyy-MM-ddTHH:mm:ssZ."""
        instance_id = await engine.start_new("nap", "napper", "60")
        await engine.run_until_idle()

        status = status_of(engine, instance_id)
        assert status == {
            "name": "nap",
            "instanceId": "napper",
            "runtimeStatus": "Completed",
            "input": "60",
            "customStatus": None,
            "output": status["output"],
            "createdTime": "2024-01-01T00:00:00Z",
            "lastUpdatedTime": "2024-01-01T00:01:00Z",
        }
        assert status_of(engine, instance_id, show_input=False)["input"] is None
        assert engine.get_status("nobody") is None

    async def test_history_shows_named_events_with_results_on_request(self, engine):
        """showHistory names events and folds TaskScheduled into TaskCompleted."""
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle()

        events = status_of(engine, instance_id, show_history=True, show_history_output=True)[
            "historyEvents"
        ]
        assert [e["EventType"] for e in events] == [
            "ExecutionStarted",
            "TaskCompleted",
            "TaskCompleted",
            "ExecutionCompleted",
        ]
        assert events[0]["FunctionName"] == "chain"
        assert events[1]["FunctionName"] == "greet"
        assert events[1]["Result"] == "Hello Tokyo!"
        assert events[3]["Result"] == ["Hello Tokyo!", "Hello Seattle!"]

    async def test_query_filters_by_status_and_prefix(self, engine):
        """query() combines runtime status and instance id prefix filters."""
        await engine.start_new("chain", "batch-1", None)
        await engine.start_new("cancellable", "batch-2", None)
        await engine.start_new("chain", "other-1", None)
        await engine.run_until_idle(until=START + timedelta(minutes=1))

        running = engine.query(runtime_status=["Running"])
        batch = engine.query(instance_id_prefix="batch-")
        assert [s["instanceId"] for s in running] == ["batch-2"]
        assert [s["instanceId"] for s in batch] == ["batch-1", "batch-2"]

    async def test_purge_deletes_a_finished_instance_once(self, engine):
        """purge returns 1 and forgets the instance; a second purge returns 0."""
        instance_id = await engine.start_new("chain", None, None)
        await engine.run_until_idle()

        assert await engine.purge(instance_id) == 1
        assert engine.get_status(instance_id) is None
        assert await engine.purge(instance_id) == 0

    async def test_purge_refuses_an_active_instance(self, engine):
        """A running instance cannot be purged."""
        instance_id = await engine.start_new("cancellable", None, None)
        with pytest.raises(InstanceStillRunning):
            await engine.purge(instance_id)
