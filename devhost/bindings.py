"""What the host puts in an InvocationRequest for each trigger, and how it reads what comes back.

Pure conversions between what the host's triggers receive (an HTTP request, a queue message,
an event) and the worker's TypedData, following the Functions host's
`GrpcMessageConversionExtensions` (azure-functions-host src/WebJobs.Script.Grpc/
MessageExtensions) and the bindings' trigger metadata. The worker, not the host, turns these
into `azure.functions` objects.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devhost.rpc import function_rpc_pb2 as pb

# Event Grid's publish API version, the one the SDK clients send by default.
EVENT_GRID_API_VERSION = "2018-01-01"

# The characters Convert.FromBase64String skips.
_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


class BindingValueError(ValueError):
    """A value cannot be converted for a binding; the message names the binding."""


@dataclass(frozen=True)
class TriggerInput:
    """The trigger's value and trigger metadata, as the host sends them to the worker."""

    data: pb.TypedData
    metadata: Mapping[str, pb.TypedData] = field(default_factory=dict)


def http_trigger(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    route_params: Mapping[str, str],
    body: bytes,
    content_length: int | None,
) -> TriggerInput:
    """An HTTP request as `RpcHttp`, converted the way the Functions host converts it.

    Header names are lowercased and repeated headers joined with ","; query parameters with an
    empty value are left out and repeated ones joined with ","; the body is sent only when the
    request has a Content-Length above 0, and as bytes, because the Python worker declares
    RpcHttpBodyOnly and RawHttpBodyBytes (GrpcMessageConversionExtensions.ToRpcHttp).
    """
    query_pairs = list(query)
    header_pairs = [(name.lower(), value) for name, value in headers]
    http = pb.RpcHttp(
        method=method.upper(),
        url=url,
        headers=_joined(header_pairs),
        query=_joined((name, value) for name, value in query_pairs if value != ""),
        params=dict(route_params),
    )
    if content_length is not None and content_length > 0:
        http.body.bytes = body
    # The HTTP extension's binding data (HttpTriggerAttributeBindingProvider
    # .GetRequestBindingData): each query parameter (last value wins, `code` left out), the
    # route values, and Query / Headers as JSON objects. The request itself is left out, as
    # the worker declares RpcHttpTriggerMetadataRemoved.
    last_values = {name: value for name, value in query_pairs if name != "code"}
    metadata = {name: pb.TypedData(string=value) for name, value in last_values.items()}
    metadata.update({name: pb.TypedData(string=value) for name, value in route_params.items()})
    metadata["Query"] = pb.TypedData(json=json.dumps(dict(query_pairs)))
    metadata["Headers"] = pb.TypedData(json=json.dumps(_joined(headers)))
    return TriggerInput(data=pb.TypedData(http=http), metadata=metadata)


def queue_trigger(
    *,
    message_id: str,
    body: bytes,
    dequeue_count: int,
    pop_receipt: str,
    inserted_on: datetime | None,
    expires_on: datetime | None,
    next_visible_on: datetime | None,
) -> TriggerInput:
    """A queue message: its text, with the queue extension's trigger metadata."""
    try:
        data = pb.TypedData(string=body.decode("utf-8"))
    except UnicodeDecodeError:
        data = pb.TypedData(bytes=body)
    metadata = {
        "Id": pb.TypedData(string=message_id),
        "DequeueCount": pb.TypedData(json=json.dumps(dequeue_count)),
        "PopReceipt": pb.TypedData(string=pop_receipt),
        "QueueTrigger": data,
    }
    times = {
        "InsertionTime": inserted_on,
        "ExpirationTime": expires_on,
        "NextVisibleTime": next_visible_on,
    }
    for key, moment in times.items():
        if moment is not None:
            metadata[key] = pb.TypedData(json=json.dumps(moment.astimezone(UTC).isoformat()))
    return TriggerInput(data=data, metadata=metadata)


def event_grid_trigger(event: Mapping[str, Any]) -> TriggerInput:
    """One delivered event as JSON, with its `data` as trigger metadata
    (EventGridTriggerAttributeBindingProvider). The worker's converter reads only
    TypedData.json for this trigger (azure/functions/eventgrid.py, EventGridEventInConverter),
    and tells the Event Grid and CloudEvents schemas apart itself."""
    metadata = {"data": pb.TypedData(json=json.dumps(event.get("data")))}
    return TriggerInput(data=pb.TypedData(json=json.dumps(event, indent=2)), metadata=metadata)


