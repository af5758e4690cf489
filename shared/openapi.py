"""The OpenAPI 3.1 document of the HTTP API, generated from the models the handlers validate with.

Built on the first request for it, not at import, so cold starts do not pay for it.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.models import InteractionTypeDefinition, ProvisioningRequest, _WrappedDefinition
from shared.names import APP_NAME, APP_VERSION, ROUTE_PREFIX
from shared.operation import OPERATION_ID_PATTERN, OperationView
from shared.problems import PROBLEM_JSON, Problem

_SCHEMAS = "#/components/schemas/"
_FUNCTION_KEY: list[dict[str, list[str]]] = [{"functionKeyHeader": []}, {"functionKeyQuery": []}]


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document served at `GET /api/openapi.json` (the same object on every call)."""
    refs, definitions = models_json_schema(
        [
            (ProvisioningRequest, "validation"),
            (InteractionTypeDefinition, "validation"),
            (_WrappedDefinition, "validation"),
            (OperationView, "serialization"),
            (Problem, "serialization"),
        ],
        by_alias=True,
        ref_template=_SCHEMAS + "{model}",
    )
    schemas: dict[str, Any] = definitions["$defs"]
    request = refs[(ProvisioningRequest, "validation")]["$ref"].removeprefix(_SCHEMAS)
    flat = refs[(InteractionTypeDefinition, "validation")]
    wrapped = refs[(_WrappedDefinition, "validation")]
    # Either wire shape is accepted wherever a definition is (models.is_wrapped_form); the wrap
    # validator that reads the second one is invisible to pydantic's schema.
    definition = {"anyOf": [flat, wrapped]}
    schemas[request]["properties"]["definition"] = definition
    # Left out, they come from DEFAULT_SUBSCRIPTION_ID and DEFAULT_RESOURCE_GROUP.
    target_name = schemas[request]["properties"]["target"]["$ref"].removeprefix(_SCHEMAS)
    schemas[target_name]["required"] = ["hub", "interactionName"]
    schemas["ProblemDetails"] = _problem_details_schema(refs[(Problem, "serialization")])
    view = refs[(OperationView, "serialization")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": APP_NAME,
            "version": APP_VERSION,
            "description": "Provision Customer Insights interaction types through ARM. "
            "Every refusal is an RFC 9457 problem+json body.",
        },
        "paths": {
            f"/{ROUTE_PREFIX}/hubs/{{hub}}/interactions/{{interactionName}}": {
                "put": _submit_operation(
                    "putInteraction",
                    "Create or update an interaction type from its definition",
                    definition,
                    view,
                    parameters=[
                        _path("hub"),
                        _path("interactionName"),
                        _query("subscriptionId"),
                        _query("resourceGroup"),
                        _query("requestId"),
                    ],
                )
            },
            f"/{ROUTE_PREFIX}/interactions": {
                "post": _submit_operation(
                    "postInteraction",
                    "Create or update an interaction type from a request envelope",
                    {"$ref": _SCHEMAS + request},
                    view,
                    parameters=[],
                )
            },
            f"/{ROUTE_PREFIX}/operations/{{operationId}}": {
                "parameters": [_path("operationId", pattern=OPERATION_ID_PATTERN)],
                "get": {
                    "operationId": "getOperation",
                    "summary": "The status of an operation",
                    "security": _FUNCTION_KEY,
                    "responses": {
                        "200": _view_response("The operation", view),
                        "401": _unauthorized(),
                        "404": _problem_response("No operation has this id"),
                    },
                },
                "delete": {
                    "operationId": "cancelOperation",
                    "summary": "Cancel a running operation; it ends as Canceled with its event",
                    "security": _FUNCTION_KEY,
                    "responses": {
                        "202": _view_response("Cancellation requested", view),
                        "401": _unauthorized(),
                        "404": _problem_response("No operation has this id"),
                        "409": _problem_response("The operation has already finished"),
                    },
                },
            },
            f"/{ROUTE_PREFIX}/ping": {"get": _anonymous_json("ping", "Readiness probe")},
            f"/{ROUTE_PREFIX}/openapi.json": {"get": _anonymous_json("openapi", "This document")},
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                # The Functions host's function keys (devhost/keys.py): header before query.
                "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }


def _problem_details_schema(problem: dict[str, Any]) -> dict[str, Any]:
    # What problems.problem_details builds; extra members (such as a conflict's `operation`)
    # are allowed, as RFC 9457 §3.2 lets a problem type add them.
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "errors"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": problem},
            "errorCount": {"type": "integer", "minimum": 0},
        },
    }


def _submit_operation(
    operation_id: str,
    summary: str,
    body: dict[str, Any],
    view: dict[str, Any],
    *,
    parameters: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": _FUNCTION_KEY,
        "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": _view_response("The same definition has already been provisioned", view),
            "202": _view_response("Accepted; poll the Location header", view),
            "400": _problem_response("The request is invalid; `errors` says where and why"),
            "401": _unauthorized(),
            "409": _problem_response(
                "Another definition's operation is running, or the requestId was reused"
            ),
            "413": _problem_response("The body is over 256 KB"),
            "415": _problem_response("The body is not JSON"),
        },
    }


def _view_response(description: str, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "Location": {"description": "The operation's status URL", "schema": {"type": "string"}}
        },
        "content": {"application/json": {"schema": view}},
    }


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": _SCHEMAS + "ProblemDetails"}}},
    }


def _unauthorized() -> dict[str, Any]:
    return {"description": "No valid function key (empty body, as the Functions host sends)"}


def _anonymous_json(operation_id: str, summary: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [],
        "responses": {
            "200": {
                "description": summary,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }


def _path(name: str, *, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if pattern is not None:
        schema["pattern"] = f"^{pattern}$"
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
