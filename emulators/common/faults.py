"""Scripted faults: the next N matching requests fail, stall or lose their connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel


class FaultRule(BaseModel):
    """One fault as posted to `POST /_emulator/faults` (camelCase keys).

    `status` answers with that HTTP status (and `retryAfter` as `Retry-After` when given);
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


R = TypeVar("R", bound=FaultRule)


class FaultPlan(Generic[R]):
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