def activity_trigger(input_json: str) -> TriggerInput:
    """An activity's input as the Durable extension passes it to an out-of-process worker:
    text, where a string input is its plain value and anything else compact JSON
    (DurableActivityContext.GetInput(typeof(string)))."""
    value = json.loads(input_json)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return TriggerInput(data=pb.TypedData(string=text))


def orchestration_trigger(context_json: str) -> TriggerInput:
    """One orchestrator episode: the context JSON the Durable extension sends, as text."""
    return TriggerInput(data=pb.TypedData(string=context_json))


def durable_client_input(starter_json: str) -> pb.TypedData:
    """A `durableClient` input: the starter JSON the client SDK reads."""
    return pb.TypedData(string=starter_json)


def json_text(data: pb.TypedData | None) -> str:
    """A returned value as JSON text (activity results, orchestrator state)."""
    if data is None:
        return "null"
    kind = data.WhichOneof("data")
    if kind == "json":
        return data.json
    if kind == "string":
        return data.string
    if kind is None:
        return "null"
    raise BindingValueError(f"expected a JSON or text value, got TypedData.{kind}")


def http_response(data: pb.TypedData | None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of what an HTTP function returned."""
    if data is None or data.WhichOneof("data") is None:
        return 204, {}, b""
    kind = data.WhichOneof("data")
    if kind == "string":
        # A function that returns str: written as it is with 200, and ASP.NET's string
        # formatter's content type (HttpBinding.CreateResult, RawScriptResult).
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, data.string.encode()
    if kind != "http":
        raise BindingValueError(
            f"an HTTP function must return func.HttpResponse or str, not TypedData.{kind}"
        )
    http = data.http
    try:
        status = int(http.status_code or "200")
    except ValueError:
        raise BindingValueError(f"invalid HTTP status code {http.status_code!r}") from None
    return status, dict(http.headers), _body_bytes(http.body)


def queue_output_messages(binding_name: str, data: pb.TypedData) -> list[bytes]:
    """The message bodies a `queue` output value stands for."""
    kind = data.WhichOneof("data")
    if kind == "string":
        return [data.string.encode()]
    if kind == "bytes":
        return [data.bytes]
    if kind == "json":
        decoded = json.loads(data.json)
        items = decoded if isinstance(decoded, list) else [decoded]
        # func.QueueMessage travels as {"id": ..., "body": ...}.
        return [_queue_item_body(binding_name, item) for item in items]
    raise BindingValueError(f"queue output {binding_name!r}: unexpected TypedData.{kind}")


def event_grid_output_events(binding_name: str, data: pb.TypedData) -> list[dict[str, Any]]:
    """Event Grid schema events for an `eventGrid` output value (one event or a list)."""
    kind = data.WhichOneof("data")
    if kind not in ("json", "string"):
        raise BindingValueError(
            f"eventGrid output {binding_name!r}: unexpected TypedData.{kind}; "
            "set func.EventGridOutputEvent, a dict, a JSON string or a list of them"
        )
    try:
        decoded = json.loads(data.json if kind == "json" else data.string)
        if isinstance(decoded, str):  # a JSON string set as the value, encoded once more
            decoded = json.loads(decoded)
    except ValueError:
        raise BindingValueError(
            f"eventGrid output {binding_name!r}: a string value must be a JSON event or list"
        ) from None
    events = decoded if isinstance(decoded, list) else [decoded]
    if not all(isinstance(event, dict) for event in events):
        raise BindingValueError(
            f"eventGrid output {binding_name!r}: the JSON must be an event object or a list of them"
        )
    return events


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


def typed_data_size(data: pb.TypedData | None) -> int:
    """Size in bytes of a value on the wire, for debug logs."""
    return 0 if data is None else data.ByteSize()


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    # Repeated names are joined with "," as the host joins StringValues.
    joined: dict[str, list[str]] = {}
    for name, value in pairs:
        joined.setdefault(name, []).append(value)
    return {name: ",".join(values) for name, values in joined.items()}


def _body_bytes(body: pb.TypedData) -> bytes:
    kind = body.WhichOneof("data")
    if kind == "bytes":
        return body.bytes
    if kind == "string":
        return body.string.encode()
    if kind == "json":
        return body.json.encode()
    return b""


def _queue_item_body(binding_name: str, item: Any) -> bytes:
    if isinstance(item, dict) and isinstance(item.get("body"), str):
        return str(item["body"]).encode()
    if isinstance(item, str):
        return item.encode()
    raise BindingValueError(
        f"queue output {binding_name!r} takes str, bytes, func.QueueMessage or a list of "
        "them; serialise a dict with json.dumps first"
    )
