"""The events the topic accepted, kept in arrival order for tests to read back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from emulators.eventgrid.validation import Batch


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with a Z suffix, as Azure writes timestamps."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class EventStore:
    """Accepted events as received, each with `_receivedAt` and `_schema`; thread-safe."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def add(self, batch: Batch) -> list[dict[str, Any]]:
        """Record every event of an accepted batch; returns the stored records."""
        received_at = iso_utc(self._clock())
        records = [
            {**event, "_receivedAt": received_at, "_schema": batch.schema} for event in batch.events
        ]
        with self._lock:
            self._events.extend(records)
        return records

    def list(self, *, event_type: str | None = None, subject: str | None = None) -> list[Any]:
        """Stored events, optionally only those of one type and/or subject.

        `event_type` matches `eventType` (Event Grid schema) or `type` (CloudEvents).
        """
        with self._lock:
            events = list(self._events)
        return [
            event
            for event in events
            if (event_type is None or event_type in (event.get("eventType"), event.get("type")))
            and (subject is None or event.get("subject") == subject)
        ]

    def clear(self) -> None:
        """Forget every stored event."""
        with self._lock:
            self._events.clear()
