"""HTTP functions: submit a definition, read or cancel an operation, ping."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()

# Handlers are imported inside each function: pydantic models and requests cost more to
# import than the Functions SDK itself, and only the first call should pay for them.


@bp.function_name("put_interaction")
@bp.route(route="hubs/{hub}/interactions/{interactionName}", methods=["PUT"])
@bp.durable_client_input(client_name="client")
async def put_interaction(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Create or update an interaction type from a definition (flat or ARM-wrapped)."""
    from shared import http_handlers

    return await http_handlers.put_interaction(req, client)


@bp.function_name("post_interaction")
@bp.route(route="interactions", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def post_interaction(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Create or update an interaction type from a request envelope."""
    from shared import http_handlers

    return await http_handlers.post_interaction(req, client)


@bp.function_name("get_operation")
@bp.route(route="operations/{operationId}", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def get_operation(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """The status of an operation."""
    from shared import http_handlers

    return await http_handlers.get_operation(req, client)


@bp.function_name("cancel_operation")
@bp.route(route="operations/{operationId}", methods=["DELETE"])
@bp.durable_client_input(client_name="client")
async def cancel_operation(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Ask a running operation to stop polling; it ends as Canceled with its event."""
    from shared import http_handlers

    return await http_handlers.cancel_operation(req, client)


@bp.function_name("ping")
@bp.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    """Readiness probe for scripts and load balancers."""
    return func.HttpResponse('{"status":"ok"}', mimetype="application/json")
