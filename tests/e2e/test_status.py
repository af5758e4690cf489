"""The operations API as a caller sees it while ARM works, and when ARM reports a failure."""

from __future__ import annotations

import time

import pytest

from tests.e2e.harness import FAILED, TERMINAL, Stack
from tests.examples import envelope

ORDER = ["Accepted", "Running", "Succeeded"]


@pytest.mark.e2e
def test_status_goes_from_accepted_or_running_to_succeeded_with_retry_after_while_running(
    stack: Stack,
) -> None:
    """Polling GET /api/operations/{id} sees Accepted/Running with Retry-After, then Succeeded."""
    hub = "E2eStatusHub"
    stack.scenario(hub, mode="location", pollsUntilDone=8, retryAfter=1)
    accepted = stack.submit(envelope(hub))
    operation_id = accepted["operationId"]
    seen: list[tuple[str, str | None]] = []

    def finished() -> bool:
        response = stack.get_operation(operation_id)
        assert response.status_code == 200, stack.explain(response.text)
        seen.append((response.json()["status"], response.headers.get("Retry-After")))
        return seen[-1][0] in TERMINAL

    stack.wait(finished, what=f"operation {operation_id} to end", timeout=30)

    statuses = [status for status, _ in seen]
    assert accepted["status"] in ("Accepted", "Running")
    assert statuses[-1] == "Succeeded", stack.explain(f"statuses: {statuses}")
    assert "Running" in statuses, stack.explain(f"statuses: {statuses}")
    distinct = list(dict.fromkeys(statuses))
    assert distinct == [s for s in ORDER if s in distinct], f"out of order: {statuses}"
    for status, retry_after in seen:
        if status == "Succeeded":
            assert retry_after is None
        else:
            assert retry_after is not None, f"no Retry-After while {status}"
            assert 1 <= int(retry_after) <= 60
    final = stack.view(operation_id)
    assert final is not None
    assert final["polls"] >= 8
    read, *gets = [r for r in stack.arm_requests(hub) if r["method"] == "GET"]
    assert read["status"] == 404  # the read before the PUT, not a poll
    assert len(gets) == final["polls"], stack.explain(f"polls {final['polls']}, GETs {len(gets)}")


@pytest.mark.e2e
def test_failed_provisioning_ends_failed_with_arms_code_and_message(stack: Stack) -> None:
    """ARM's SchemaConflict ends the operation Failed; status and event carry its code/message."""
    hub = "E2eFailHub"
    message = f"Field VisitId clashes ({time.time_ns()})."
    stack.scenario(
        hub,
        mode="async-operation",
        pollsUntilDone=1,
        retryAfter=1,
        finalState="Failed",
        error={"code": "SchemaConflict", "message": message},
    )
    operation_id = stack.submit(envelope(hub))["operationId"]

    view = stack.wait_for_end(operation_id)

    assert view["status"] == "Failed", stack.explain(f"view: {view}")
    assert view["error"]["code"] == "SchemaConflict", stack.explain(f"view: {view}")
    assert view["error"]["message"] == message
    events = stack.events_for(operation_id)
    assert [e["eventType"] for e in events] == [FAILED], stack.explain(f"events: {events}")
    assert events[0]["data"]["outcome"] == "Failed"
    assert events[0]["data"]["error"]["code"] == "SchemaConflict"
    assert events[0]["data"]["error"]["message"] == message
    assert len(stack.arm_puts(hub)) == 1
