"""Targets outside WRITE_SCOPES are refused at intake, before any ARM call (tests/e2e settings
allow one resource group, as the deployment assigns the ARM role at the listed scopes)."""

from __future__ import annotations

import json

import pytest

from shared.names import REQUEST_QUEUE
from tests.e2e.harness import WRITE_SCOPE, Stack
from tests.examples import SUBSCRIPTION, envelope

OTHER_GROUP = "not-ours-rg"


def _elsewhere(hub: str) -> dict[str, object]:
    body = envelope(hub)
    body["target"] = {
        **body["target"],
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": OTHER_GROUP,
    }
    return body


@pytest.mark.e2e
def test_http_request_outside_the_scopes_is_403_and_reaches_no_arm(stack: Stack) -> None:
    """POST for another resource group: 403 problem+json naming the scopes; nothing started."""
    hub = "E2eOutOfScopeHttpHub"

    response = stack.post_interaction(_elsewhere(hub))

    assert response.status_code == 403, stack.explain(response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 403
    assert WRITE_SCOPE in response.text
    assert OTHER_GROUP in response.text
    assert len(response.content) < 4096
    assert stack.mentions_hub(hub) == []


@pytest.mark.e2e
def test_queue_message_outside_the_scopes_is_dead_lettered_and_announced(stack: Stack) -> None:
    """A queue request for another resource group is rejected for good, with its event."""
    hub = "E2eOutOfScopeQueueHub"
    text = json.dumps(_elsewhere(hub))

    message_id = stack.send(text)

    record = stack.dead_letter(message_id)
    assert [reason["code"] for reason in record["reasons"]] == ["target_out_of_scope"]
    event = stack.rejection_event(message_id, text)
    assert event["data"]["outcome"] == "Rejected"
    assert event["data"]["resourceGroup"] == OTHER_GROUP
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")
    assert stack.mentions_hub(hub) == []


@pytest.mark.e2e
def test_request_inside_the_scopes_is_accepted(stack: Stack) -> None:
    """The listed resource group itself is writable (the default target of the examples)."""
    accepted = stack.submit(envelope("E2eInScopeHub"))
    assert accepted["operationId"]
