"""Hostile bodies on every HTTP intake answer 4xx with a small problem, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from shared.problems import MAX_LISTED_PROBLEMS
from tests.e2e.harness import FUNCTION_KEY, Stack
from tests.examples import envelope

DEEP = "[" * 100_000 + "]" * 100_000
# A 200 KB definition with 20,000 bad fields (60,000 problems) once answered 5.5 MB.
MANY_BAD_FIELDS = json.dumps(envelope("E2eManyBadHub", fields=[{"x": 1}] * 20_000))
BODIES = {
    "deep": DEEP,
    "deep-object": '{"a":' * 40_000 + "1" + "}" * 40_000,
    "truncated": '{"target": {',
    "not-json": "not json",
    "nan": '{"target": NaN}',
}


def _post(stack: Stack, path: str, body: str, method: str = "POST") -> requests.Response:
    return requests.request(
        method,
        f"{stack.url}{path}",
        data=body.encode("utf-8"),
        headers={"x-functions-key": FUNCTION_KEY, "Content-Type": "application/json"},
        timeout=30,
    )


@pytest.mark.e2e
@pytest.mark.parametrize("kind", list(BODIES))
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/interactions"), ("PUT", "/api/hubs/E2eHostileHub/interactions/Deep")],
)
def test_unparseable_bodies_are_400_problems_on_the_http_api(
    stack: Stack, kind: str, method: str, path: str
) -> None:
    """Deep nesting, broken or non-standard JSON: 400 problem+json, nothing sent to ARM."""
    response = _post(stack, path, BODIES[kind], method)
    assert response.status_code == 400, stack.explain(f"{kind}: {response.status_code}")
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 400
    assert stack.arm_puts("E2eHostileHub") == []


@pytest.mark.e2e
# NaN is left out: the host's JSON reader accepts it, and the app then dead-letters the event.
@pytest.mark.parametrize("kind", [kind for kind in BODIES if kind != "nan"])
def test_unparseable_bodies_are_400s_on_the_eventgrid_webhook(stack: Stack, kind: str) -> None:
    """The webhook refuses what it cannot read with 400, as it does bad JSON, never 500."""
    response = requests.post(
        stack.webhook_url(),
        data=BODIES[kind].encode("utf-8"),
        headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, stack.explain(f"{kind}: {response.status_code}")


@pytest.mark.e2e
def test_twenty_thousand_bad_fields_get_a_bounded_problem_list(stack: Stack) -> None:
    """The first MAX_LISTED_PROBLEMS problems and the total count, in a body of a few KB."""
    assert 180_000 < len(MANY_BAD_FIELDS) < 256 * 1024
    response = _post(stack, "/api/interactions", MANY_BAD_FIELDS)
    assert response.status_code == 400, stack.explain(response.text[:500])
    body = response.json()
    assert len(body["errors"]) == MAX_LISTED_PROBLEMS
    assert body["errorCount"] == 60_000
    assert len(response.content) < 64 * 1024
    assert stack.arm_puts("E2eManyBadHub") == []


@pytest.mark.e2e
def test_an_oversized_url_is_refused_and_logged_as_one_line(stack: Stack) -> None:
    """A 9 KB request line answers 400 and leaves one WARNING line, no traceback."""
    before = stack.host.log().splitlines()
    response = requests.get(
        f"{stack.url}/api/operations/{'a' * 9_000}",
        headers={"x-functions-key": FUNCTION_KEY},
        timeout=10,
    )
    assert response.status_code == 400
    written = stack.wait(
        lambda: stack.host.log().splitlines()[len(before) :] or None,
        what="the host to log the refused request",
    )
    assert len(written) == 1, written
    assert "LineTooLong" in written[0]
    assert "WARNING" in written[0]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("extra_field", "changes"),
    [
        ({"fieldName": "", "fieldType": "Edm.String"}, {}),
        ({"fieldName": "Visit\u0000Id", "fieldType": "Edm.String"}, {}),
        ({"fieldName": "Note", "fieldType": "Edm.String", "maxLength": 10**30}, {}),
        (None, {"instancesCount": -1}),
    ],
    ids=["empty-name", "control-character", "huge-max-length", "negative-count"],
)
def test_empty_names_and_absurd_numbers_never_reach_arm(
    stack: Stack, extra_field: dict[str, object] | None, changes: dict[str, Any]
) -> None:
    """What ARM would refuse after a write attempt is a 400 before any call."""
    hub = "E2eBadNamesHub"
    body = envelope(hub, **changes)
    if extra_field is not None:
        body["definition"]["fields"].append(extra_field)
    response = _post(stack, "/api/interactions", json.dumps(body))
    assert response.status_code == 400, stack.explain(f"{body}: {response.text[:300]}")
    assert stack.arm_puts(hub) == []
