"""ARM's per-subscription request budgets as token buckets (pure, with an injected clock)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from emulators.common import Clock

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Charge:
    """The outcome of charging one request: allowed or not, what is left, and when to retry."""

    allowed: bool
    remaining: int
    retry_after: int


class TokenBucket:
    """Holds up to `capacity` tokens and refills them evenly over an hour."""

    def __init__(self, *, capacity: int, clock: Clock) -> None:
        if capacity < 1:
            raise ValueError("a bucket needs a capacity of at least 1 request per hour")
        self._capacity = float(capacity)
        self._rate = capacity / _SECONDS_PER_HOUR
        self._clock = clock
        self._tokens = self._capacity
        self._updated = clock()

    def take(self) -> Charge:
        """Spend one token if there is one; otherwise say how many seconds until there is."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return Charge(allowed=True, remaining=math.floor(self._tokens), retry_after=0)
        wait = math.ceil((1 - self._tokens) / self._rate)
        return Charge(allowed=False, remaining=0, retry_after=max(1, wait))


class SubscriptionThrottle:
    """A write bucket and a read bucket per subscription (case-insensitive), thread-safe."""

    def __init__(self, *, writes_per_hour: int, reads_per_hour: int, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, bool], TokenBucket] = {}
        self.configure(writes_per_hour=writes_per_hour, reads_per_hour=reads_per_hour)

    def configure(self, *, writes_per_hour: int, reads_per_hour: int) -> None:
        """Set new budgets; every bucket starts full again."""
        # Built before the swap so a bad budget leaves the old configuration in place.
        TokenBucket(capacity=writes_per_hour, clock=self._clock)
        TokenBucket(capacity=reads_per_hour, clock=self._clock)
        with self._lock:
            self._writes_per_hour = writes_per_hour
            self._reads_per_hour = reads_per_hour
            self._buckets.clear()

    def charge(self, subscription: str, *, write: bool) -> Charge:
        """Charge one read or write to the subscription's bucket."""
        key = (subscription.lower(), write)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                capacity = self._writes_per_hour if write else self._reads_per_hour
                bucket = self._buckets[key] = TokenBucket(capacity=capacity, clock=self._clock)
            return bucket.take()
