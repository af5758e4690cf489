"""Build the `azure.functions` objects the worker passes in, and turn what a function set or
returned into what the host sends on. Pure conversions, through the SDK's own converters where
the worker uses them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.eventgrid import EventGridEventInConverter, EventGridEventOutConverter
from azure.functions.queue import QueueMessageInConverter, QueueMessageOutConverter

# Event Grid's publish API version, the one the SDK clients send by default.
EVENT_GRID_API_VERSION = "2018-01-01"

# The characters Convert.FromBase64String skips.
_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


class BindingValueError(ValueError):
    """A value cannot be converted for a binding; the message names the binding."""


class Out(func.Out):  # type: ignore[misc]  # the SDK's base class is untyped
    """The concrete `func.Out` handed to a function for each output binding."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        """Record the value to send once the function succeeds."""
        self._value = val

    def get(self) -> Any:
        """The value set, or None."""
        return self._value


def http_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    route_params: Mapping[str, str],
    body: bytes,
) -> func.HttpRequest:
    """The `func.HttpRequest` of an HTTP trigger."""
    return func.HttpRequest(
        method=method.upper(),
        url=url,
        headers=dict(headers),
        params=dict(query),
        route_params=dict(route_params),
        body=body,
    )


def queue_message(
    *,
    message_id: str,
    body: bytes,
    dequeue_count: int,
    pop_receipt: str,
    inserted_on: datetime | None,
    expires_on: datetime | None,
    next_visible_on: datetime | None,
) -> func.QueueMessage:
    """The queue trigger's message, built from trigger metadata by the worker's converter."""
    metadata = {
        "Id": meta.Datum(message_id, "string"),
        "DequeueCount": meta.Datum(dequeue_count, "int"),
        "PopReceipt": meta.Datum(pop_receipt, "string"),
    }
    times = {
        "InsertionTime": inserted_on,
        "ExpirationTime": expires_on,
        "NextVisibleTime": next_visible_on,
    }
    for key, moment in times.items():
        if moment is not None:
            metadata[key] = meta.Datum(moment.astimezone(UTC).isoformat(), "string")
    return QueueMessageInConverter.decode(meta.Datum(body, "bytes"), trigger_metadata=metadata)


def event_grid_input(event: Mapping[str, Any]) -> func.EventGridEvent | func.CloudEvent:
    """One delivered event as the trigger sees it; a `specversion` makes it a CloudEvent."""
    try:
        return EventGridEventInConverter.decode(
            meta.Datum(json.dumps(event), "json"), trigger_metadata={}
        )
    except (ValueError, TypeError) as err:
        raise BindingValueError(f"not a valid Event Grid or CloudEvents event: {err}") from err


def activity_input(input_json: str) -> Any:
    """The activity's argument: the orchestrator's JSON input, or the raw text if not JSON."""
    return ActivityTriggerConverter.decode(meta.Datum(input_json, "json"), trigger_metadata={})


def activity_result(value: Any) -> str:
    """The activity's return value as the JSON text the durable extension records."""
    return str(ActivityTriggerConverter.encode(value, expected_type=None).value)


def http_response(value: Any) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for what an HTTP function returned."""
    if value is None:
        return 204, {}, b""
    if isinstance(value, str | bytes):
        value = func.HttpResponse(value)
    if not isinstance(value, func.HttpResponse):
        raise BindingValueError(
            "an HTTP function must return func.HttpResponse, str or bytes, "
            f"not {type(value).__name__}"
        )
    headers = dict(value.headers.items())
    if not any(name.lower() == "content-type" for name in headers):
        # What the worker does: text types carry the charset, others only the MIME type.
        charset = f"; charset={value.charset}" if value.mimetype.startswith("text/") else ""
        headers["Content-Type"] = value.mimetype + charset
    return value.status_code, headers, value.get_body()


def queue_output_messages(binding_name: str, value: Any) -> list[bytes]:
    """The message bodies a `queue` output value stands for, as the worker encodes them."""
    if isinstance(value, Mapping):
        raise BindingValueError(
            f"queue output {binding_name!r} takes str, bytes, func.QueueMessage or a list of "
            "them; serialise a dict with json.dumps first"
        )
    try:
        datum = QueueMessageOutConverter.encode(value, expected_type=None)
    except NotImplementedError:
        raise BindingValueError(
            f"queue output {binding_name!r} takes str, bytes, func.QueueMessage or a list of "
            f"them, not {type(value).__name__}"
        ) from None
    if datum.type == "string":
        return [datum.value.encode()]
    if datum.type == "bytes":
        return [datum.value]
    decoded = json.loads(datum.value)
    items = decoded if isinstance(decoded, list) else [decoded]
    return [(item["body"] if isinstance(item, dict) else item).encode() for item in items]


def encode_queue_text(body: bytes, *, base64_encoding: bool) -> str:
    """The text stored in the queue: base64 of the body, as the queue extension writes it."""
    return base64.b64encode(body).decode("ascii") if base64_encoding else body.decode()


def decode_queue_text(text: str, *, base64_encoding: bool) -> bytes | None:
    """The message body for stored text, or None when it is not valid base64.

    Like .NET's Convert.FromBase64String, which the queue extension uses, spaces, tabs and
    line breaks are ignored (line-wrapped base64 is common); anything else must be base64.
    """
    if not base64_encoding:
        return text.encode()
    try:
        return base64.b64decode(text.translate(_BASE64_WHITESPACE), validate=True)
    except ValueError:
        return None


def event_grid_output_events(binding_name: str, value: Any) -> list[dict[str, Any]]:
    """Event Grid schema events for an `eventGrid` output value.

    Accepts func.EventGridOutputEvent, a dict event, a JSON string of one event or of a list,
    or a list of any of these.
    """
    items = value if isinstance(value, list | tuple) else [value]
    events: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, func.EventGridOutputEvent):
            encoded = EventGridEventOutConverter.encode(item, expected_type=None)
            events.append(json.loads(encoded.value))
        elif isinstance(item, dict):
            events.append(item)
        elif isinstance(item, str | bytes):
            events.extend(_events_from_json(binding_name, item))
        else:
            raise BindingValueError(
                f"eventGrid output {binding_name!r} takes func.EventGridOutputEvent, dict, a JSON "
                f"string or a list of them, not {type(item).__name__}"
            )
    return events


def value_size(value: Any) -> int:
    """Approximate size in bytes of a binding value, for debug logs."""
    if isinstance(value, bytes | str):
        return len(value)
    body = getattr(value, "get_body", None)
    if callable(body):
        return len(body())
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return len(repr(value))


def _events_from_json(binding_name: str, text: str | bytes) -> list[dict[str, Any]]:
    try:
        decoded = json.loads(text)
    except ValueError:
        raise BindingValueError(
            f"eventGrid output {binding_name!r}: a string value must be a JSON event or list"
        ) from None
    events = decoded if isinstance(decoded, list) else [decoded]
    if not all(isinstance(e, dict) for e in events):
        raise BindingValueError(
            f"eventGrid output {binding_name!r}: the JSON must be an event object or a list of them"
        )
    return events
