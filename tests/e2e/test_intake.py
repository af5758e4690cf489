"""Every intake (HTTP, queue, Event Grid push) provisions once and announces once, end to end."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from shared.names import REQUEST_QUEUE
from tests.e2e.harness import SUCCEEDED, Stack, host_log_lines
from tests.examples import envelope, operation_id_of


def _assert_succeeded_once(stack: Stack, hub: str, operation_id: str, source: str) -> None:
    view = stack.wait_for_end(operation_id)
    assert view["status"] == "Succeeded", stack.explain(f"view: {view}")
    assert view["provisioningState"] == "Succeeded", stack.explain(f"view: {view}")
    events = stack.events_for(operation_id)
    assert [e["eventType"] for e in events] == [SUCCEEDED], stack.explain(f"events: {events}")
    assert events[0]["data"]["source"] == source
    assert events[0]["subject"] == f"hubs/{hub}/interactions/WebVisit"
    puts = stack.arm_puts(hub)
    assert len(puts) == 1, stack.explain(f"PUTs for {hub}: {puts}")
    assert puts[0]["query"]["api-version"] == "2017-04-26"


@pytest.mark.e2e
def test_http_intake_ends_succeeded_with_one_put_and_one_event(stack: Stack) -> None:
    """POST /api/interactions with the key starts an operation that succeeds exactly once."""
    hub = "E2eHttpHub"
    stack.scenario(hub, mode="location", pollsUntilDone=2, retryAfter=1)
    body = envelope(hub)

    response = stack.post_interaction(body)

    assert response.status_code == 202, stack.explain(response.text)
    accepted = response.json()
    assert accepted["operationId"] == operation_id_of(body)
    assert response.headers["Location"].endswith(f"/api/operations/{accepted['operationId']}")
    _assert_succeeded_once(stack, hub, accepted["operationId"], "http")
    # The topic takes tokens only (local auth disabled), so the event above came with one: the
    # host's identity-based output asked the identity endpoint for Event Grid's audience.
    assert stack.emulators.eventgrid.local_auth is False
    audiences = {e["query"].get("resource") for e in stack.emulators.identity.journal.entries()}
    assert "https://eventgrid.azure.net" in audiences, stack.explain(f"token asks: {audiences}")


@pytest.mark.e2e
def test_http_intake_without_the_key_is_refused_401_and_starts_nothing(stack: Stack) -> None:
    """Without x-functions-key the host answers 401 and neither the app nor ARM sees the call."""
    hub = "E2eNoKeyHub"
    body = envelope(hub)

    response = stack.post_interaction(body, key=None)
    wrong = stack.post_interaction(body, key="not-the-key")

    assert response.status_code == 401, stack.explain(response.text)
    assert wrong.status_code == 401, stack.explain(wrong.text)
    assert stack.view(operation_id_of(body)) is None
    assert stack.mentions_hub(hub) == []


@pytest.mark.e2e
def test_queue_intake_ends_succeeded_with_one_put_and_one_event(stack: Stack) -> None:
    """A base64 envelope on interaction-requests is provisioned once and leaves the queue."""
    hub = "E2eQueueHub"
    stack.scenario(hub, mode="location", pollsUntilDone=2, retryAfter=1)
    body = envelope(hub, request_id=f"queue-{uuid.uuid4()}")

    stack.send(json.dumps(body))

    operation_id = operation_id_of(body)
    _assert_succeeded_once(stack, hub, operation_id, "queue")
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")


@pytest.mark.e2e
def test_eventgrid_intake_through_push_delivery_ends_succeeded_once(
    stack: Stack, intake_subscription: dict[str, Any]
) -> None:
    """An intake event published to the topic is pushed to the host and provisioned once."""
    hub = "E2eGridHub"
    stack.scenario(hub, mode="async-operation", pollsUntilDone=2, retryAfter=1)
    body = envelope(hub, request_id=f"grid-{uuid.uuid4()}")
    event_id = str(uuid.uuid4())

    stack.publish_intake(body, event_id=event_id)

    operation_id = operation_id_of(body)
    _assert_succeeded_once(stack, hub, operation_id, "eventgrid")
    ours = stack.wait(
        lambda: [d for d in stack.deliveries() if d["eventId"] == event_id],
        what=f"the delivery record of {event_id}",
    )
    assert [d["outcome"] for d in ours] == ["delivered"], stack.explain(f"deliveries: {ours}")
    assert ours[0]["subscriptionId"] == intake_subscription["id"]
    assert ours[0]["status"] == 202
    # The filter keeps the app's own completion events away from its intake webhook.
    completion_ids = {e["id"] for e in stack.events_for(operation_id)}
    assert not [d for d in stack.deliveries() if d["eventId"] in completion_ids]


@pytest.mark.e2e
def test_duplicate_queue_message_causes_one_put_and_one_event(stack: Stack) -> None:
    """The same envelope and requestId sent twice: the second copy joins the first operation."""
    hub = "E2eDupHub"
    stack.scenario(hub, mode="location", pollsUntilDone=2, retryAfter=1)
    body = envelope(hub, request_id=f"dup-{uuid.uuid4()}")
    text = json.dumps(body)

    first = stack.send(text)
    second = stack.send(text)

    operation_id = operation_id_of(body)
    _assert_succeeded_once(stack, hub, operation_id, "queue")

    def both_handled() -> list[str]:
        lines = host_log_lines(stack.host, f"[operation={operation_id} ")
        handled = [line for line in lines if first in line or second in line]
        return handled if len(handled) == 2 else []

    handled = stack.wait(both_handled, what="both copies to be handled")
    assert sum("started the operation" in line for line in handled) == 1, stack.explain(
        "\n".join(handled)
    )
    assert sum("matched the existing operation" in line for line in handled) == 1
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")
    assert len(stack.arm_puts(hub)) == 1
    assert len(stack.events_for(operation_id)) == 1
