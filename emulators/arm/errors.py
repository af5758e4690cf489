"""Every error the ARM emulator answers, in ARM's words, from this one module.

Each function returns an `HttpError` to raise; its response carries ARM's envelope
`{"error": {"code", "message", "target"?, "details"?}}`. Codes and messages follow what ARM
and the Azure RPC document; where ARM's exact text is unknown the message says plainly what is
wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus

from emulators.arm.constants import SUPPORTED_API_VERSIONS
from emulators.common import HttpError, error_response

_WWW_AUTHENTICATE = 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"'
_DEFAULT_FAULT_RETRY_AFTER = "1"


def arm_error(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpError:
    """The single constructor behind every function below."""
    return HttpError(error_response(status, code, message, target=target, headers=headers))


def missing_api_version() -> HttpError:
    return arm_error(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def invalid_api_version(api_version: str) -> HttpError:
    supported = ", ".join(SUPPORTED_API_VERSIONS)
    return arm_error(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{api_version}' is invalid. The supported versions are '{supported}'.",
    )


def invalid_subscription_id(subscription: str) -> HttpError:
    return arm_error(
        400,
        "InvalidSubscriptionId",
        f"The provided subscription identifier '{subscription}' is malformed or invalid.",
    )


def invalid_resource_group(resource_group: str, reason: str) -> HttpError:
    return arm_error(
        400,
        "InvalidResourceGroup",
        f"The provided resource group name '{resource_group}' is invalid: {reason}",
        target="resourceGroupName",
    )


def invalid_resource_name(target: str, name: str, rule: str) -> HttpError:
    return arm_error(
        400,
        "InvalidResourceName",
        f"The resource name '{name}' is invalid: {rule}",
        target=target,
    )


def invalid_request_content(message: str, *, target: str | None = None) -> HttpError:
    return arm_error(400, "InvalidRequestContent", message, target=target)


def read_only_provisioning_state(sent: object, current: str | None) -> HttpError:
    current_text = f"'{current}'" if current else "none, as the resource does not exist yet"
    return arm_error(
        400,
        "InvalidRequestContent",
        f"The property 'provisioningState' is read-only; the request sets it to '{sent}' "
        f"but the current value is {current_text}.",
        target="properties.provisioningState",
    )


def unsupported_media_type(content_type: str | None) -> HttpError:
    return arm_error(
        415,
        "UnsupportedMediaType",
        f"The content media type '{content_type or ''}' is not supported. "
        "Only 'application/json' is supported.",
    )


def resource_not_found(resource: str, resource_group: str) -> HttpError:
    return arm_error(
        404,
        "ResourceNotFound",
        f"The Resource '{resource}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def operation_not_found(operation_id: str) -> HttpError:
    return arm_error(404, "OperationNotFound", f"The operation '{operation_id}' was not found.")


def operation_failed(status: int, code: str, message: str) -> HttpError:
    return arm_error(status, code, message)


def path_not_found(method: str, path: str) -> HttpError:
    return arm_error(
        404,
        "NotFound",
        f"The emulator does not implement '{method} {path}': only Customer Insights "
        "interactions (PUT, GET, list) and their operation URLs are emulated.",
    )


def method_not_allowed(method: str, path: str, allowed: frozenset[str]) -> HttpError:
    return arm_error(
        405,
        "MethodNotAllowed",
        f"The method '{method}' is not allowed on '{path}'; allowed: {', '.join(sorted(allowed))}.",
        headers={"Allow": ", ".join(sorted(allowed))},
    )


def authentication_missing() -> HttpError:
    return _authentication_error(
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
    )


def authentication_malformed_header() -> HttpError:
    return _authentication_error(
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    )


def invalid_authentication_token() -> HttpError:
    return _authentication_error("InvalidAuthenticationToken", "The access token is invalid.")


def expired_authentication_token(expired_at: int, now: int) -> HttpError:
    return _authentication_error(
        "ExpiredAuthenticationToken",
        f"The access token expiry UTC time '{_utc(expired_at)}' is earlier than current UTC "
        f"time '{_utc(now)}'.",
    )


def wrong_token_audience(audience: str, allowed: list[str]) -> HttpError:
    listed = ",".join(f"'{a}'" for a in allowed)
    return _authentication_error(
        "InvalidAuthenticationTokenAudience",
        f"The access token has been obtained for wrong audience or resource '{audience}'. "
        f"It should exactly match with one of the allowed audiences {listed}.",
    )


def subscription_requests_throttled(
    kind: str, subscription: str, actor: str, retry_after: int
) -> HttpError:
    """429 once the subscription's `kind` ("read" or "write") budget is spent, in ARM's words."""
    return arm_error(
        429,
        "SubscriptionRequestsThrottled",
        f"Number of '{kind}' requests for subscription '{subscription}' actor '{actor}' "
        f"exceeded. Please try again after '{retry_after}' seconds after additional tokens are "
        "available. Refer to https://aka.ms/arm-throttling for additional information.",
        headers={"Retry-After": str(retry_after)},
    )


def injected_fault(status: int, code: str | None, message: str | None) -> HttpError:
    """The error a scripted fault answers with: its own code and message, or by default the
    status phrase in PascalCase (429 also says `Retry-After: 1`, as a throttled ARM would)."""
    if code is None:
        try:
            code = HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
        except ValueError:
            code = "InjectedFault"
    headers = {"Retry-After": _DEFAULT_FAULT_RETRY_AFTER} if status == 429 else None
    return arm_error(
        status,
        code,
        message or f"The emulator answered {status} as scripted by a fault.",
        headers=headers,
    )


def internal_server_error(request_id: str, correlation_id: str) -> HttpError:
    """500 for a failure of the emulator itself, worded as ARM words its own."""
    return arm_error(
        500,
        "InternalServerError",
        "Encountered internal server error. Diagnostic information: timestamp "
        f"'{datetime.now(UTC):%Y%m%dT%H%M%SZ}', tracking id '{request_id}', request correlation "
        f"id '{correlation_id}'.",
    )


def invalid_control_request(message: str) -> HttpError:
    return arm_error(400, "InvalidControlRequest", message)


def _authentication_error(code: str, message: str) -> HttpError:
    header = f'{_WWW_AUTHENTICATE}, error_description="{message}"'
    return arm_error(401, code, message, headers={"WWW-Authenticate": header})


def _utc(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%m/%d/%Y %H:%M:%S")
