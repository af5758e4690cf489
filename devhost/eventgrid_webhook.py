"""The Event Grid trigger webhook, `/runtime/webhooks/eventgrid?functionName=<name>`, following
the Event Grid extension's request processing: handshakes, then one invocation per event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devhost.bindings import TriggerInput, event_grid_trigger
from devhost.indexing import FunctionIndex
from devhost.keys import HostKeys, check_webhook, presented_key, refused

WEBHOOK_PATH = "/runtime/webhooks/eventgrid"
EVENT_TYPE_HEADER = "aeg-event-type"
ORIGIN_HEADER = "WebHook-Request-Origin"


class WebhookRequestError(ValueError):
    """The request is not a well-formed Event Grid delivery."""


@dataclass(frozen=True)
class Validation:
    """A SubscriptionValidation handshake carrying the code to echo."""

    code: str


@dataclass(frozen=True)
class Notification:
    """Events to deliver, one invocation each."""

    events: list[dict[str, Any]]


@dataclass(frozen=True)
class Unsubscribe:
    """The subscription is being deleted; acknowledged and otherwise ignored."""


def read_webhook_request(
    event_type: str | None, body: bytes
) -> Validation | Notification | Unsubscribe:
    """Classify a POST by its `aeg-event-type` header and parse its body."""
    kind = (event_type or "").lower()
    if kind == "unsubscribe":
        return Unsubscribe()
    if kind not in ("subscriptionvalidation", "notification"):
        raise WebhookRequestError(
            f"header {EVENT_TYPE_HEADER} must be Notification or SubscriptionValidation, "
            f"got {event_type!r}"
        )
    try:
        document = json.loads(body)
    except ValueError:
        raise WebhookRequestError("the body is not JSON") from None
    except RecursionError:
        # The host's reader stops at a depth limit too (Newtonsoft MaxDepth, 64 by default:
        # https://www.newtonsoft.com/json/help/html/P_Newtonsoft_Json_JsonSerializerSettings_MaxDepth.htm).
        raise WebhookRequestError("the body is nested too deeply to read") from None
    events = document if isinstance(document, list) else [document]
    if not events or not all(isinstance(e, dict) for e in events):
        raise WebhookRequestError("the body must be an event object or a non-empty array of them")
    if kind == "notification":
        return Notification(events=events)
    return Validation(code=_validation_code(events[0]))


def _validation_code(event: dict[str, Any]) -> str:
    data = event.get("data")
    if isinstance(data, str):  # CloudEvents validation events carry their data double-encoded
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    code = data.get("validationCode") if isinstance(data, dict) else None
    if not isinstance(code, str):
        raise WebhookRequestError("a SubscriptionValidation event needs data.validationCode")
    return code


class EventGridWebhook:
    """aiohttp handlers for the webhook of every eventGridTrigger function in the index."""

    def __init__(
        self,
        *,
        index: FunctionIndex,
        invoke: Callable[[str, TriggerInput], Awaitable[Any]],
        keys: HostKeys,
    ) -> None:
        self._functions = {f.name for f in index.of_trigger("eventGridTrigger")}
        self._invoke = invoke
        self._keys = keys

    async def handle(self, request: web.Request) -> web.Response:
        """Answer a handshake or deliver the posted events."""
        # Checked before the function name, as the host authorizes the route first.
        refusal = check_webhook(
            self._keys, "eventgrid", presented_key(request.query, request.headers)
        )
        if refusal is not None:
            return refused(request, refusal)
        name = request.query.get("functionName", "")
        if name not in self._functions:
            return web.Response(status=404, text=f"cannot find function: '{name}'")
        if request.method == "OPTIONS":
            return _abuse_protection_handshake(request)
        try:
            parsed = read_webhook_request(
                request.headers.get(EVENT_TYPE_HEADER), await request.read()
            )
            if isinstance(parsed, Validation):
                return web.json_response({"validationResponse": parsed.code})
            if isinstance(parsed, Unsubscribe):
                return web.Response(status=202)
            triggers = [event_grid_trigger(event) for event in parsed.events]
        except WebhookRequestError as err:
            return web.Response(status=400, text=str(err))
        outcomes = await asyncio.gather(
            *(self._invoke(name, trigger) for trigger in triggers), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            # Event Grid retries the whole delivery on a 5xx, as with the real extension.
            return web.Response(status=500, text=f"{type(failures[0]).__name__}: {failures[0]}")
        return web.Response(status=202)


def _abuse_protection_handshake(request: web.Request) -> web.Response:
    # CloudEvents 1.0 webhook validation: echo the origin to allow deliveries from it.
    origin = request.headers.get(ORIGIN_HEADER)
    if not origin:
        return web.Response(status=400, text=f"an OPTIONS handshake needs {ORIGIN_HEADER}")
    return web.Response(
        status=200, headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"}
    )
