"""The OpenAPI document: valid 3.1, one path per HTTP function, and schemas the app agrees with."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from schemathesis.core.result import Ok

from shared.openapi import openapi_document
from shared.problems import Problem, problem_details
from tests.examples import EXAMPLE, ROOT

WRAPPED = json.loads((ROOT / "examples" / "interaction-wrapped.json").read_text())


def validator(name: str) -> Any:
    """A JSON Schema 2020-12 validator for components.schemas[name] of the document."""
    document = openapi_document()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{name}",
        "components": document["components"],
    }
    return jsonschema_rs.validator_for(schema)


# Run in a child: the Functions SDK refuses a second get_functions() on one app, and
# tests/worker/test_app_indexing.py makes the first in this process.
_ROUTES_PROBE = """
import json, function_app
print(json.dumps([
    [str(method.value).lower(), binding.route]
    for function in function_app.app.get_functions()
    for binding in function.get_bindings() if binding.type == "httpTrigger"
    for method in binding.methods
]))
"""


@functools.cache
def http_routes() -> frozenset[tuple[str, str]]:
    """(method, path) of every httpTrigger function function_app.py declares."""
    result = subprocess.run(
        [sys.executable, "-c", _ROUTES_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return frozenset(
        (method, "/api/" + re.sub(r"\{(\w+)[^}]*\}", r"{\1}", route))
        for method, route in json.loads(result.stdout)
    )


def test_is_an_openapi_3_1_document_schemathesis_loads() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    loaded = schemathesis.openapi.from_dict(document)
    results = list(loaded.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    assert len(results) == len(http_routes())


def test_documents_exactly_the_http_functions_of_the_app() -> None:
    documented = {
        (method, path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == http_routes()


@pytest.mark.parametrize("body", [EXAMPLE, {**EXAMPLE, "definition": WRAPPED}])
def test_the_readmes_examples_fit_the_request_schema(body: dict[str, Any]) -> None:
    """Both wire shapes of the definition are in the document, as the app accepts both."""
    validator("ProvisioningRequest").validate(body)


def test_the_request_schema_refuses_unknown_keys_as_the_app_does() -> None:
    assert not validator("ProvisioningRequest").is_valid({**EXAMPLE, "extra": 1})


def test_problem_bodies_the_app_builds_fit_the_problem_schema() -> None:
    problems = [Problem(path=f"$.p{index}", message="m", code="c") for index in range(80)]
    validator("ProblemDetails").validate(problem_details(problems, title="t", instance="/x"))


def test_importing_the_app_does_not_build_the_document() -> None:
    """Cold start: the pydantic schema generation runs on the first GET, not at import."""
    probe = "import sys, function_app; print('shared.openapi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_is_built_once() -> None:
    assert openapi_document() is openapi_document()
