"""A blueprint, so the tests cover apps that register functions from other modules."""

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    """Readiness route, open without a key."""
    return func.HttpResponse("pong")


@bp.route(route="restricted", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def restricted(req: func.HttpRequest) -> func.HttpResponse:
    """An ADMIN-level route: only the master key opens it."""
    return func.HttpResponse("restricted")
