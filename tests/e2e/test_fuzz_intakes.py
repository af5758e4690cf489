"""Property-based tests of the three intakes and the status API against the running host.

Hypothesis mutates the README's example envelope (any value replaced by any JSON, hostile
names, unknown keys) and also sends arbitrary JSON and text. Every intake must answer without
a 5xx and lose nothing: each queue message ends either as an operation or as a dead-letter
record; each HTTP refusal is a bounded problem+json body. ARM must receive nothing invalid.
Examples are few and derandomized so the suite stays inside `make test`'s time.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import InvalidRequest
from shared.names import REJECTED_QUEUE, REQUEST_QUEUE
from shared.operation import is_operation_id, operation_id_for
from shared.validation import parse_envelope
from tests.e2e.fuzzing import FuzzCounts, fuzz_run, raw_request
from tests.e2e.harness import FUNCTION_KEY, REQUESTED, Stack
from tests.examples import EXAMPLE, RESOURCE_GROUP, SUBSCRIPTION

# An error body larger than this is a finding 3 regression (20,000 problems once made 5.5 MB).
MAX_ERROR_BODY_BYTES = 64 * 1024

COUNTS = FuzzCounts()

FUZZ = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Names a caller could send: empty, control characters, separators, long, non-ASCII.
hostile_names = st.sampled_from(
    ["", " ", "\x00", "a\x07b", "a\nb", "..", "a/b", "x" * 600, "名前", "\u202e", "\ud800"]
) | st.text(max_size=40)


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaf_paths(child, (*path, index))


EXAMPLE_PATHS = [path for path in _leaf_paths(EXAMPLE) if path]


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    result = copy.deepcopy(document)
    holder = result
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return result


@st.composite
def envelopes(draw: st.DrawFn) -> Any:
    """The example envelope with one to three values replaced, or any JSON value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    # A fresh resource per example, so two examples never conflict with each other.
    body: Any = copy.deepcopy(EXAMPLE)
    body["target"] = {"hub": "FuzzHub", "interactionName": f"Fuzz{uuid.uuid4().hex}"}
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(EXAMPLE_PATHS))
        try:
            body = _replaced(body, path, draw(hostile_names | json_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed the place
    if draw(st.booleans()):
        body[draw(st.text(max_size=8))] = draw(json_values)
    return body


def _expected_valid(body: Any) -> str | None:
    """The operation id the app should start for `body`, or None if it must refuse it."""
    try:
        request = parse_envelope(
            body, default_subscription_id=SUBSCRIPTION, default_resource_group=RESOURCE_GROUP
        )
    except InvalidRequest:
        return None
    return operation_id_for(request.target)


def _assert_problem(response: requests.Response) -> None:
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert len(response.content) <= MAX_ERROR_BODY_BYTES, len(response.content)
    body = response.json()
    assert body["status"] == response.status_code
    assert body["errors"], body


@pytest.fixture(scope="module", autouse=True)
def _fuzz_run(stack: Stack) -> Iterator[None]:
    with fuzz_run(stack, COUNTS, "hypothesis inputs per intake"):
        yield


@pytest.mark.e2e
@settings(FUZZ, max_examples=120)
@given(body=envelopes())
def test_http_intake_answers_every_envelope_with_an_operation_or_a_bounded_problem(
    stack: Stack, body: Any
) -> None:
    try:
        response = stack.post_interaction(body)
    except ValueError:
        return  # requests cannot encode it (a lone surrogate); nothing was sent
    COUNTS.count("POST /api/interactions", response.status_code)
    expected = _expected_valid(body)
    if expected is None:
        assert response.status_code == 400, stack.explain(f"{response.status_code} {body!r}")
        _assert_problem(response)
    else:
        assert response.status_code in (200, 202), stack.explain(response.text)
        assert response.json()["operationId"] == expected


@pytest.mark.e2e
@settings(FUZZ, max_examples=80)
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.hex()))
def test_http_intake_answers_arbitrary_text_with_a_400_problem(stack: Stack, text: str) -> None:
    try:
        response = requests.post(
            f"{stack.url}/api/interactions",
            data=text.encode("utf-8"),
            headers={"x-functions-key": FUNCTION_KEY, "Content-Type": "application/json"},
            timeout=10,
        )
    except UnicodeEncodeError:
        return
    COUNTS.count("POST /api/interactions (text)", response.status_code)
    if response.status_code >= 400:
        assert response.status_code == 400, stack.explain(f"{response.status_code} {text!r}")
        _assert_problem(response)


