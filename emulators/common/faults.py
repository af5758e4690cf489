"""Scripted faults: the next N matching requests fail, stall or lose their connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from emulators.common.messages import Response, dropped_connection


class FaultRule(BaseModel):
    """One fault as posted to `POST /_emulator/faults` (camelCase keys).

    `status` answers with that HTTP status (and `retryAfter` as `Retry-After` when given), in
    the emulator's error body with `code` and `message` when given (else its defaults);
    `delaySeconds` stalls first; `drop` closes the connection without an answer. `methods`
    limits the rule to those HTTP methods (all when absent). Emulators extend it with their own
    matching fields.
    """

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    status: int | None = Field(default=None, ge=400, le=599)
    count: int = Field(default=1, ge=1)
    retry_after: str | None = None
    code: str | None = Field(default=None, min_length=1)
    message: str | None = Field(default=None, min_length=1)
    delay_seconds: float = Field(default=0, ge=0, le=300)
    drop: bool = False
    methods: frozenset[str] | None = None

    @field_validator("methods")
    @classmethod
    def _upper_methods(cls, methods: frozenset[str] | None) -> frozenset[str] | None:
        return None if methods is None else frozenset(m.upper() for m in methods)

    @model_validator(mode="after")
    def _does_something(self) -> FaultRule:
        if self.status is None and not self.drop and self.delay_seconds == 0:
            raise ValueError("a fault needs at least one of status, delaySeconds or drop")
        return self

    def applies_to_method(self, method: str) -> bool:
        """Whether the rule covers this HTTP method."""
        return self.methods is None or method.upper() in self.methods


def apply_fault(
    rule: FaultRule, error: Callable[[int, str | None, str | None], Response]
) -> Response | None:
    """Stall as the rule says, then answer as it says: a dropped connection, or
    `error(status, code, message)` (the emulator's own error body) with the scripted
    `Retry-After`; None when the rule only delays and the request should go on."""
    if rule.delay_seconds:
        # Stalling the handler thread is the fault: it is how a slow service looks to a client.
        time.sleep(rule.delay_seconds)
    if rule.drop:
        return dropped_connection()
    if rule.status is None:
        return None
    response = error(rule.status, rule.code, rule.message)
    if rule.retry_after is None:
        return response
    return response.with_headers({"Retry-After": rule.retry_after})


R = TypeVar("R", bound=FaultRule)


class FaultPlan[R: FaultRule]:
    """Pending fault rules, consumed in the order they were added (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[R, int]] = []

    def add(self, rule: R) -> None:
        """Queue `rule` for its next `count` matching requests."""
        with self._lock:
            self._pending.append((rule, rule.count))

    def take(self, matches: Callable[[R], bool]) -> R | None:
        """The first pending rule `matches` accepts, using up one of its requests; or None."""
        with self._lock:
            for index, (rule, remaining) in enumerate(self._pending):
                if not matches(rule):
                    continue
                if remaining == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = (rule, remaining - 1)
                return rule
        return None

    def clear(self) -> None:
        """Drop every pending rule."""
        with self._lock:
            self._pending.clear()
