"""Queue messages that cannot be provisioned: dead-lettered for good, or retried into poison."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from shared.events import rejection_event_id
from shared.names import REQUEST_QUEUE
from tests.e2e.harness import (
    CANCELED,
    MAX_DEQUEUE_COUNT,
    POISON_QUEUE,
    REJECTED,
    Stack,
    host_log_lines,
)
from tests.examples import envelope, operation_id_of


@pytest.mark.e2e
def test_invalid_json_message_is_dead_lettered_with_reasons_and_announced(stack: Stack) -> None:
    """A message that is not JSON lands on the rejected queue and a Rejected event is published."""
    puts_before = len(stack.all_puts())
    text = '{"target": {"hub": "E2eJunkHub", '  # cut short: not JSON

    message_id = stack.send(text)

    record = stack.dead_letter(message_id)
    assert record["source"] == "queue"
    assert record["message"] == text
    assert record["reasons"], stack.explain(f"record: {record}")
    assert all(reason["message"] for reason in record["reasons"])
    event = stack.rejection_event(message_id, text)
    assert event["subject"] == "interactions/rejected"
    assert event["data"]["outcome"] == "Rejected"
    assert event["data"]["problems"] == record["reasons"]
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")
    assert len(stack.all_puts()) == puts_before, "a rejected message reached ARM"
    assert stack.mentions_hub("E2eJunkHub") == []
    assert text not in stack.peek(POISON_QUEUE)


@pytest.mark.e2e
def test_invalid_definition_is_dead_lettered_with_its_paths_and_never_reaches_arm(
    stack: Stack,
) -> None:
    """A valid envelope with a bad definition is rejected with a reason per problem, not retried."""
    hub = "E2eBadDefHub"
    body = envelope(hub, request_id=f"bad-{uuid.uuid4()}")
    body["definition"]["fields"][0]["fieldType"] = "Edm.Nonsense"
    body["definition"]["fields"][1]["maxLength"] = 0
    text = json.dumps(body)

    message_id = stack.send(text)

    record = stack.dead_letter(message_id)
    assert record["message"] == text
    paths = [reason["path"] for reason in record["reasons"]]
    assert "$.definition.fields[0].fieldType" in paths, stack.explain(f"reasons: {record}")
    assert "$.definition.fields[1].maxLength" in paths, stack.explain(f"reasons: {record}")
    event = stack.rejection_event(message_id, text)
    assert event["subject"] == f"hubs/{hub}/interactions/WebVisit"
    assert event["data"]["hub"] == hub
    assert event["data"]["requestId"] == body["requestId"]
    assert event["data"]["problems"] == record["reasons"]
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")
    assert stack.mentions_hub(hub) == []
    assert stack.view(operation_id_of(envelope(hub))) is None
    # Rejected at the first delivery: never retried.
    tries = host_log_lines(stack.host, f"queue message {message_id} rejected")
    assert len(tries) == 1, stack.explain("\n".join(tries))


@pytest.mark.e2e
def test_conflicting_message_is_retried_into_poison_and_long_operation_cancels(
    stack: Stack,
) -> None:
    """A message conflicting with a running operation is retried maxDequeueCount times, then
    poisoned without a second PUT; the running operation then cancels with one event."""
    hub = "E2ePoisonHub"
    stack.scenario(hub, mode="location", pollsUntilDone=100_000, retryAfter=1)
    running = stack.submit(envelope(hub))
    operation_id = running["operationId"]
    stack.wait(lambda: stack.arm_puts(hub), what="the long operation's PUT")
    conflicting = envelope(hub, request_id=f"conflict-{uuid.uuid4()}", apiEntitySetName="Other")
    text = json.dumps(conflicting)
    assert operation_id_of(conflicting) == operation_id

    message_id = stack.send(text)

    stack.wait(lambda: text in stack.peek(POISON_QUEUE), what="the message on the poison queue")
    # One failed attempt per delivery, as the app logs them, then the host's poison move at
    # the delivery whose dequeue count reached maxDequeueCount.
    waits = host_log_lines(stack.host, f"queue message {message_id} waits for a running operation")
    assert len(waits) == MAX_DEQUEUE_COUNT, stack.explain("\n".join(waits))
    assert all(f"operation {operation_id} " in w and "is still Running" in w for w in waits)
    moved = host_log_lines(stack.host, f"Message {message_id} has reached MaxDequeueCount")
    assert len(moved) == 1, stack.explain(f"no poison move for {message_id}")
    assert f"MaxDequeueCount of {MAX_DEQUEUE_COUNT}" in moved[0]
    # The host copies the message to the poison queue, then deletes the original.
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the original's deletion")
    assert len(stack.arm_puts(hub)) == 1, stack.explain("the conflicting message reached ARM")
    view = stack.view(operation_id)
    assert view is not None
    assert view["status"] == "Running", stack.explain(f"view: {view}")
    assert view["requestId"] is None

    cancel = stack.cancel(operation_id)

    assert cancel.status_code == 202, stack.explain(cancel.text)
    ended = stack.wait_for_end(operation_id)
    assert ended["status"] == "Canceled", stack.explain(f"view: {ended}")
    events = stack.events_for(operation_id)
    assert [e["eventType"] for e in events] == [CANCELED], stack.explain(f"events: {events}")
    assert len(stack.arm_puts(hub)) == 1


@pytest.mark.e2e
def test_invalid_message_whose_record_exceeds_64_kib_is_dead_lettered_once(stack: Stack) -> None:
    """A message that fits the queue but whose escaped record would not is still dead-lettered.

    47,000 quotes are 62,668 base64 characters on the queue; escaped in the record's JSON they
    would be 94,000 bytes, past the limit.
    """
    text = '"' * 47_000

    message_id = stack.send(text)

    record = stack.dead_letter(message_id)
    assert record["messageBytes"] == len(text)
    assert record["messageSha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert text.startswith(record["message"])
    assert record["reasons"], stack.explain(f"record: {record}")
    event = stack.rejection_event(message_id, text)
    assert event["data"]["problems"] == record["reasons"]
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")
    assert text not in stack.peek(POISON_QUEUE)
    tries = host_log_lines(stack.host, f"queue message {message_id} rejected")
    assert len(tries) == 1, stack.explain("\n".join(tries))


@pytest.mark.e2e
def test_invalid_200_kb_event_is_dead_lettered_and_acknowledged_once(
    stack: Stack, intake_subscription: dict[str, Any]
) -> None:
    """An invalid event too large to dead-letter whole is acknowledged once it is dead-lettered."""
    data = {"junk": "x" * 200_000}
    event_id = str(uuid.uuid4())

    stack.publish_intake(data, event_id=event_id)

    record = stack.dead_letter(event_id)
    assert record["source"] == "eventgrid"
    assert record["messageBytes"] == len(json.dumps(data))
    ours = stack.wait(
        lambda: [d for d in stack.deliveries() if d["eventId"] == event_id],
        what=f"the delivery record of {event_id}",
    )
    # One delivery, acknowledged: Event Grid counts any 2xx as delivered.
    assert [d["outcome"] for d in ours] == ["delivered"], stack.explain(f"deliveries: {ours}")
    assert 200 <= ours[0]["status"] < 300
    rejection_id = rejection_event_id("eventgrid", event_id, json.dumps(data))
    assert [e["id"] for e in stack.events(eventType=REJECTED) if e["id"] == rejection_id] == [
        rejection_id
    ]