@pytest.mark.e2e
@settings(FUZZ, max_examples=150)
@given(method=st.sampled_from(["GET", "DELETE"]), operation_id=st.text(min_size=1, max_size=80))
def test_status_api_refuses_every_malformed_id_with_a_problem(
    stack: Stack, method: str, operation_id: str
) -> None:
    """Any id, percent-encoded whole (so `/`, `?`, `#` and `%` stay inside the segment)."""
    try:
        segment = quote(operation_id, safe="")
    except UnicodeEncodeError:
        return
    status, content_type, _ = raw_request(stack, method, f"/api/operations/{segment}")
    COUNTS.count(f"{method} /api/operations/{{id}}", status)
    if not is_operation_id(operation_id):
        assert status in (400, 404), stack.explain(f"{method} {segment}: {status}")
        assert content_type.startswith("application/problem+json"), (status, content_type)


def _take_dead_letters(stack: Stack, message_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Receive the rejected queue's records of `message_ids`, deleting only those."""
    found: dict[str, dict[str, Any]] = {}
    queue = stack.queue(REJECTED_QUEUE)
    try:
        messages = list(queue.receive_messages(max_messages=32, visibility_timeout=1))
    except ResourceNotFoundError:
        return found  # the app creates the queue with its first record
    for message in messages:
        record = json.loads(message.content)
        if record.get("messageId") in message_ids:
            found[record["messageId"]] = record
            queue.delete_message(message)
    return found


@pytest.mark.e2e
@settings(FUZZ, max_examples=25)
@given(batch=st.lists(envelopes(), min_size=1, max_size=3))
def test_queue_intake_ends_every_message_as_an_operation_or_a_dead_letter(
    stack: Stack, batch: list[Any]
) -> None:
    """Nothing is lost: each message starts its operation, or its record names why not."""
    pending: dict[str, str | None] = {}
    for body in batch:
        try:
            text = json.dumps(body)
            text.encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            continue
        pending[stack.send(text)] = _expected_valid(body)
        COUNTS.count("queue message")
    rejected: dict[str, dict[str, Any]] = {}

    def settled() -> bool:
        rejected.update(_take_dead_letters(stack, {m for m, op in pending.items() if op is None}))
        started = all(stack.view(op) is not None for op in pending.values() if op is not None)
        invalid = {m for m, op in pending.items() if op is None}
        return started and invalid <= rejected.keys()

    stack.wait(settled, what=f"{len(pending)} fuzzed queue messages to settle", timeout=30)
    for record in rejected.values():
        assert record["reasons"], record
    stack.wait(lambda: stack.queue_length(REQUEST_QUEUE) == 0, what="the request queue to drain")


@pytest.mark.e2e
@settings(FUZZ, max_examples=60)
@given(
    data=envelopes(),
    event_type=st.sampled_from([REQUESTED, "Other.Type", ""]) | st.text(max_size=20),
    extra=st.dictionaries(st.text(max_size=8), json_values, max_size=2),
)
def test_eventgrid_webhook_ends_every_event_as_an_operation_or_a_dead_letter(
    stack: Stack, data: Any, event_type: str, extra: dict[str, Any]
) -> None:
    """Events as Event Grid would push them: no 5xx, and an invalid one is dead-lettered."""
    event_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        **extra,
        "id": event_id,
        "subject": "intake/fuzz",
        "eventType": event_type,
        "eventTime": datetime.now(UTC).isoformat(),
        "dataVersion": "1.0",
        "data": data,
    }
    try:
        payload = json.dumps([event]).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return
    response = requests.post(
        stack.webhook_url(),
        data=payload,
        headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
        timeout=10,
    )
    COUNTS.count("Event Grid webhook", response.status_code)
    assert response.status_code < 500, stack.explain(f"{response.status_code} {response.text}")
    if response.status_code >= 400:
        return  # the delivery itself was refused (e.g. an extra key clashing); nothing started
    operation_id = _expected_valid(data)
    if operation_id is None:
        # Taken off the rejected queue, which later tests read 32 records at a time.
        (record,) = stack.wait(
            lambda: list(_take_dead_letters(stack, {event_id}).values()),
            what=f"the dead-letter record of event {event_id}",
        )
        assert record["reasons"], record
    else:
        stack.wait(lambda: stack.view(operation_id), what=f"operation {operation_id}")
