"""Operation ids from the URL: anything not shaped like an id is refused before any call.

Paths are sent byte for byte with http.client, since requests would normalise `..` and `%2e`.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.harness import FUNCTION_KEY, Stack
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


def _raw(stack: Stack, method: str, path: str) -> tuple[int, str, dict[str, Any] | None]:
    parts = urlsplit(stack.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("x-functions-key", FUNCTION_KEY)
        connection.endheaders()
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        content_type = response.getheader("Content-Type") or ""
    finally:
        connection.close()
    body = json.loads(text) if content_type.startswith("application/problem+json") else None
    return response.status, content_type, body


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

    status, content_type, body = _raw(stack, method, path)

    assert status in (400, 404), stack.explain(f"{method} {path}: {status}")
    assert content_type.startswith("application/problem+json"), f"{status} {content_type}"
    assert body is not None
    assert body["status"] == status
    assert "operationId" not in body
    view = stack.view(operation_id)
    assert view is not None
    assert view["status"] in ("Accepted", "Running"), stack.explain(f"acted on: {view}")
