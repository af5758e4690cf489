"""The durable HTTP API on aiohttp: the SDK client's RPC routes and the public webhook routes.

Status codes follow the extension's `HttpApiHandler`: a Failed instance answers 200 unless
the request asks for `returnInternalServerErrorOnFailure=true`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devhost.durable.client_binding import RPC_PATH, WEBHOOK_PATH, management_urls
from devhost.durable.errors import (
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    InstanceStillRunning,
    UnknownOrchestrator,
)
from devhost.durable.records import ACTIVE_STATUSES, RuntimeStatus
from devhost.keys import HostKeys, check_webhook, presented_key, refused

if TYPE_CHECKING:
    from devhost.durable.engine import DurableEngine

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_UNSUPPORTED_OPERATIONS = frozenset({"rewind", "restart", "suspend", "resume"})
_ALREADY_EXISTS = "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"


def build_routes(engine: DurableEngine, *, keys: HostKeys) -> list[web.RouteDef]:
    """Routes under `/durabletask` (RPC, loopback clients only, no key) and the webhook path
    (the durabletask_extension system key or the master key, once keys are configured)."""
    api = _DurableHttpApi(engine, keys.durabletask_extension)

    def webhook_guard(handler: Handler) -> Handler:
        return _require_key(handler, keys)

    routes: list[web.RouteDef] = []
    for prefix, guard in ((RPC_PATH.rstrip("/"), _loopback_only), (WEBHOOK_PATH, webhook_guard)):
        routes += [
            web.post(f"{prefix}/orchestrators/{{name}}", guard(api.start)),
            web.post(f"{prefix}/orchestrators/{{name}}/{{instance_id}}", guard(api.start)),
            web.get(f"{prefix}/instances", guard(api.list_instances)),
            web.get(f"{prefix}/instances/", guard(api.list_instances)),
            web.delete(f"{prefix}/instances", guard(api.purge_by)),
            web.delete(f"{prefix}/instances/", guard(api.purge_by)),
            web.get(f"{prefix}/instances/{{instance_id}}", guard(api.status)),
            web.delete(f"{prefix}/instances/{{instance_id}}", guard(api.purge)),
            web.post(
                f"{prefix}/instances/{{instance_id}}/raiseEvent/{{event_name}}",
                guard(api.raise_event),
            ),
            web.post(f"{prefix}/instances/{{instance_id}}/{{operation}}", guard(api.operation)),
        ]
    return routes


def unwrap_body(text: str) -> str | None:
    """Return the JSON text a client meant to send, or None for an empty body.

    The SDK client double-encodes: it posts a JSON string whose content is the JSON text.
    Other clients post the JSON itself. A JSON string whose content is not JSON text is
    taken as a plain string value. Raises ValueError when the body is not JSON.
    """
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Invalid JSON content: {exc}") from exc
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return text
        return value
    return text


class _DurableHttpApi:
    """Request handlers over one engine."""

    def __init__(self, engine: DurableEngine, key: str | None) -> None:
        self.engine = engine
        self.key = key  # the durabletask_extension key the management URLs carry

    async def start(self, request: web.Request) -> web.Response:
        try:
            input_json = unwrap_body(await request.text())
            instance_id = await self.engine.start_new(
                request.match_info["name"], request.match_info.get("instance_id"), input_json
            )
        except InstanceExists as exc:
            # HttpApiHandler has no case for it: the OrchestrationAlreadyExistsException that
            # StartNewAsync throws reaches the catch-all of HandleRequestAsync, which answers 500
            # with the body of HttpRequestMessageExtensions.CreateErrorResponse
            # (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/).
            # There is no .NET stack trace to show.
            return web.json_response(
                {
                    "Message": "Something went wrong while processing your request",
                    "ExceptionMessage": str(exc),
                    "ExceptionType": _ALREADY_EXISTS,
                    "StackTrace": None,
                },
                status=500,
            )
        except (UnknownOrchestrator, ValueError) as exc:
            return _error(400, str(exc))
        urls = management_urls(
            str(request.url.origin()), self.engine.task_hub, self.key, instance_id
        )
        body = {key: value for key, value in urls.items() if key != "rewindPostUri"}
        return web.json_response(
            body,
            status=202,
            headers={"Location": urls["statusQueryGetUri"], "Retry-After": "10"},
        )

    async def status(self, request: web.Request) -> web.Response:
        query = request.query
        status = self.engine.get_status(
            request.match_info["instance_id"],
            show_history=_flag(query, "showHistory", default=False),
            show_history_output=_flag(query, "showHistoryOutput", default=False),
            show_input=_flag(query, "showInput", default=True),
        )
        if status is None:
            return web.Response(status=404)
        runtime_status = status["runtimeStatus"]
        if runtime_status in ACTIVE_STATUSES:
            headers = {"Location": str(request.url), "Retry-After": "5"}
            return web.json_response(status, status=202, headers=headers)
        failed = runtime_status == RuntimeStatus.FAILED
        if failed and _flag(query, "returnInternalServerErrorOnFailure", default=False):
            return web.json_response(status, status=500)
        return web.json_response(status)

    async def list_instances(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            statuses = self.engine.query(
                runtime_status=_status_list(query.get("runtimeStatus")),
                instance_id_prefix=query.get("instanceIdPrefix"),
                created_from=_time(query.get("createdTimeFrom")),
                created_to=_time(query.get("createdTimeTo")),
                show_input=_flag(query, "showInput", default=True),
            )
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response(statuses)

    async def raise_event(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        # Same order of checks as the extension: instance first, then the content type.
        status = self.engine.get_status(instance_id, show_input=False)
        if status is None:
            return _error(404, f"No instance with ID '{instance_id}' found.")
        if status["runtimeStatus"] not in ACTIVE_STATUSES:
            return _error(410, f"Instance '{instance_id}' is {status['runtimeStatus']}.")
        if request.content_type != "application/json":
            return _error(400, "Only application/json request content is supported")
        try:
            data_json = unwrap_body(await request.text())
            await self.engine.raise_event(instance_id, request.match_info["event_name"], data_json)
        # The instance can finish or be purged while the body is read.
        except (InstanceNotFound, InstanceNotRunning) as exc:
            return _instance_gone(exc)
        except ValueError as exc:
            return _error(400, str(exc))
        return web.Response(status=202)

    async def operation(self, request: web.Request) -> web.Response:
        operation = request.match_info["operation"].lower()
        if operation in _UNSUPPORTED_OPERATIONS:
            return _error(501, f"'{operation}' is not supported by the local durable engine.")
        if operation != "terminate":
            return _error(404, f"Unknown instance operation '{operation}'.")
        try:
            await self.engine.terminate(
                request.match_info["instance_id"], request.query.get("reason", "")
            )
        except (InstanceNotFound, InstanceNotRunning) as exc:
            return _instance_gone(exc)
        return web.Response(status=202)

    async def purge(self, request: web.Request) -> web.Response:
        try:
            deleted = await self.engine.purge(request.match_info["instance_id"])
        except InstanceStillRunning as exc:
            return _error(412, str(exc))
        if deleted == 0:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            created_from = _time(query.get("createdTimeFrom"))
            if created_from is None:
                return _error(400, "Please provide value for 'createdTimeFrom' parameter.")
            deleted = await self.engine.purge_by(
                created_from=created_from,
                created_to=_time(query.get("createdTimeTo")),
                runtime_status=_status_list(query.get("runtimeStatus")),
            )
        except ValueError as exc:
            return _error(400, str(exc))
        if deleted == 0:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})


def _require_key(handler: Handler, keys: HostKeys) -> Handler:
    # The host guards /runtime/webhooks/durabletask/... before the extension sees the request.
    async def guarded(request: web.Request) -> web.StreamResponse:
        refusal = check_webhook(keys, "durabletask", presented_key(request.query, request.headers))
        if refusal is not None:
            return refused(request, refusal)
        return await handler(request)

    return guarded


def _loopback_only(handler: Handler) -> Handler:
    # In Azure these routes are the extension's local RPC listener, unreachable from outside
    # the machine; they carry no key, so only loopback clients may use them here too.
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request.remote):
            return _error(
                403,
                "The durable RPC routes answer only to clients on this machine; use "
                f"{WEBHOOK_PATH} with the durabletask_extension key.",
            )
        return await handler(request)

    return guarded


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"Message": message, "ExceptionMessage": message}, status=status)


def _instance_gone(exc: InstanceNotFound | InstanceNotRunning) -> web.Response:
    """404 for an unknown instance, 410 for a finished one: what raising an event to it or
    terminating it answers."""
    return _error(404 if isinstance(exc, InstanceNotFound) else 410, str(exc))


def _flag(query: Any, name: str, *, default: bool) -> bool:
    value = query.get(name)
    return default if value is None else str(value).lower() == "true"


def _status_list(value: str | None) -> list[str] | None:
    return None if not value else [part.strip() for part in value.split(",") if part.strip()]


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an ISO 8601 time.") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
