"""Pure checks on a publish request: content type, size, JSON shape and each event's fields.

The rules follow the Event Grid documentation for custom topics ("Event Grid event schema",
"CloudEvents v1.0 schema", "post-to-custom-topic"): Event Grid schema events need `id`,
`subject`, `eventType` and `eventTime`; `data` and `dataVersion` are optional; `metadataVersion`,
when given, must be "1". CloudEvents need `id`, `source`, `type` and `specversion` "1.0".
The array and each event are limited to 1 MB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from emulators.common.messages import InvalidJsonBodyError, parse_json
from emulators.eventgrid.errors import (
    EventGridError,
    bad_request,
    too_large,
    unsupported_media_type,
)

EVENT_GRID_SCHEMA: Final = "EventGridSchema"
CLOUD_EVENT_SCHEMA: Final = "CloudEventSchemaV1_0"

MAX_PAYLOAD_BYTES: Final = 1024 * 1024

_EVENT_GRID_REQUIRED: Final = ("id", "subject", "eventType", "eventTime")
_CLOUD_EVENT_REQUIRED: Final = ("id", "source", "type", "specversion")
_CLOUD_EVENT_OPTIONAL_STRINGS: Final = ("subject", "datacontenttype", "dataschema", "time")
_DATE_TIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?"
)


@dataclass(frozen=True)
class Batch:
    """Events accepted from one publish request, all in one schema."""

    schema: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class _Format:
    schema: str
    batch: bool


_FORMATS: Final = {
    "application/json": _Format(EVENT_GRID_SCHEMA, batch=True),
    "application/cloudevents-batch+json": _Format(CLOUD_EVENT_SCHEMA, batch=True),
    "application/cloudevents+json": _Format(CLOUD_EVENT_SCHEMA, batch=False),
}


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_publish(content_type: str | None, body: bytes) -> Batch | EventGridError:
    """Decide the schema from the content type, then parse and validate every event."""
    fmt = _FORMATS.get(media_type(content_type))
    if fmt is None:
        return unsupported_media_type(content_type)
    if len(body) > MAX_PAYLOAD_BYTES:
        # One event over 1 MB makes the array over 1 MB too, so one check covers both limits.
        return too_large(len(body), MAX_PAYLOAD_BYTES)
    try:
        payload = parse_json(body)
    except InvalidJsonBodyError as error:
        return bad_request([f"The request body is not valid JSON: {error}."])
    events = _as_event_list(payload, fmt)
    if isinstance(events, EventGridError):
        return events
    check = check_event_grid_event if fmt.schema == EVENT_GRID_SCHEMA else check_cloud_event
    problems = [
        f"Event {index}: {problem}"
        for index, event in enumerate(events)
        for problem in check(event)
    ]
    if problems:
        return bad_request(problems)
    return Batch(fmt.schema, events)


def _as_event_list(payload: Any, fmt: _Format) -> list[dict[str, Any]] | EventGridError:
    if not fmt.batch:
        if not isinstance(payload, dict):
            return bad_request(["Expected a single CloudEvent JSON object."])
        return [payload]
    if not isinstance(payload, list):
        actual = "object" if isinstance(payload, dict) else type(payload).__name__
        return bad_request([f"Expected a JSON array of events, got a JSON {actual}."])
    if not payload:
        return bad_request(["The array of events is empty."])
    return payload


def check_event_grid_event(event: Any) -> list[str]:
    """Problems with one Event Grid schema event (empty when valid)."""
    if not isinstance(event, dict):
        return ["an event must be a JSON object."]
    problems = _missing_or_not_string(event, _EVENT_GRID_REQUIRED)
    event_time = event.get("eventTime")
    if isinstance(event_time, str) and not is_date_time(event_time, offset_required=False):
        problems.append(f"property 'eventTime' is not a valid date-time: '{event_time}'.")
    for name in ("topic", "dataVersion"):
        if name in event and not isinstance(event[name], str):
            problems.append(f"property '{name}' must be a string.")
    if "metadataVersion" in event and event["metadataVersion"] != "1":
        problems.append("property 'metadataVersion' must be '1' when given.")
    return problems


def check_cloud_event(event: Any) -> list[str]:
    """Problems with one CloudEvents 1.0 event (empty when valid)."""
    if not isinstance(event, dict):
        return ["an event must be a JSON object."]
    problems = _missing_or_not_string(event, _CLOUD_EVENT_REQUIRED)
    version = event.get("specversion")
    if isinstance(version, str) and version != "1.0":
        problems.append(f"property 'specversion' must be '1.0', got '{version}'.")
    for name in _CLOUD_EVENT_OPTIONAL_STRINGS:
        if name in event and not isinstance(event[name], str):
            problems.append(f"property '{name}' must be a string.")
    time = event.get("time")
    if isinstance(time, str) and not is_date_time(time, offset_required=True):
        problems.append(f"property 'time' is not an RFC 3339 timestamp: '{time}'.")
    if "data" in event and "data_base64" in event:
        problems.append("properties 'data' and 'data_base64' cannot both be set.")
    return problems


def _missing_or_not_string(event: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    problems = []
    for name in names:
        value = event.get(name)
        if value is None:
            problems.append(f"required property '{name}' was not set.")
        elif not isinstance(value, str):
            problems.append(f"property '{name}' must be a string.")
        elif not value and name != "subject":
            problems.append(f"required property '{name}' is empty.")
    return problems


def is_date_time(value: str, *, offset_required: bool) -> bool:
    """Whether value is an ISO 8601 / RFC 3339 date-time with real calendar values."""
    match = _DATE_TIME.fullmatch(value)
    if match is None or (offset_required and match["offset"] is None):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True
