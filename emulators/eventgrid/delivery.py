"""Push delivery to subscribed webhooks from one background thread, with retry and backoff.

As Event Grid does with batching off (its default), each delivery is a POST of one event with
`aeg-event-type: Notification`: an array of one in the Event Grid schema, a structured-mode
CloudEvent (`application/cloudevents+json`, one object) in CloudEvents 1.0. 400, 401, 403
and 413 are not retried (Event Grid's list for webhooks); other failures are retried up to the
subscription's `maxDeliveryAttempts` on a compressed schedule (50 ms doubling, capped at 1 s)
instead of Event Grid's 10 s, 30 s, 1 min...
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

import requests

from emulators.common.clock import iso_utc
from emulators.eventgrid.subscriptions import TOPIC_RESOURCE_ID, WEBHOOK_ORIGIN, Subscription
from emulators.eventgrid.validation import EVENT_GRID_SCHEMA

NOT_RETRIED: Final = frozenset({400, 401, 403, 413})
FIRST_RETRY_DELAY_SECONDS: Final = 0.05
MAX_RETRY_DELAY_SECONDS: Final = 1.0
# Event Grid waits 30 s; shorter here so that stop() is never held up for long.
DELIVERY_TIMEOUT_SECONDS: Final = 10.0


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    return min(FIRST_RETRY_DELAY_SECONDS * 2.0 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS)


def is_retryable(status: int | None) -> bool:
    """Whether a failed attempt (None: no response) is worth another try."""
    return status not in NOT_RETRIED


def outgoing_event(event: dict[str, Any], schema: str) -> dict[str, Any]:
    """The event as Event Grid delivers it: emulator fields removed, Event Grid's stamped."""
    delivered = {name: value for name, value in event.items() if not name.startswith("_")}
    if schema == EVENT_GRID_SCHEMA:
        delivered.setdefault("topic", TOPIC_RESOURCE_ID)
        delivered.setdefault("dataVersion", "")
        delivered.setdefault("metadataVersion", "1")
    return delivered


def delivery_body(event: dict[str, Any], schema: str) -> Any:
    """What one delivery POSTs: an array of one event, or the CloudEvent itself."""
    return [event] if schema == EVENT_GRID_SCHEMA else event


def delivery_headers(subscription: Subscription, attempt: int) -> dict[str, str]:
    """Headers of one delivery attempt."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "aeg-event-type": "Notification",
        "aeg-subscription-name": subscription.id.upper(),
        "aeg-delivery-count": str(attempt - 1),
    }
    if subscription.schema != EVENT_GRID_SCHEMA:
        headers["Content-Type"] = "application/cloudevents+json; charset=utf-8"
        headers["WebHook-Request-Origin"] = WEBHOOK_ORIGIN
    return headers


@dataclass(order=True)
class _Job:
    due: float
    sequence: int
    subscription: Subscription = field(compare=False)
    event: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False)
    generation: int = field(compare=False)


class Deliverer:
    """Queue of pending deliveries worked by one daemon thread; records every attempt."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._jobs: list[_Job] = []
        self._sequence = itertools.count()
        self._attempts: list[dict[str, Any]] = []
        # Bumped by clear(), so that an attempt in flight during a reset leaves no trace.
        self._generation = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def start(self) -> None:
        """Start the worker thread."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="eventgrid-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker; pending deliveries are abandoned."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)
            self._thread = None
        self._session.close()

    def submit(self, subscription: Subscription, event: dict[str, Any]) -> None:
        """Deliver one event to one subscription as soon as possible."""
        with self._condition:
            job = _Job(
                time.monotonic(),
                next(self._sequence),
                subscription,
                outgoing_event(event, subscription.schema),
                1,
                self._generation,
            )
            self._schedule(job)

    def attempts(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far, oldest first."""
        with self._condition:
            return list(self._attempts)

    def clear(self) -> None:
        """Drop pending deliveries and the attempt log."""
        with self._condition:
            self._generation += 1
            self._jobs.clear()
            self._attempts.clear()

    def _schedule(self, job: _Job) -> None:
        # Caller holds the condition.
        heapq.heappush(self._jobs, job)
        self._condition.notify_all()

    def _next_due_job(self) -> _Job | None:
        with self._condition:
            while not self._stopping:
                if self._jobs:
                    wait = self._jobs[0].due - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._jobs)
                    self._condition.wait(timeout=wait)
                else:
                    self._condition.wait()
            return None

    def _run(self) -> None:
        while (job := self._next_due_job()) is not None:
            self._attempt(job)

    def _attempt(self, job: _Job) -> None:
        status: int | None = None
        error: str | None = None
        try:
            response = self._session.post(
                job.subscription.endpoint,
                json=delivery_body(job.event, job.subscription.schema),
                headers=delivery_headers(job.subscription, job.attempt),
                timeout=DELIVERY_TIMEOUT_SECONDS,
            )
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300
        retry = (
            not delivered
            and is_retryable(status)
            and job.attempt < job.subscription.max_delivery_attempts
        )
        outcome = "delivered" if delivered else "retrying" if retry else "dropped"
        with self._condition:
            if job.generation != self._generation:
                return
            self._attempts.append(
                {
                    "subscriptionId": job.subscription.id,
                    "endpoint": job.subscription.endpoint,
                    "eventId": job.event.get("id"),
                    "attempt": job.attempt,
                    "status": status,
                    "error": error,
                    "outcome": outcome,
                    "time": iso_utc(time.time()),
                }
            )
            if retry:
                job.due = time.monotonic() + retry_delay(job.attempt)
                job.sequence = next(self._sequence)
                job.attempt += 1
                self._schedule(job)
