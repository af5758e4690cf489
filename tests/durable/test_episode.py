"""The pure decisions of an episode: batching, replay checks and task-id allocation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from devhost.durable import history
from devhost.durable.episode import (
    Completed,
    ContinuedAsNew,
    EpisodePlan,
    Failed,
    StillRunning,
    custom_status_problem,
    find_nondeterminism,
    plan_episode,
    select_batch,
)
from devhost.durable.protocol import OrchestratorOutcome
from devhost.durable.records import ActionRecord, InboxMessage, ReplayState, RetrySpec
from tests.durable.harness import START

FIRE_AT = START + timedelta(minutes=5)
RETRY = RetrySpec("flaky", '"x"', 2000, 3, 1)


def _message(
    message_id: int, event: dict[str, Any], retry: RetrySpec | None = None
) -> InboxMessage:
    return InboxMessage(message_id, "i", event, retry)


def _activity(name: str = "greet") -> dict[str, Any]:
    return {"actionType": 0, "functionName": name, "input": '"x"'}


def _timer(fire_at: datetime = FIRE_AT, canceled: bool = False) -> dict[str, Any]:
    return {"actionType": 5, "fireAt": fire_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "isCanceled": canceled}  # fmt: skip


def _outcome(
    *actions: dict[str, Any], is_done: bool = False, output: str | None = None, error=None
):
    return OrchestratorOutcome(is_done, tuple(actions), output, None, error)


def _plan(
    outcome: OrchestratorOutcome, replay: ReplayState | None = None, batch: Any = ()
) -> EpisodePlan:
    return plan_episode(
        instance_id="i",
        execution_id="e",
        replay=replay or ReplayState(),
        outcome=outcome,
        batch=batch,
        now=START,
    )


RAISED = history.event_raised("go", "1", START)
COMPLETED = history.task_completed(0, '"ok"', START)
STARTED = history.execution_started("orch", None, START)
FAILED_ATTEMPT = history.task_failed(0, "boom", "", START)


class TestSelectBatch:
    """Which inbox messages one episode receives."""

    @pytest.mark.parametrize(
        ("messages", "expected_ids"),
        [
            ([_message(1, COMPLETED), _message(2, RAISED)], [1, 2]),
            ([_message(1, RAISED), _message(2, STARTED)], [2, 1]),
            ([_message(1, COMPLETED), _message(2, FAILED_ATTEMPT, RETRY), _message(3, RAISED)],
             [1, 2]),
            ([], []),
        ],
        ids=["all-in-order", "execution-started-first", "stops-after-retry-message", "empty"],
    )  # fmt: skip
    def test_batch_order_and_cut(self, messages, expected_ids):
        """ExecutionStarted leads, and a batch ends at its first retry message."""
        assert [m.message_id for m in select_batch(messages)] == expected_ids


class TestFindNondeterminism:
    """Replayed actions compared with the recorded ones."""

    RECORDED = (
        ActionRecord("CallActivity", "greet", None, 0),
        ActionRecord("CreateTimer", None, FIRE_AT, 1),
    )

    @pytest.mark.parametrize(
        ("replayed", "is_done", "fragment"),
        [
            ([_activity(), _timer()], False, None),
            ([_activity(), _timer(), _activity("more")], False, None),
            ([_activity("record"), _timer()], False, "CallActivity 'record'"),
            ([_timer(), _timer()], False, "replay produced CreateTimer"),
            ([_activity(), _timer(FIRE_AT + timedelta(seconds=1))], False, "CreateTimer at"),
            ([_activity()], False, "only 1"),
            ([_activity()], True, None),
        ],
        ids=["same", "extended", "other-name", "other-type", "other-fire-at", "shorter", "done"],
    )
    def test_mismatches_are_reported(self, replayed, is_done, fragment):
        """Type, name and timer fireAt must match; a shorter replay must have finished."""
        message = find_nondeterminism(self.RECORDED, replayed, is_done=is_done)
        if fragment is None:
            assert message is None
        else:
            assert message is not None
            assert "Non-deterministic workflow detected" in message
            assert fragment in message


class TestCustomStatusSize:
    """The 16 KB check on the custom status, counted in UTF-16 bytes of compact JSON."""

    @pytest.mark.parametrize(
        ("value", "size_kb"),
        [
            ([1] * 4000, None),  # 16,002 bytes compact; json.dumps' "1, 1, ..." is 23 KB
            ({"k": "x" * 8700}, 17),
            ("\N{GRINNING FACE}" * 4350, None),  # a surrogate pair each: 17,404 bytes
            ("\N{GRINNING FACE}" * 4351, 17),
        ],
        ids=["spaced-json-would-be-over", "over", "astral-under", "astral-over"],
    )
    def test_size_is_measured_like_the_extension(self, value, size_kb):
        """json.dumps' default spacing does not count; characters beyond the BMP count 4 bytes."""
        problem = custom_status_problem(json.dumps(value))
        if size_kb is None:
            assert problem is None
        else:
            assert problem is not None
            assert problem.endswith(f"The current payload size is {size_kb} KB.")


