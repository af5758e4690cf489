"""Operation ids from the URL: anything not shaped like an id is refused before any call."""

from __future__ import annotations

import json

import pytest

from tests.e2e.fuzzing import raw_request
from tests.e2e.harness import Stack
from tests.examples import envelope

# `{id}` is replaced by a real operation's id: these must not reach that operation.
HOSTILE_IDS = [
    "..",
    "%2e%2e",
    "%2F",
    "a%2Fb",
    "%3F",
    "%23",
    "zz%2F..%2F{id}",
    "{id}%3Fx%3D1",
    "{id}%23frag",
    "{id}%2F",
    "%2e%2e%2F{id}",
    "{id}%00",
    "{id}%0D%0AX-Injected:1",
    "CI-{tail}",
]


@pytest.mark.e2e
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("template", HOSTILE_IDS)
def test_malformed_operation_ids_get_a_problem_and_never_reach_another_operation(
    stack: Stack, method: str, template: str
) -> None:
    """400/404 problem+json for ids not of the form ci-<32 hex>; the real operation is untouched."""
    hub = "E2eHostileIdHub"
    stack.scenario(hub, mode="location", pollsUntilDone=10_000, retryAfter=1)
    operation_id = stack.submit(envelope(hub, "HostileIds"))["operationId"]
    path = "/api/operations/" + template.format(id=operation_id, tail=operation_id[3:])

    status, content_type, text = raw_request(stack, method, path)
    body = json.loads(text) if content_type.startswith("application/problem+json") else None

    assert status in (400, 404), stack.explain(f"{method} {path}: {status}")
    assert content_type.startswith("application/problem+json"), f"{status} {content_type}"
    assert body is not None
    assert body["status"] == status
    assert "operationId" not in body
    view = stack.view(operation_id)
    assert view is not None
    assert view["status"] in ("Accepted", "Running"), stack.explain(f"acted on: {view}")
