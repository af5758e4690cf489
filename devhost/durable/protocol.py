"""The JSON replay protocol: build the context, read the state the orchestrator returns."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from devhost.durable.records import HistoryEvent

OUT_OF_PROC_MARKER = "$OutOfProcData$:"

OrchestratorRunner = Callable[[str, str], Awaitable[str]]
"""async (orchestrator function name, context JSON text) -> the function's return value.

The return value is the SDK's OrchestratorState JSON text. A failed function raises
OrchestratorInvocationError; any other exception means the invocation itself broke (the
worker died, the channel dropped) and the engine retries the episode later.
"""


class OrchestratorInvocationError(Exception):
    """The orchestrator function raised; `message` is the worker's exception message.

    For failures the SDK handled, the message ends with `$OutOfProcData$:` and the state JSON.
    """

    def __init__(self, message: str) -> None:
        """Keep the worker's message as `message`."""
        super().__init__(message)
        self.message = message


class ActivityInvocationError(Exception):
    """The activity function raised; `message` is the worker's "<type>: <message>" text.

    The engine records it as it is, as the Durable extension does ("Activity function 'x'
    failed: RuntimeError: ..."), where any other exception is named by its own type.
    """

    def __init__(self, message: str) -> None:
        """Keep the worker's message as `message`."""
        super().__init__(message)
        self.message = message


class ActionType(IntEnum):
    """`actionType` numbers of the SDK's actions, spelled as the SDK's action classes."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    WhenAny = 11
    WhenAll = 12


_COMPOUND = frozenset({ActionType.WhenAny, ActionType.WhenAll})


@dataclass(frozen=True)
class OrchestratorOutcome:
    """What one episode of the orchestrator reported.

    `actions` is the execution's whole action list, compound actions flattened depth-first
    and WaitForExternalEvent left out, because it takes no task id. `output` and
    `custom_status` are JSON text.
    """

    is_done: bool
    actions: tuple[dict[str, Any], ...]
    output: str | None
    custom_status: str | None
    error: str | None


def build_context(instance_id: str, input_json: str | None, history: Sequence[HistoryEvent]) -> str:
    """Build the context JSON the extension sends (Azure Storage timer limits, schema V3)."""
    return json.dumps(
        {
            "history": list(history),
            "input": input_json,
            "instanceId": instance_id,
            "isReplaying": False,
            # The SDK has no default for it: leaving it out is a TypeError.
            "parentInstanceId": None,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
            "maximumShortTimerDuration": "6.00:00:00",
            "longRunningTimerIntervalDuration": "3.00:00:00",
            "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
        }
    )


def parse_failure(message: str) -> OrchestratorOutcome:
    """Read a failed invocation's message, as the extension's OutOfProcExceptionHelpers does."""
    if OUT_OF_PROC_MARKER not in message:
        # The SDK itself failed before building a state, e.g. on a bad history value.
        return OrchestratorOutcome(False, (), None, None, message)
    return parse_state(message.split(OUT_OF_PROC_MARKER, 1)[1])


def parse_state(state_json: str) -> OrchestratorOutcome:
    """Read the SDK's `OrchestratorState` JSON."""
    state = json.loads(state_json)
    groups = state.get("actions") or []
    custom_status = state.get("customStatus")
    output = state.get("output")
    error = state.get("error")
    return OrchestratorOutcome(
        is_done=bool(state.get("isDone")),
        actions=tuple(flatten_actions(action for group in groups for action in group)),
        output=None if output is None else json.dumps(output),
        custom_status=None if custom_status is None else json.dumps(custom_status),
        error=None if error is None else str(error),
    )


def flatten_actions(actions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """List the actions that take task ids, in the order the SDK numbers them."""
    flat: list[dict[str, Any]] = []
    for action in actions:
        action_type = action.get("actionType")
        if action_type in _COMPOUND:
            flat.extend(flatten_actions(action.get("compoundActions") or []))
        elif action_type != ActionType.WaitForExternalEvent:
            flat.append(action)
    return flat