class TestPlanEpisode:
    """Task ids, events and work for each kind of new action."""

    def test_new_actions_take_the_next_ids(self):
        """Only actions beyond the recorded prefix are new; they take ids from next_seq."""
        replay = ReplayState(1, (ActionRecord("CallActivity", "greet", None, 0),))
        plan = _plan(_outcome(_activity(), _activity("record"), _timer()), replay)

        assert isinstance(plan.result, StillRunning)
        assert [(a.task_id, a.name) for a in plan.activities] == [(1, "record")]
        assert [t.timer_id for t in plan.timers] == [2]
        assert [(e["EventType"], e["EventId"]) for e in plan.new_events] == [(4, 1), (10, 2)]
        assert plan.replay.next_seq == 3

    def test_failed_retry_attempt_takes_a_timer_id_after_new_actions(self):
        """A retry failure's timer id comes after the ids of the episode's new actions."""
        batch = [_message(1, FAILED_ATTEMPT, RETRY)]
        plan = _plan(_outcome(_activity(), _activity("other")), ReplayState(1, (
            ActionRecord("CallActivity", "greet", None, 0),)), batch)  # fmt: skip

        assert [t.timer_id for t in plan.timers] == [2]
        assert plan.timers[0].fire_at == START + timedelta(seconds=2)
        assert plan.timers[0].retry == RETRY

    @pytest.mark.parametrize(
        ("attempt", "expected_work", "next_seq"),
        [(1, [(2, "flaky", 2)], 3), (3, [], 2)],
        ids=["attempts-left", "exhausted"],
    )
    def test_fired_retry_timer_reschedules_until_attempts_run_out(
        self, attempt, expected_work, next_seq
    ):
        """A fired retry timer schedules the next attempt under a new id, unless at the max."""
        spec = RetrySpec("flaky", '"x"', 2000, 3, attempt)
        batch = [_message(1, history.timer_fired(1, START, START), spec)]
        plan = _plan(_outcome(), ReplayState(2, ()), batch)

        work = [(a.task_id, a.name, a.retry and a.retry.attempt) for a in plan.activities]
        assert work == expected_work
        assert plan.replay.next_seq == next_seq

    def test_new_canceled_timer_is_still_armed(self):
        """A new timer action marked isCanceled is recorded and armed like any other."""
        plan = _plan(_outcome(_timer(canceled=True)))
        assert [(t.timer_id, t.fire_at) for t in plan.timers] == [(0, FIRE_AT)]
        assert [e["EventType"] for e in plan.new_events] == [history.EventType.TimerCreated]

    @pytest.mark.parametrize(
        ("outcome", "expected"),
        [
            (_outcome(is_done=True, output='"out"'), Completed('"out"')),
            (_outcome({"actionType": 4, "input": '{"n": 2}'}, is_done=True),
             ContinuedAsNew('{"n": 2}')),
            (_outcome(error="boom"), Failed("boom")),
        ],
        ids=["completed", "continued-as-new", "orchestrator-error"],
    )  # fmt: skip
    def test_final_results(self, outcome, expected):
        """Done, continue-as-new and errors end the execution and start no work."""
        plan = _plan(outcome)
        assert plan.result == expected
        assert plan.activities == ()
        assert plan.timers == ()

    def test_unsupported_action_fails_with_its_name(self):
        """Sub-orchestrations and other unsupported actions fail the instance clearly."""
        plan = _plan(_outcome({"actionType": 2, "functionName": "child"}))
        assert isinstance(plan.result, Failed)
        assert "CallSubOrchestrator" in plan.result.message
        assert "does not support" in plan.result.message

    @pytest.mark.parametrize(
        "options",
        [
            {"firstRetryIntervalInMilliseconds": 0, "maxNumberOfAttempts": 3},
            {"firstRetryIntervalInMilliseconds": 10**15, "maxNumberOfAttempts": 3},
            {"firstRetryIntervalInMilliseconds": "soon", "maxNumberOfAttempts": 3},
            {"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 1e400},
        ],
        ids=["zero-interval", "interval-beyond-a-century", "interval-not-a-number", "inf-attempts"],
    )
    def test_unusable_retry_options_fail_with_the_values(self, options):
        """Retry options that cannot be followed fail the instance instead of the engine."""
        action = {"actionType": 1, "functionName": "flaky", "input": '"x"', "retryOptions": options}
        plan = _plan(_outcome(action))
        assert isinstance(plan.result, Failed)
        assert "'flaky' with retry options" in plan.result.message
        assert plan.activities == ()
