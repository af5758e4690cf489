"""The extension-shaped status JSON and its history view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devhost.durable import history
from devhost.durable.records import InstanceRecord, ReplayState, RuntimeStatus
from devhost.durable.status import format_status_time, history_for_status, status_payload
from tests.durable.harness import START

LATER = START + timedelta(seconds=90, microseconds=123456)
HISTORY = [
    history.orchestrator_started(START),
    history.execution_started("orch", '"in"', START),
    history.task_scheduled(0, "greet", '"Tokyo"', START),
    history.task_scheduled(1, "greet", '"Lima"', START),
    history.timer_created(2, LATER, START),
    history.orchestrator_completed(START),
    history.orchestrator_started(LATER),
    history.task_completed(0, '"Hello Tokyo!"', LATER),
    history.timer_fired(2, LATER, LATER),
    history.event_raised("go", '{"x": 1}', LATER),
    history.orchestrator_completed(LATER),
]


class TestStatusPayload:
    """The body of GET instances/{id}."""

    def test_payload_parses_json_fields_and_keeps_input_as_text(self):
        """Output and custom status are JSON values; input stays the orchestrator's JSON text."""
        record = InstanceRecord(
            "i", "orch", "e", RuntimeStatus.COMPLETED, '{"a": 1}', '[1, 2]', '{"phase": "x"}',
            START, LATER, ReplayState(),
        )  # fmt: skip
        assert status_payload(record) == {
            "name": "orch",
            "instanceId": "i",
            "runtimeStatus": "Completed",
            "input": '{"a": 1}',
            "customStatus": {"phase": "x"},
            "output": [1, 2],
            "createdTime": "2024-01-01T00:00:00Z",
            "lastUpdatedTime": "2024-01-01T00:01:30Z",
        }

    def test_time_format_drops_fractions_and_converts_to_utc(self):
        """Times are yyyy-MM-ddTHH:mm:ssZ in UTC."""
        assert format_status_time(LATER) == "2024-01-01T00:01:30Z"


class TestHistoryForStatus:
    """The extension's showHistory conversion."""

    @pytest.mark.parametrize("show_output", [False, True], ids=["no-output", "with-output"])
    def test_events_are_named_folded_and_trimmed(self, show_output):
        """Episode markers go, a completed TaskScheduled folds into its completion."""
        events = history_for_status(HISTORY, show_history_output=show_output)
        assert [e["EventType"] for e in events] == [
            "ExecutionStarted",
            "TaskScheduled",
            "TimerCreated",
            "TaskCompleted",
            "TimerFired",
            "EventRaised",
        ]
        started, pending, _, completed, fired, raised = events
        assert started["FunctionName"] == "orch"
        assert "Input" not in started
        assert pending["Name"] == "greet"
        assert "Input" not in pending
        assert completed["FunctionName"] == "greet"
        assert completed["ScheduledTime"] == HISTORY[2]["Timestamp"]
        assert "TaskScheduledId" not in completed
        assert "EventId" not in completed
        assert ("Result" in completed) is show_output
        assert "TimerId" not in fired
        assert "Input" not in raised
