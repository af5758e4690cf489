"""The extension-shaped status JSON of an instance (HTTP API `GET instances/{id}`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from devhost.durable.history import EventType
from devhost.durable.records import HistoryEvent, InstanceRecord

# Bookkeeping events the extension leaves out of `historyEvents`.
_HIDDEN = frozenset({EventType.OrchestratorStarted, EventType.OrchestratorCompleted})


def format_status_time(when: datetime) -> str:
    """Format as the extension does: `yyyy-MM-ddTHH:mm:ssZ`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_payload(
    record: InstanceRecord,
    history: Sequence[HistoryEvent] | None = None,
    *,
    show_history_output: bool = False,
    show_input: bool = True,
) -> dict[str, Any]:
    """Status of one instance; `historyEvents` only when a history is given.

    `input` is the orchestrator's input JSON text as a string, as the extension shows it for
    a Python client (which sends its input double-encoded).
    """
    payload: dict[str, Any] = {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.runtime_status.value,
        "input": record.input if show_input else None,
        "customStatus": _parsed(record.custom_status),
        "output": _parsed(record.output),
        "createdTime": format_status_time(record.created_time),
        "lastUpdatedTime": format_status_time(record.last_updated_time),
    }
    if history is not None:
        payload["historyEvents"] = history_for_status(
            history, show_history_output=show_history_output
        )
    return payload


def history_for_status(
    history: Sequence[HistoryEvent], *, show_history_output: bool
) -> list[dict[str, Any]]:
    """Convert history as the extension does for `showHistory=true`.

    Event types become names, each TaskScheduled folds into its completion (as `FunctionName`
    and `ScheduledTime`), episode markers go, and results appear only with
    `show_history_output`.
    """
    scheduled = {
        event["EventId"]: event
        for event in history
        if event["EventType"] == EventType.TaskScheduled
    }
    completed_ids = {
        event["TaskScheduledId"]
        for event in history
        if event["EventType"] in (EventType.TaskCompleted, EventType.TaskFailed)
    }
    converted: list[dict[str, Any]] = []
    for event in history:
        event_type = EventType(event["EventType"])
        if event_type in _HIDDEN or (
            event_type == EventType.TaskScheduled and event["EventId"] in completed_ids
        ):
            continue
        item = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed")}
        item["EventType"] = event_type.name
        _shape(item, event_type, scheduled, show_history_output)
        converted.append(item)
    return converted


def _shape(
    item: dict[str, Any],
    event_type: EventType,
    scheduled: dict[int, HistoryEvent],
    show_history_output: bool,
) -> None:
    if event_type in (EventType.TaskCompleted, EventType.TaskFailed):
        origin = scheduled.get(item.pop("TaskScheduledId"))
        if origin is not None:
            item["FunctionName"] = origin["Name"]
            item["ScheduledTime"] = origin["Timestamp"]
        if event_type == EventType.TaskCompleted:
            _keep_result(item, show_history_output)
    elif event_type == EventType.ExecutionCompleted:
        _keep_result(item, show_history_output)
    elif event_type == EventType.ExecutionStarted:
        item["FunctionName"] = item.pop("Name", None)
        for key in ("Input", "Version"):
            item.pop(key, None)
    elif event_type == EventType.TaskScheduled:
        item.pop("Input", None)
    elif event_type == EventType.TimerFired:
        item.pop("TimerId", None)
    elif event_type in (EventType.EventRaised, EventType.ExecutionTerminated):
        item.pop("Input", None)


def _keep_result(item: dict[str, Any], show_history_output: bool) -> None:
    result = item.pop("Result", None)
    if show_history_output:
        item["Result"] = _parsed(result)


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
