"""Constructors for the DTFx history events the SDK replays."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from devhost.durable.records import HistoryEvent


class EventType(IntEnum):
    """DTFx `EventType` numbers for the events this engine writes.

    Members are spelled as DTFx spells them, because the status JSON shows these names.
    """

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventRaised = 15


def format_event_time(when: datetime) -> str:
    """Format a time the way .NET writes history timestamps (7 fractional digits, UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _event(
    event_type: EventType, when: datetime, event_id: int = -1, **fields: Any
) -> HistoryEvent:
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_event_time(when),
        **fields,
    }


def as_played(event: HistoryEvent) -> HistoryEvent:
    """Return the event marked as seen by an earlier episode."""
    return {**event, "IsPlayed": True}


def orchestrator_started(when: datetime) -> HistoryEvent:
    """Start of an episode; its timestamp is the orchestration's replay clock."""
    return _event(EventType.OrchestratorStarted, when)


def orchestrator_completed(when: datetime) -> HistoryEvent:
    """End of an episode."""
    return _event(EventType.OrchestratorCompleted, when)


def execution_started(name: str, input_json: str | None, when: datetime) -> HistoryEvent:
    """First event of an execution; the SDK requires `Version` to exist."""
    return _event(EventType.ExecutionStarted, when, Name=name, Input=input_json, Version="")


def execution_completed(status: str, result_json: str | None, when: datetime) -> HistoryEvent:
    """End of an execution: Completed, Failed or ContinuedAsNew."""
    return _event(
        EventType.ExecutionCompleted, when, OrchestrationStatus=status, Result=result_json
    )


def execution_terminated(reason: str, when: datetime) -> HistoryEvent:
    """The instance was terminated from outside."""
    return _event(EventType.ExecutionTerminated, when, Input=reason)


def task_scheduled(task_id: int, name: str, input_json: str, when: datetime) -> HistoryEvent:
    """An activity was scheduled under the SDK's task id."""
    return _event(EventType.TaskScheduled, when, task_id, Name=name, Input=input_json)


def task_completed(task_id: int, result_json: str, when: datetime) -> HistoryEvent:
    """An activity returned; `Result` is JSON text."""
    return _event(EventType.TaskCompleted, when, TaskScheduledId=task_id, Result=result_json)


def task_failed(task_id: int, reason: str, details: str, when: datetime) -> HistoryEvent:
    """An activity raised."""
    return _event(
        EventType.TaskFailed, when, TaskScheduledId=task_id, Reason=reason, Details=details
    )


def timer_created(timer_id: int, fire_at: datetime, when: datetime) -> HistoryEvent:
    """A durable timer was created under the SDK's task id."""
    return _event(EventType.TimerCreated, when, timer_id, FireAt=format_event_time(fire_at))


def timer_fired(timer_id: int, fire_at: datetime, when: datetime) -> HistoryEvent:
    """A durable timer fired."""
    return _event(EventType.TimerFired, when, TimerId=timer_id, FireAt=format_event_time(fire_at))


def event_raised(name: str, data_json: str, when: datetime) -> HistoryEvent:
    """An external event arrived; `Input` is JSON text."""
    return _event(EventType.EventRaised, when, Name=name, Input=data_json)
