"""What the HTTP functions do: submit, status and cancel, with problem+json for every refusal.

Loaded on the first HTTP call rather than at import, to keep cold starts small.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import azure.functions as func

from shared.errors import (
    ArmReadError,
    ConflictError,
    IdentifierReused,
    InvalidRequest,
    ProblemCode,
)
from shared.models import ProvisioningRequest
from shared.names import CANCEL_EVENT, ROUTE_PREFIX
from shared.operation import OperationView, is_operation_id, log_context
from shared.problems import PROBLEM_JSON, Problem, problem_details
from shared.scopes import out_of_scope
from shared.settings import get_settings
from shared.submission import Submission, read_operation, submit
from shared.validation import decode_json, parse_envelope, parse_route_request

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
PROBLEM_TYPE = "tag:customer-insights-interactions,2026:"
# How soon a caller should look again while an operation runs, when the next poll is unknown.
DEFAULT_RETRY_AFTER_SECONDS = 5
MAX_RETRY_AFTER_SECONDS = 60
# Longer keys are refused rather than cut, so two keys never become one.
MAX_IDEMPOTENCY_KEY_LENGTH = 255


async def put_interaction(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Create or update an interaction type from a definition (flat or ARM-wrapped)."""

    def parse(body: object) -> ProvisioningRequest:
        settings = get_settings()
        return parse_route_request(
            hub=req.route_params.get("hub", ""),
            interaction_name=req.route_params.get("interactionName", ""),
            body=body,
            subscription_id=req.params.get("subscriptionId"),
            resource_group=req.params.get("resourceGroup"),
            request_id=req.params.get("requestId"),
            default_subscription_id=settings.default_subscription_id,
            default_resource_group=settings.default_resource_group,
        ).model_copy(update={"force": _flag(req, "force"), "what_if": _flag(req, "whatIf")})

    return await _submit(req, client, parse)


async def post_interaction(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Create or update an interaction type from a request envelope."""

    def parse(body: object) -> ProvisioningRequest:
        settings = get_settings()
        return parse_envelope(
            body,
            default_subscription_id=settings.default_subscription_id,
            default_resource_group=settings.default_resource_group,
        )

    return await _submit(req, client, parse)


async def get_operation(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """The status of an operation."""
    view = await _routed_operation(req, client)
    if isinstance(view, func.HttpResponse):
        return view
    return _view_response(req, view, status_code=200)


async def cancel_operation(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Ask a running operation to stop polling; it ends as Canceled with its event."""
    view = await _routed_operation(req, client)
    if isinstance(view, func.HttpResponse):
        return view
    operation_id = view.operation_id
    if view.status.is_terminal:
        return _already_finished(view)
    try:
        await client.raise_event(
            operation_id, CANCEL_EVENT, {"requestedAt": datetime.now(UTC).isoformat()}
        )
    except Exception:
        # It may have finished between our read and the event (the extension answers 410).
        latest = await read_operation(client, operation_id)
        if latest is None or not latest.status.is_terminal:
            raise
        return _already_finished(latest)
    logger.info("%s cancel requested", log_context(operation_id, view.correlation_id))
    return _view_response(req, view, status_code=202)


async def _routed_operation(
    req: func.HttpRequest, client: Any
) -> OperationView | func.HttpResponse:
    """The operation the route names, or the 404 for an id that is malformed or unknown."""
    operation_id = req.route_params.get("operationId", "")
    # Checked before any durable call: the client puts the id into its URL unescaped.
    view = await read_operation(client, operation_id) if is_operation_id(operation_id) else None
    return _not_found(operation_id) if view is None else view


async def _submit(
    req: func.HttpRequest,
    client: Any,
    parse: Callable[[object], ProvisioningRequest],
) -> func.HttpResponse:
    body = req.get_body()
    if len(body) > MAX_BODY_BYTES:
        return _problem(
            413,
            "payload-too-large",
            "The request body is too large",
            f"The body has {len(body)} bytes; the limit is {MAX_BODY_BYTES}.",
        )
    content_type = req.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _problem(
            415,
            "unsupported-media-type",
            "The request body must be JSON",
            f"Content-Type {content_type!r} is not supported; send application/json.",
        )
    try:
        request = parse(decode_json(body, "request body"))
        key = _idempotency_key(req)
    except InvalidRequest as invalid:
        return _problems(invalid.problems)
    refusal = out_of_scope(request.target, get_settings().write_scopes)
    if refusal is not None:
        return _problem(
            403, "target-out-of-scope", "The target is outside the app's scopes", refusal.message
        )
    if request.what_if:
        return await _what_if(request)
    try:
        submission = await submit(
            client,
            request,
            source="http",
            settings=get_settings(),
            delivery_id=None if key is None else f"http:{key}",
        )
    except ConflictError as conflict:
        return _conflict(req, conflict.view)
    except IdentifierReused as reused:
        return _problems(reused.problems, status=409)
    return _submitted(req, submission)


def _flag(req: func.HttpRequest, name: str) -> bool:
    value = req.params.get(name)
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise InvalidRequest(
        [Problem(path=f"?{name}", code=ProblemCode.INVALID_FLAG, message="must be true or false")]
    )


def _idempotency_key(req: func.HttpRequest) -> str | None:
    # draft-ietf-httpapi-idempotency-key-header: the same key is the same request.
    key: str | None = req.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            [
                Problem(
                    path="Idempotency-Key",
                    code=ProblemCode.INVALID_IDEMPOTENCY_KEY,
                    message=f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters",
                )
            ]
        )
    return key


