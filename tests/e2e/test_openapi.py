"""`GET /api/openapi.json` from the host: anonymous, and the document the app generates."""

from __future__ import annotations

import json

import pytest
import requests

from shared.openapi import openapi_document
from tests.e2e.harness import Stack


@pytest.mark.e2e
def test_the_host_serves_the_openapi_document_without_a_key(stack: Stack) -> None:
    response = requests.get(f"{stack.url}/api/openapi.json", timeout=10)

    assert response.status_code == 200, stack.explain(response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == json.loads(json.dumps(openapi_document()))
