"""The identity endpoint's error answers, in the shapes App Service's token service uses.

App Service's token endpoint is an ASP.NET (Kestrel) service: its own failures come back as
`{"statusCode", "message", "correlationId"}` (for example 400 "Unable to load the proper Managed
Identity."), and API-version failures come from ASP.NET API versioning as
`{"error": {"code", "message", "innerError"}}`. Each function returns an `HttpError` to raise,
as the other emulators' error factories do.
"""

from __future__ import annotations

import uuid

from emulators.common import HttpError, json_response


def token_service_error(status: int, message: str) -> HttpError:
    """An error from the token service itself."""
    correlation_id = str(uuid.uuid4())
    return HttpError(
        json_response(
            status,
            {"statusCode": status, "message": message, "correlationId": correlation_id},
            {"X-CORRELATION-ID": correlation_id},
        )
    )


def api_version_unspecified() -> HttpError:
    """400 for a request without `api-version`."""
    return _api_versioning_error(
        "ApiVersionUnspecified", "An API version is required, but was not specified."
    )


def unsupported_api_version(request_uri: str, api_version: str) -> HttpError:
    """400 for an `api-version` the endpoint does not serve."""
    return _api_versioning_error(
        "UnsupportedApiVersion",
        f"The HTTP resource that matches the request URI '{request_uri}' does not support "
        f"the API version '{api_version}'.",
    )


def _api_versioning_error(code: str, message: str) -> HttpError:
    return HttpError(
        json_response(400, {"error": {"code": code, "message": message, "innerError": None}})
    )