async def _what_if(request: ProvisioningRequest) -> func.HttpResponse:
    from shared.what_if import what_if

    try:
        verdict = await what_if(request, get_settings())
    except ArmReadError as failed:
        return _problem(
            502,
            "arm-read-failed",
            "ARM could not be read",
            f"{failed.error.code}: {failed.error.message}"[:500],
        )
    body = {
        "whatIf": True,
        "resourceId": request.target.resource_path,
        "change": verdict.change.value,
        "changes": list(verdict.changes),
    }
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def _submitted(req: func.HttpRequest, submission: Submission) -> func.HttpResponse:
    running = not submission.view.status.is_terminal
    return _view_response(req, submission.view, status_code=202 if running else 200)


def _view_response(
    req: func.HttpRequest, view: OperationView, *, status_code: int
) -> func.HttpResponse:
    url = _status_url(req, view.operation_id)
    headers = {"Location": url}
    if not view.status.is_terminal:
        headers["Retry-After"] = str(_suggested_retry_after(view))
    body = view.model_copy(update={"links": {"status": url}})
    return func.HttpResponse(
        body.model_dump_json(by_alias=True),
        status_code=status_code,
        headers=headers,
        mimetype="application/json",
    )


def _conflict(req: func.HttpRequest, running: OperationView) -> func.HttpResponse:
    url = _status_url(req, running.operation_id)
    body = problem_details(
        [
            Problem(
                path="$",
                message=f"Operation {running.operation_id} is still {running.status.value} "
                "for this interaction type with a different definition; retry after it ends.",
                code=ProblemCode.OPERATION_IN_PROGRESS,
            )
        ],
        title="Another operation is running for this interaction type",
        status=409,
        problem_type=PROBLEM_TYPE + "conflict",
    )
    body["operation"] = url
    return func.HttpResponse(
        json.dumps(body), status_code=409, headers={"Location": url}, mimetype=PROBLEM_JSON
    )


def _already_finished(view: OperationView) -> func.HttpResponse:
    return _problem(
        409,
        "already-finished",
        "The operation has already finished",
        f"Operation {view.operation_id} ended as {view.status.value}; there is nothing to cancel.",
    )


def _suggested_retry_after(view: OperationView) -> int:
    # The Retry-After this API sends its own callers; ARM's is read in shared/waits.py.
    if view.next_poll_at is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    seconds = (view.next_poll_at - datetime.now(UTC)).total_seconds()
    return int(min(max(seconds, 1), MAX_RETRY_AFTER_SECONDS))


def _status_url(req: func.HttpRequest, operation_id: str) -> str:
    parts = urlsplit(req.url)
    return (
        f"{parts.scheme}://{parts.netloc}/{ROUTE_PREFIX}/operations/{quote(operation_id, safe='')}"
    )


def _problems(problems: tuple[Problem, ...], *, status: int = 400) -> func.HttpResponse:
    body = problem_details(problems, title="The interaction type request is invalid", status=status)
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype=PROBLEM_JSON)


def _not_found(operation_id: str) -> func.HttpResponse:
    # The id is echoed back shortened: it came from the caller and may be as long as the URL.
    return _problem(
        404,
        "not-found",
        "No such operation",
        f"There is no operation {operation_id[:80]!r}; operation ids look like "
        "ci- followed by 32 hexadecimal digits.",
    )


def _problem(status: int, kind: str, title: str, detail: str) -> func.HttpResponse:
    body = problem_details(
        [Problem(path="$", message=detail, code=kind.replace("-", "_"))],
        title=title,
        status=status,
        problem_type=PROBLEM_TYPE + kind,
    )
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype=PROBLEM_JSON)
