"""The events the topic accepted, kept in arrival order for tests to read back."""

from __future__ import annotations

import threading
import time
from typing import Any

from emulators.common.clock import Clock, iso_utc
from emulators.eventgrid.validation import Batch


class EventStore:
    """Accepted events as received, each with `_receivedAt` and `_schema`; thread-safe."""

    def __init__(self, clock: Clock = time.time) -> None:
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
