"""Schemathesis runs the host's own OpenAPI document against the host, with the emulators.

Every operation gets generated requests, valid and invalid by the document; each answer must be
no 5xx and must conform to the document (status, content type, schema, headers). The journal
of the ARM emulator must hold only PUTs of definitions the app accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.openapi import openapi_document
from tests.e2e.fuzzing import FuzzCounts, fuzz_run
from tests.e2e.harness import FUNCTION_KEY, Stack

# Requests per operation and mode: the suite runs in `make test`, so it is bounded.
MAX_EXAMPLES = 40

# What the suite asserts. Schemathesis's other default checks test conventions the Functions
# host does not follow, e.g. 405 for an undeclared method (the host answers 404:
# devhost/routes.py), or judge acceptance by the document alone, which leaves name formats and
# cross-field rules to the app (README "OpenAPI document").
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

COUNTS = FuzzCounts()


@pytest.fixture(scope="module", autouse=True)
def _fuzz_run(stack: Stack) -> Iterator[None]:
    with fuzz_run(stack, COUNTS, "schemathesis requests per operation"):
        yield


# Loaded here rather than from the host through schemathesis.pytest.from_fixture, whose lazy
# mode reads pytest's private Function._nodeid, gone in pytest 9. test_openapi.py checks the
# host serves this same document.
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.mark.e2e
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_every_operation_answers_without_5xx_and_as_documented(
    case: schemathesis.Case[Any], stack: Stack
) -> None:
    response = case.call(base_url=stack.url, headers={"x-functions-key": FUNCTION_KEY})
    COUNTS.count(case.operation.label, response.status_code)
    case.validate_response(response, checks=CHECKS)
