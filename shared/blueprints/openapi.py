"""`GET /api/openapi.json`: the HTTP API's OpenAPI 3.1 document, anonymous like the ping."""

from __future__ import annotations

import json

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI document, generated from the request and status models on first call."""
    # Imported here: generating it loads the pydantic models, which only this call needs.
    from shared.openapi import openapi_document

    return func.HttpResponse(json.dumps(openapi_document()), mimetype="application/json")
