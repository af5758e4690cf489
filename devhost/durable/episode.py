"""Pure decisions of one episode: which messages to deliver, and what the result means.

Task ids: the SDK numbers tasks 0, 1, 2, ... in the order it first schedules them, which is
the order of the flattened action list, except for the ids DTFx's retry interceptor takes
(a retry timer after each failure, a new task id per retry) that never appear as actions.
The SDK takes those while it processes the failure or the timer's firing, before the
generator resumes. A batch therefore ends at its first retry message, and the retry's id is
taken after the ids of that episode's new actions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from devhost.durable import history
from devhost.durable.history import EventType
from devhost.durable.protocol import ActionType, OrchestratorOutcome
from devhost.durable.records import (
    ActionRecord,
    ActivityWorkItem,
    HistoryEvent,
    InboxMessage,
    PendingTimer,
    ReplayState,
    RetrySpec,
)

# The SDK and DTFx refuse intervals of 0 or less. Longer than a century is a unit mistake
# (microseconds, a timestamp), and the bound keeps `now + interval` far from the year 9999
# where datetime ends.
MAX_RETRY_INTERVAL_MS = 100 * 365 * 24 * 3600 * 1000

# DurableOrchestrationContext.SetCustomStatus (Azure/azure-functions-durable-extension,
# src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableOrchestrationContext.cs)
# serializes with a 16 KB limit that MessagePayloadDataConverter.Serialize checks.
MAX_CUSTOM_STATUS_KB = 16

# Azure Storage's tracking store writes the text "null" for an episode without a custom
# status (Azure/durabletask, src/DurableTask.AzureStorage/Tracking/AzureTableTrackingStore.cs).
NO_CUSTOM_STATUS = "null"

_SUPPORTED = frozenset(
    {
        ActionType.CallActivity,
        ActionType.CallActivityWithRetry,
        ActionType.CreateTimer,
        ActionType.ContinueAsNew,
    }
)


@dataclass(frozen=True)
class StillRunning:
    """The orchestrator is waiting for more work to finish."""


@dataclass(frozen=True)
class Completed:
    """The orchestrator returned; `output` is JSON text."""

    output: str | None


@dataclass(frozen=True)
class Failed:
    """The orchestrator raised, or its replay did not match its history.

    The output is "Orchestrator function '<name>' failed: <message>", or the bare message
    when `unprefixed` (an exception that escaped the extension's own failure handling).
    """

    message: str
    unprefixed: bool = False


@dataclass(frozen=True)
class ContinuedAsNew:
    """The orchestrator asked for a fresh execution with `input` (JSON text)."""

    input: str | None


EpisodeResult = StillRunning | Completed | Failed | ContinuedAsNew


@dataclass(frozen=True)
class EpisodePlan:
    """Everything an episode changes, decided before anything is written."""

    result: EpisodeResult
    new_events: tuple[HistoryEvent, ...] = ()
    activities: tuple[ActivityWorkItem, ...] = ()
    timers: tuple[PendingTimer, ...] = ()
    replay: ReplayState = field(default_factory=ReplayState)
    custom_status: str | None = None
    """JSON text; None leaves the instance's custom status as it was."""


def select_batch(messages: Sequence[InboxMessage]) -> list[InboxMessage]:
    """Choose the messages for the next episode: ExecutionStarted first, up to a retry message."""
    ordered = sorted(
        messages,
        key=lambda m: (m.event["EventType"] != EventType.ExecutionStarted, m.message_id),
    )
    batch: list[InboxMessage] = []
    for message in ordered:
        batch.append(message)
        if message.retry is not None:
            break
    return batch


def plan_episode(
    *,
    instance_id: str,
    execution_id: str,
    replay: ReplayState,
    outcome: OrchestratorOutcome,
    batch: Sequence[InboxMessage],
    now: datetime,
) -> EpisodePlan:
    """Turn the orchestrator's report into history events, work items and a result."""
    too_big = custom_status_problem(outcome.custom_status)
    if too_big is not None:
        # OutOfProcOrchestrationShim.ScheduleDurableTaskEvents sets the custom status before
        # it replays any action or reads the state's error, so the throw fails the instance
        # and no action of the episode runs. TaskOrchestrationShim.InvokeUserCodeAndHandleResults
        # prefixes the message when the function returned; when the function raised, the
        # exception escapes its handler and DTFx's FailOrchestration keeps the bare message
        # (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/Listener/;
        # Azure/durabletask, src/DurableTask.Core/TaskOrchestrationContext.cs). The episode
        # set no custom status.
        failed = Failed(too_big, unprefixed=outcome.error is not None)
        return EpisodePlan(failed, replay=replay, custom_status=NO_CUSTOM_STATUS)
    if outcome.error is not None:
        return EpisodePlan(
            Failed(outcome.error), replay=replay, custom_status=outcome.custom_status
        )
    mismatch = find_nondeterminism(replay.actions, outcome.actions, is_done=outcome.is_done)
    if mismatch is not None:
        return EpisodePlan(Failed(mismatch), replay=replay, custom_status=outcome.custom_status)

    builder = _PlanBuilder(instance_id, execution_id, replay, now)
    for action in outcome.actions[len(replay.actions) :]:
        unsupported = builder.add_action(action)
        if unsupported is not None:
            return EpisodePlan(
                Failed(unsupported), replay=replay, custom_status=outcome.custom_status
            )
    if builder.continues_as_new:
        return builder.finish(ContinuedAsNew(builder.continue_input), outcome)
    if outcome.is_done:
        return builder.finish(Completed(outcome.output), outcome)
    if batch and batch[-1].retry is not None:
        builder.follow_retry(batch[-1].event, batch[-1].retry)
    return builder.finish(StillRunning(), outcome)


def custom_status_problem(custom_status: str | None) -> str | None:
    """The extension's error when the custom status (JSON text) is over 16 KB; else None.

    Measured as the extension does: compact JSON (JToken.ToString(Formatting.None), non-ASCII
    unescaped), UTF-16 bytes (Encoding.Unicode.GetByteCount), whole KB rounded down.
    """
    if custom_status is None:
        return None
    compact = json.dumps(json.loads(custom_status), separators=(",", ":"), ensure_ascii=False)
    size_kb = len(compact.encode("utf-16-le", errors="surrogatepass")) // 1024
    if size_kb <= MAX_CUSTOM_STATUS_KB:
        return None
    return (
        "The UTF-16 size of the JSON-serialized payload must not exceed "
        f"{MAX_CUSTOM_STATUS_KB:,} KB. The current payload size is {size_kb:,} KB."
    )


def find_nondeterminism(
    recorded: Sequence[ActionRecord], replayed: Sequence[dict[str, Any]], *, is_done: bool
) -> str | None:
    """Compare a replay with the recorded actions by type and name, and timers by fireAt."""
    for position, (record, action) in enumerate(zip(recorded, replayed, strict=False)):
        kind = _kind(action)
        if (kind, _name(action), _fire_at(action)) != (record.kind, record.name, record.fire_at):
            return (
                f"Non-deterministic workflow detected: action {position} was recorded as "
                f"{_describe(record.kind, record.name, record.fire_at)} but the replay "
                f"produced {_describe(kind, _name(action), _fire_at(action))}. Was the "
                "orchestrator changed, or does it branch on something other than its "
                "input, history and context.current_utc_datetime?"
            )
    if len(replayed) < len(recorded) and not is_done:
        return (
            f"Non-deterministic workflow detected: the history has {len(recorded)} actions "
            f"but the replay produced only {len(replayed)}."
        )
    return None


class _PlanBuilder:
    """Accumulates one episode's new events and work while taking task ids."""

    def __init__(
        self, instance_id: str, execution_id: str, replay: ReplayState, now: datetime
    ) -> None:
        self.instance_id = instance_id
        self.execution_id = execution_id
        self.now = now
        self.next_seq = replay.next_seq
        self.records = list(replay.actions)
        self.events: list[HistoryEvent] = []
        self.activities: list[ActivityWorkItem] = []
        self.timers: list[PendingTimer] = []
        self.continues_as_new = False
        self.continue_input: str | None = None

    def take_id(self) -> int:
        task_id = self.next_seq
        self.next_seq += 1
        return task_id

    def add_action(self, action: dict[str, Any]) -> str | None:
        """Record a new action; returns an error text for actions this engine cannot run."""
        action_type = _action_type(action)
        fire_at = _fire_at(action)
        if action_type not in _SUPPORTED or (
            action_type == ActionType.CreateTimer and fire_at is None
        ):
            return (
                f"The orchestrator asked for {_kind(action)} ({action}), which this local "
                "durable engine does not support."
            )
        retry_problem = _retry_options_problem(action)
        if retry_problem is not None:
            return retry_problem
        task_id = self.take_id()
        self.records.append(ActionRecord(_kind(action), _name(action), fire_at, task_id))
        if action_type == ActionType.ContinueAsNew:
            self.continues_as_new = True
            self.continue_input = action.get("input")
        elif fire_at is not None:
            # Armed even when isCanceled: OutOfProcOrchestrationShim.InvokeAPIFromAction
            # (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/
            # Listener/OutOfProcOrchestrationShim.cs) creates the timer and only then cancels
            # its token, and DTFx's TaskOrchestrationContext.CreateTimer has recorded the
            # action by then (Azure/durabletask, src/DurableTask.Core/TaskOrchestrationContext.cs).
            # The timer fires later as an episode of its own, whose TimerFired the SDK ignores.
            self.events.append(history.timer_created(task_id, fire_at, self.now))
            self.timers.append(PendingTimer(self.instance_id, self.execution_id, task_id, fire_at))
        else:
            name = str(action["functionName"])
            input_json = action.get("input") or "null"
            self.schedule(task_id, name, input_json, _first_retry(action, name, input_json))
        return None

    def schedule(self, task_id: int, name: str, input_json: str, retry: RetrySpec | None) -> None:
        self.events.append(history.task_scheduled(task_id, name, input_json, self.now))
        self.activities.append(
            ActivityWorkItem(self.instance_id, self.execution_id, task_id, name, input_json, retry)
        )

    def follow_retry(self, event: HistoryEvent, spec: RetrySpec) -> None:
        """Emulate DTFx's retry interceptor for a failed attempt or a fired retry timer."""
        if event["EventType"] == EventType.TaskFailed:
            # DTFx waits on a timer after every failure, the last one included.
            timer_id = self.take_id()
            fire_at = self.now + timedelta(milliseconds=spec.first_interval_ms)
            self.events.append(history.timer_created(timer_id, fire_at, self.now))
            self.timers.append(
                PendingTimer(self.instance_id, self.execution_id, timer_id, fire_at, spec)
            )
        elif spec.attempt < spec.max_attempts:
            next_attempt = replace(spec, attempt=spec.attempt + 1)
            self.schedule(self.take_id(), spec.name, spec.input, next_attempt)

    def finish(self, result: EpisodeResult, outcome: OrchestratorOutcome) -> EpisodePlan:
        running = isinstance(result, StillRunning)
        return EpisodePlan(
            result=result,
            new_events=tuple(self.events),
            # A finished execution starts no more work.
            activities=tuple(self.activities) if running else (),
            timers=tuple(self.timers) if running else (),
            replay=ReplayState(self.next_seq, tuple(self.records)),
            custom_status=outcome.custom_status,
        )


def _action_type(action: dict[str, Any]) -> ActionType | None:
    value = action.get("actionType")
    if not isinstance(value, int) or value not in ActionType._value2member_map_:
        return None
    return ActionType(value)


def _retry_options_problem(action: dict[str, Any]) -> str | None:
    """Why the action's retry options cannot be followed; None if they can or it has none."""
    if _action_type(action) != ActionType.CallActivityWithRetry:
        return None
    options = action.get("retryOptions") or {}
    interval = options.get("firstRetryIntervalInMilliseconds", 1000)
    attempts = options.get("maxNumberOfAttempts", 1)
    interval_ok = _is_finite_number(interval) and 1 <= interval <= MAX_RETRY_INTERVAL_MS
    if interval_ok and _is_finite_number(attempts):
        return None
    return (
        f"The orchestrator called '{action.get('functionName')}' with retry options "
        f"firstRetryIntervalInMilliseconds={interval!r}, maxNumberOfAttempts={attempts!r}; "
        f"the interval must be from 1 to {MAX_RETRY_INTERVAL_MS} milliseconds (about a "
        "century) and the attempts a number."
    )


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _first_retry(action: dict[str, Any], name: str, input_json: str) -> RetrySpec | None:
    if _action_type(action) != ActionType.CallActivityWithRetry:
        return None
    options = action.get("retryOptions") or {}
    return RetrySpec(
        name=name,
        input=input_json,
        first_interval_ms=int(options.get("firstRetryIntervalInMilliseconds", 1000)),
        max_attempts=int(options.get("maxNumberOfAttempts", 1)),
        attempt=1,
    )


def _kind(action: dict[str, Any]) -> str:
    action_type = _action_type(action)
    return f"actionType {action.get('actionType')}" if action_type is None else action_type.name


def _name(action: dict[str, Any]) -> str | None:
    name = action.get("functionName")
    return None if name is None else str(name)


def _fire_at(action: dict[str, Any]) -> datetime | None:
    fire_at = action.get("fireAt")
    return None if fire_at is None else datetime.fromisoformat(fire_at)


def _describe(kind: str, name: str | None, fire_at: datetime | None) -> str:
    if fire_at is not None:
        return f"{kind} at {fire_at.isoformat()}"
    return f"{kind} '{name}'" if name is not None else kind
