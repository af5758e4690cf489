"""Webhook subscriptions: the request to create one, and Event Grid's validation handshakes.

A subscription may name `includedEventTypes` (top level, or under `filter` as Event Grid's
ARM resource has it); it then receives only events of those types, compared case-insensitively.

Event Grid schema: a `Microsoft.EventGrid.SubscriptionValidationEvent` is POSTed with
`aeg-event-type: SubscriptionValidation`; the webhook must answer 200 with
`{"validationResponse": <validationCode>}`.
CloudEvents 1.0: an HTTP OPTIONS request carries `WebHook-Request-Origin`; the webhook must
answer 2xx with `WebHook-Allowed-Origin` equal to that origin or `*`.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from emulators.common.clock import iso_utc
from emulators.eventgrid.errors import EventGridError, handshake_failed
from emulators.eventgrid.validation import CLOUD_EVENT_SCHEMA, EVENT_GRID_SCHEMA

# What Event Grid stamps as `topic`; a real topic's ARM id has the same shape.
TOPIC_RESOURCE_ID: Final = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulators"
    "/providers/Microsoft.EventGrid/topics/local-topic"
)
WEBHOOK_ORIGIN: Final = "eventgrid.azure.net"
VALIDATION_EVENT_TYPE: Final = "Microsoft.EventGrid.SubscriptionValidationEvent"
# Event Grid's documented range and default for maxDeliveryAttempts.
MAX_DELIVERY_ATTEMPTS: Final = 30
HANDSHAKE_TIMEOUT_SECONDS: Final = 10.0


class RetryPolicy(BaseModel):
    """How many times a failing delivery is tried (Event Grid allows 1 to 30, default 30)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)

    max_delivery_attempts: int = Field(
        default=MAX_DELIVERY_ATTEMPTS, ge=1, le=MAX_DELIVERY_ATTEMPTS
    )


# None means every type. An empty list is refused: it would match nothing, which is never meant.
EventTypes = list[str] | None


class SubscriptionFilter(BaseModel):
    """`filter` of an Event Grid subscription; only `includedEventTypes` is supported."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)

    included_event_types: EventTypes = Field(default=None, min_length=1)


class SubscriptionRequest(BaseModel):
    """The body of `POST /_emulator/subscriptions` (Event Grid's names, camelCase)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)

    endpoint: str = Field(pattern=r"^https?://")
    schema_: Literal["EventGridSchema", "CloudEventSchemaV1_0"] = Field(
        default=EVENT_GRID_SCHEMA, alias="schema"
    )
    retry_policy: RetryPolicy = Field(default_factory=RetryPolicy)
    included_event_types: EventTypes = Field(default=None, min_length=1)
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)

    @model_validator(mode="after")
    def _one_place_for_event_types(self) -> SubscriptionRequest:
        if self.included_event_types is not None and self.filter.included_event_types is not None:
            raise ValueError(
                "give includedEventTypes either at the top level or under filter, not both"
            )
        return self

    @property
    def event_types(self) -> EventTypes:
        """The event types to deliver, wherever the request gave them; None means all."""
        return self.included_event_types or self.filter.included_event_types


@dataclass(frozen=True)
class Subscription:
    """A validated webhook that receives the accepted events of its schema its filter lets by."""

    id: str
    endpoint: str
    schema: str
    max_delivery_attempts: int
    # As given, for display; None means every event type.
    included_event_types: tuple[str, ...] | None = None

    @classmethod
    def from_request(cls, subscription_id: str, request: SubscriptionRequest) -> Subscription:
        """A subscription named `subscription_id` as the request describes it."""
        types = request.event_types
        return cls(
            subscription_id,
            request.endpoint,
            request.schema_,
            request.retry_policy.max_delivery_attempts,
            None if types is None else tuple(types),
        )

    def wants(self, event: dict[str, Any]) -> bool:
        """Whether the filter lets `event` through (Event Grid compares types ignoring case)."""
        if self.included_event_types is None:
            return True
        kind = event.get("eventType") if self.schema == EVENT_GRID_SCHEMA else event.get("type")
        if not isinstance(kind, str):
            return False
        return kind.casefold() in {name.casefold() for name in self.included_event_types}

    def as_json(self) -> dict[str, Any]:
        """The subscription as the control API shows it."""
        types = None if self.included_event_types is None else list(self.included_event_types)
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "schema": self.schema,
            "retryPolicy": {"maxDeliveryAttempts": self.max_delivery_attempts},
            "filter": {"includedEventTypes": types},
        }


def validation_event(code: str, now: float) -> dict[str, Any]:
    """The Event Grid schema event that asks a webhook to echo `code`."""
    return {
        "id": str(uuid.uuid4()),
        "topic": TOPIC_RESOURCE_ID,
        "subject": "",
        "data": {"validationCode": code},
        "eventType": VALIDATION_EVENT_TYPE,
        "eventTime": iso_utc(now),
        "metadataVersion": "1",
        "dataVersion": "2",
    }


def handshake(subscription: Subscription) -> EventGridError | None:
    """Run the schema's validation handshake against the webhook; None when it passes."""
    if subscription.schema == CLOUD_EVENT_SCHEMA:
        return _abuse_protection_handshake(subscription.endpoint)
    return _validation_event_handshake(subscription.endpoint)


def _validation_event_handshake(endpoint: str) -> EventGridError | None:
    code = secrets.token_hex(16)
    try:
        response = requests.post(
            endpoint,
            json=[validation_event(code, time.time())],
            headers={"aeg-event-type": "SubscriptionValidation"},
            timeout=HANDSHAKE_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        return handshake_failed(endpoint, "POST", f"no response ({type(error).__name__})")
    if response.status_code != 200:
        return handshake_failed(endpoint, "POST", f"response code {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("validationResponse") != code:
        return handshake_failed(
            endpoint, "POST", "the response body did not echo the validationCode"
        )
    return None


def _abuse_protection_handshake(endpoint: str) -> EventGridError | None:
    try:
        response = requests.options(
            endpoint,
            headers={"WebHook-Request-Origin": WEBHOOK_ORIGIN},
            timeout=HANDSHAKE_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        return handshake_failed(endpoint, "OPTIONS", f"no response ({type(error).__name__})")
    if not 200 <= response.status_code < 300:
        return handshake_failed(endpoint, "OPTIONS", f"response code {response.status_code}")
    allowed = response.headers.get("WebHook-Allowed-Origin")
    if allowed not in (WEBHOOK_ORIGIN, "*"):
        return handshake_failed(
            endpoint, "OPTIONS", f"WebHook-Allowed-Origin was {allowed!r}, not {WEBHOOK_ORIGIN!r}"
        )
    return None
