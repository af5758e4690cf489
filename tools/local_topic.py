"""The local Event Grid emulator seen from the submit tool: what it received and delivered.

A real topic has no such API, so each call here is only made once `find_local_topic` has
recognised the emulator behind the configured topic endpoint.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from shared.events import REJECTED, event_type

REJECTED_EVENT_TYPE = event_type(REJECTED)
_TIMEOUT_SECONDS = 5.0


class LocalTopic:
    """Control API of the Event Grid emulator at `base` (e.g. `http://127.0.0.1:10102`)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def answers(self) -> bool:
        """Whether the emulator's control API answers here (a real topic has none)."""
        try:
            return "events" in self._get("/_emulator/events", {"eventType": ""})
        except (requests.RequestException, ValueError):
            return False

    def completion_event(self, operation_id: str, correlation_id: str) -> dict[str, Any] | None:
        """The completion event of one run of an operation, if the topic has received it."""
        for event in self._events():
            data = event.get("data")
            if (
                isinstance(data, dict)
                and data.get("operationId") == operation_id
                and data.get("correlationId") == correlation_id
            ):
                return _as_published(event)
        return None

    def rejection_event(self, request_id: str) -> dict[str, Any] | None:
        """The event announcing that the app refused the request with this id, if any."""
        for event in self._events(eventType=REJECTED_EVENT_TYPE):
            data = event.get("data")
            if isinstance(data, dict) and data.get("requestId") == request_id:
                return _as_published(event)
        return None

    def delivery_outcome(self, event_id: str) -> str | None:
        """ "delivered" or "dropped" once a subscriber has settled the event, else None."""
        deliveries = self._get("/_emulator/deliveries").get("deliveries", [])
        outcomes = {d.get("outcome") for d in deliveries if d.get("eventId") == event_id}
        for final in ("delivered", "dropped"):
            if final in outcomes:
                return final
        return None

    def subscribers_of(self, kind: str) -> list[str]:
        """Endpoints of the subscriptions that receive events of type `kind`."""
        endpoints = []
        for subscription in self._get("/_emulator/subscriptions").get("subscriptions", []):
            included = (subscription.get("filter") or {}).get("includedEventTypes")
            if included is None or kind.casefold() in {name.casefold() for name in included}:
                endpoints.append(str(subscription.get("endpoint")))
        return endpoints

    def _events(self, **query: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self._get("/_emulator/events", query).get("events", [])
        return events

    def _get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        response = requests.get(self.base + path, params=query, timeout=_TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{path} did not answer a JSON object")
        return body


def find_local_topic(topic_endpoint: str | None) -> LocalTopic | None:
    """The emulator behind `topic_endpoint`, or None for a real topic or none at all."""
    if not topic_endpoint:
        return None
    parts = urlsplit(topic_endpoint)
    topic = LocalTopic(f"{parts.scheme}://{parts.netloc}")
    return topic if topic.answers() else None


def _as_published(event: dict[str, Any]) -> dict[str, Any]:
    """The event without the emulator's own `_receivedAt` and `_schema`."""
    return {name: value for name, value in event.items() if not name.startswith("_")}
