"""Orchestration clocks: a virtual one for tests and a scaled wall clock for the host."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class VirtualClock:
    """A clock that stands still until the engine jumps it to the next timer."""

    def __init__(self, start: datetime) -> None:
        """Start at `start`, which must be timezone-aware."""
        if start.tzinfo is None:
            raise ValueError("VirtualClock start must be timezone-aware, e.g. tzinfo=UTC")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current orchestration time (UTC)."""
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        """Jump forward to `when`; never moves backwards and never waits."""
        self._now = max(self._now, when.astimezone(UTC))


class WallClock:
    """Real time, optionally sped up: orchestration time = start + elapsed * time_scale."""

    def __init__(self, time_scale: float = 1.0) -> None:
        """Start now; a timer due in T orchestration seconds fires after T / time_scale s."""
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = time_scale
        self._start = datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        """The current orchestration time (UTC)."""
        elapsed = (time.monotonic() - self._started) * self.time_scale
        return self._start + timedelta(seconds=elapsed)

    def resume_from(self, moment: datetime) -> None:
        """Carry on from `moment` when it is ahead of now, so time never runs backwards.

        A sped-up host's orchestration time runs ahead of real time; after a restart the
        recorded history is ahead of a fresh clock.
        """
        if moment > self.now():
            self._start = moment.astimezone(UTC)
            self._started = time.monotonic()

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds until orchestration time reaches `when` (0 if it has)."""
        return max(0.0, (when - self.now()).total_seconds() / self.time_scale)

    async def sleep_until(self, when: datetime) -> None:
        """Wait in real time until orchestration time reaches `when`.

        asyncio may wake a hair early, so callers check what is due afterwards.
        """
        await asyncio.sleep(self.real_seconds_until(when))


Clock = VirtualClock | WallClock
