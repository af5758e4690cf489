"""The orchestrator's reading of its own history for cancels that would otherwise be dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.durable_functions.models import DurableOrchestrationContext

from shared.provisioning import _cancel_in_batch, _fired, _is_execution_start

T = "2026-01-01T00:00:00.000000Z"


def event(kind: int, **fields: Any) -> dict[str, Any]:
    return {"EventType": kind, "EventId": -1, "IsPlayed": False, "Timestamp": T, **fields}


def context(history: list[dict[str, Any]]) -> DurableOrchestrationContext:
    return DurableOrchestrationContext.from_json(
        json.dumps(
            {
                "history": history,
                "input": "{}",
                "instanceId": "i",
                "isReplaying": False,
                "parentInstanceId": None,
                "upperSchemaVersion": 1,
                "upperSchemaVersionNew": 2,
            }
        )
    )


STARTED, EXECUTION, COMPLETED, TIMER_FIRED, RAISED = 12, 0, 13, 11, 15
CANCEL = event(RAISED, Name="cancel", Input="{}")
OTHER_EVENT = event(RAISED, Name="nudge", Input="{}")


class TestCancelInBatch:
    @pytest.mark.parametrize(
        ("history", "expected"),
        [
            pytest.param(
                [event(STARTED), event(EXECUTION, Version=""), CANCEL], True, id="first-batch"
            ),
            pytest.param(
                [event(STARTED), event(EXECUTION, Version=""), OTHER_EVENT],
                False,
                id="other-event",
            ),
            pytest.param(
                [
                    event(STARTED),
                    event(EXECUTION, Version=""),
                    event(COMPLETED),
                    event(STARTED),
                    CANCEL,
                ],
                False,
                id="later-batch-is-not-this-one",
            ),
        ],
    )
    def test_execution_start_batch(self, history: list[dict[str, Any]], expected: bool) -> None:
        """Only a cancel delivered with the execution's first messages counts at its start."""
        assert _cancel_in_batch(context(history), _is_execution_start) is expected

    @pytest.mark.parametrize(
        ("tail", "expected"),
        [
            pytest.param([event(TIMER_FIRED, TimerId=4), CANCEL], True, id="same-batch"),
            pytest.param([CANCEL, event(TIMER_FIRED, TimerId=4)], False, id="before-the-timer"),
            pytest.param(
                [event(TIMER_FIRED, TimerId=4), event(COMPLETED), event(STARTED), CANCEL],
                False,
                id="next-batch",
            ),
            pytest.param([event(TIMER_FIRED, TimerId=3), CANCEL], False, id="other-timer"),
        ],
    )
    def test_timer_batch(self, tail: list[dict[str, Any]], expected: bool) -> None:
        """A cancel counts when it came in the same batch as the timer that just fired."""
        history = [
            event(STARTED),
            event(EXECUTION, Version=""),
            event(COMPLETED),
            event(STARTED),
            *tail,
        ]
        assert _cancel_in_batch(context(history), _fired(4)) is expected
