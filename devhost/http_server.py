"""The host's HTTP front: HTTP triggers under the route prefix, host keys, the Event Grid
webhook, the durable extension's routes and `GET /admin/host/status`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from devhost.bindings import BindingValueError, TriggerInput, http_response, http_trigger
from devhost.eventgrid_webhook import WEBHOOK_PATH, EventGridWebhook
from devhost.indexing import FunctionIndex
from devhost.keys import HostKeys, check_admin, check_function, presented_key, refused
from devhost.routes import Route, RouteTable, compile_template, split_prefix

_LOG = logging.getLogger("devhost.http")

Invoke = Callable[[str, TriggerInput], Awaitable[Any]]
"""Runs a function with a trigger input and returns its `$return` TypedData."""

# The Functions host accepts request bodies up to 100 MB.
MAX_BODY_BYTES = 100 * 1024 * 1024


def route_table(index: FunctionIndex) -> RouteTable:
    """The routes of every httpTrigger function; `route` defaults to the function name."""
    routes = []
    for function in index.of_trigger("httpTrigger"):
        methods = function.trigger.get("methods")
        routes.append(
            Route(
                template=compile_template(function.trigger.get("route") or function.name),
                function_name=function.name,
                methods=frozenset(m.upper() for m in methods) if methods else None,
            )
        )
    return RouteTable(routes)


def create_web_app(
    *,
    index: FunctionIndex,
    route_prefix: str,
    keys: HostKeys,
    invoke: Invoke,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    background_errors: Callable[[], list[str]] = list,
) -> web.Application:
    """The aiohttp application serving the app's HTTP surface.

    `background_errors` says why background work (the durable scheduler, queue listeners)
    stopped; any reason turns the host status from Running to Error.
    """
    front = _FunctionRoutes(index=index, route_prefix=route_prefix, keys=keys, invoke=invoke)
    webhook = EventGridWebhook(index=index, invoke=invoke, keys=keys)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    started = time.monotonic()

    async def host_status(request: web.Request) -> web.Response:
        refusal = check_admin(keys, presented_key(request.query, request.headers))
        if refusal is not None:
            return refused(request, refusal)
        uptime_ms = round((time.monotonic() - started) * 1000)
        errors = background_errors()
        status: dict[str, Any] = {
            "id": "devhost",
            "state": "Error" if errors else "Running",
            "version": "devhost",
            "processUptime": uptime_ms,
        }
        if errors:
            status["errors"] = errors  # as the Functions host reports its last error
        return web.json_response(status)

    app.router.add_routes(list(extra_routes))
    app.router.add_get("/admin/host/status", host_status)
    app.router.add_route("POST", WEBHOOK_PATH, webhook.handle)
    app.router.add_route("OPTIONS", WEBHOOK_PATH, webhook.handle)
    # aiohttp matches the decoded path, so `.` would miss a %0A in it and answer its own 404.
    app.router.add_route("*", r"/{tail:[\s\S]*}", front.handle)
    return app


class _FunctionRoutes:
    """Dispatches requests under the route prefix to httpTrigger functions."""

    def __init__(
        self,
        *,
        index: FunctionIndex,
        route_prefix: str,
        keys: HostKeys,
        invoke: Invoke,
    ) -> None:
        self._index = index
        self._table = route_table(index)
        self._prefix = route_prefix
        self._keys = keys
        self._invoke = invoke

    async def handle(self, request: web.Request) -> web.StreamResponse:
        relative = split_prefix(request.raw_path.split("?", 1)[0], self._prefix)
        found = self._table.match(request.method, relative) if relative is not None else None
        if found is None:
            return web.Response(
                status=404, text=f"no function serves {request.method} {request.path}"
            )
        route, params = found
        function = self._index[route.function_name]
        auth_level = str(function.trigger.get("authLevel", "FUNCTION"))
        refusal = check_function(
            self._keys, auth_level, presented_key(request.query, request.headers)
        )
        if refusal is not None:
            return refused(request, refusal)
        trigger = http_trigger(
            method=request.method,
            url=str(request.url),
            headers=request.headers.items(),
            query=request.query.items(),
            route_params=params,
            body=await request.read(),
            content_length=request.content_length,
        )
        try:
            result = await self._invoke(function.name, trigger)
            status, headers, body = http_response(result)
        except Exception as err:
            if isinstance(err, BindingValueError):
                _LOG.error("%s: %s", function.name, err)
            # As the Functions host does: 500 with an empty body, the details stay in the log
            # (ExceptionMiddleware.Invoke).
            return web.Response(status=500)
        return web.Response(status=status, headers=headers, body=body)
