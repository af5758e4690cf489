"""The replay protocol edge: context JSON, the real SDK through the runner, reading its state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devhost.durable import OrchestratorInvocationError, OrchestratorRunner, history
from devhost.durable.protocol import (
    OrchestratorOutcome,
    build_context,
    flatten_actions,
    parse_failure,
    parse_state,
)
from tests.durable.harness import START


def _episode(name: str, *events: dict[str, Any]) -> str:
    opening = [history.orchestrator_started(START), history.execution_started(name, None, START)]
    return build_context("instance-1", None, [*opening, *events])


async def _failed_episode(
    run: OrchestratorRunner, name: str, *events: dict[str, Any]
) -> OrchestratorOutcome:
    with pytest.raises(OrchestratorInvocationError) as raised:
        await run(name, _episode(name, *events))
    return parse_failure(raised.value.message)


class TestBuildContext:
    """The context JSON the extension would send."""

    def test_context_carries_schema_v3_and_azure_storage_timer_limits(self):
        """Schema versions, timer limits and a null parentInstanceId are all present."""
        context = json.loads(build_context("abc", '{"a": 1}', []))
        assert context == {
            "history": [],
            "input": '{"a": 1}',
            "instanceId": "abc",
            "isReplaying": False,
            "parentInstanceId": None,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
            "maximumShortTimerDuration": "6.00:00:00",
            "longRunningTimerIntervalDuration": "3.00:00:00",
            "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
        }


class TestFlattenActions:
    """Compound actions flattened in the SDK's id order."""

    def test_compound_children_depth_first_without_external_event_waits(self):
        """WhenAll/WhenAny children are listed depth-first; WaitForExternalEvent is dropped."""
        timer = {"actionType": 5, "fireAt": "2024-01-01T00:00:00.000000Z", "isCanceled": False}
        wait = {"actionType": 6, "externalEventName": "cancel", "reason": "ExternalEvent"}
        first = {"actionType": 0, "functionName": "a", "input": "null"}
        last = {"actionType": 0, "functionName": "b", "input": "null"}
        nested = {"actionType": 12, "compoundActions": [
            first, {"actionType": 11, "compoundActions": [timer, wait]}]}  # fmt: skip
        assert flatten_actions([nested, last]) == [first, timer, last]


class TestReadingTheOrchestrator:
    """The unmodified SDK handle of the sample orchestrators, run in the worker."""

    async def test_first_episode_asks_for_the_first_activity(self, run_orchestrator):
        """The chain's first episode returns one CallActivity and is not done."""
        outcome = parse_state(await run_orchestrator("chain", _episode("chain")))
        assert outcome.is_done is False
        assert outcome.error is None
        assert outcome.actions == ({"actionType": 0, "functionName": "greet", "input": '"Tokyo"'},)

    async def test_orchestrator_exception_is_read_from_the_out_of_proc_marker(
        self, run_orchestrator
    ):
        """An uncaught activity failure comes back as the state's error text."""
        events = (
            history.task_scheduled(0, "explode", '"boom"', START),
            history.task_failed(0, "it broke", "details", START),
        )
        outcome = await _failed_episode(run_orchestrator, "uncaught_failure", *events)
        assert outcome.error == "it broke \n details"
        assert len(outcome.actions) == 1

    async def test_sdk_failure_outside_the_marker_becomes_an_error(self, run_orchestrator):
        """A completion whose Result is not JSON text makes the SDK fail: reported as an error."""
        events = (
            history.task_scheduled(0, "greet", '"Tokyo"', START),
            history.task_completed(0, "not json", START),
        )
        outcome = await _failed_episode(run_orchestrator, "chain", *events)
        assert outcome.error is not None
        assert outcome.error.startswith("JSONDecodeError")
