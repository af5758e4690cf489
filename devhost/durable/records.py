"""Plain values the engine keeps in its store and passes between its parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

HistoryEvent = dict[str, Any]
"""One DTFx history event as the SDK reads it (PascalCase keys)."""


class RuntimeStatus(StrEnum):
    """The extension's runtime statuses that this engine produces."""

    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    TERMINATED = "Terminated"


ACTIVE_STATUSES = frozenset({RuntimeStatus.PENDING, RuntimeStatus.RUNNING})
"""Statuses in which an instance still processes messages."""


@dataclass(frozen=True)
class RetrySpec:
    """What DTFx's retry interceptor needs to try a failed activity again."""

    name: str
    input: str
    first_interval_ms: int
    max_attempts: int
    attempt: int
    """The 1-based attempt this work item, failure or retry timer belongs to."""


@dataclass(frozen=True)
class ActionRecord:
    """An action the orchestrator asked for, kept to check later replays against it."""

    kind: str
    name: str | None
    fire_at: datetime | None
    task_id: int


@dataclass(frozen=True)
class ReplayState:
    """The SDK's task-id counter and the actions recorded so far in this execution."""

    next_seq: int = 0
    actions: tuple[ActionRecord, ...] = ()


@dataclass(frozen=True)
class ActivityWorkItem:
    """An activity whose TaskScheduled is recorded and whose outcome is not."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str
    retry: RetrySpec | None = None


@dataclass(frozen=True)
class PendingTimer:
    """A durable timer that has not fired yet."""

    instance_id: str
    execution_id: str
    timer_id: int
    fire_at: datetime
    retry: RetrySpec | None = None


@dataclass(frozen=True)
class InboxMessage:
    """A new history event waiting for the instance's next episode."""

    message_id: int
    instance_id: str
    event: HistoryEvent
    retry: RetrySpec | None = None


@dataclass(frozen=True)
class InstanceRecord:
    """One orchestration instance; JSON-valued fields hold JSON text."""

    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: datetime
    last_updated_time: datetime
    replay: ReplayState
