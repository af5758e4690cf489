"""How long to wait: the wait a reply asks for, computed backoff, jitter and clamping (pure).

shared/lro.py decides when a wait is due and which bounds apply; this module only does the
arithmetic, on plain values, so it needs no clock and no state.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final

from shared.arm_reply import ArmReply

# Computed waits double per step; the exponent is capped so a huge count cannot overflow.
BACKOFF_FACTOR: Final = 2.0
MAX_BACKOFF_EXPONENT: Final = 30
# A Retry-After with more integer digits than this is absurd: it means "as long as allowed".
MAX_RETRY_AFTER_DIGITS: Final = 9
_NUMBER = re.compile(r"([0-9]+)(?:\.[0-9]+)?")


def requested_wait(reply: ArmReply, now: datetime) -> timedelta | None:
    """The wait a reply asks for, unclamped; None when it names none or only garbage.

    Order: retry-after-ms, x-ms-retry-after-ms, then Retry-After as seconds or an HTTP-date
    (measured from the reply's Date header if readable, else from `now`, rounded up)
    (docs/contracts/arm-lro.md §9).
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        wait = _number_wait(reply.header(name), 0.001)
        if wait is not None:
            return wait
    value = reply.header("retry-after")
    if value is None:
        return None
    wait = _number_wait(value, 1.0)
    if wait is not None:
        return wait
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(reply.header("date") or "") or now
    return timedelta(seconds=max(0, math.ceil((when - reference).total_seconds())))


def backoff(first: timedelta, step: int, *, cap: timedelta, jitter: float) -> timedelta:
    """`first` doubled `step` times, at most `cap`, then shortened by the share `jitter`."""
    exponent = min(max(step, 0), MAX_BACKOFF_EXPONENT)
    seconds = min(first.total_seconds() * BACKOFF_FACTOR**exponent, cap.total_seconds())
    return timedelta(seconds=seconds * (1 - jitter))


def jitter_fraction(seed: str) -> float:
    """A fraction in [0, 1) derived from `seed`: the same on every replay, spread across seeds."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64


def clamp(wait: timedelta, low: timedelta, high: timedelta) -> timedelta:
    """`wait` within [low, high]."""
    return max(low, min(wait, high))


def _number_wait(value: str | None, unit_seconds: float) -> timedelta | None:
    if value is None:
        return None
    match = _NUMBER.fullmatch(value.strip())
    if match is None:
        return None
    if len(match.group(1)) > MAX_RETRY_AFTER_DIGITS:
        return timedelta.max
    return timedelta(seconds=float(match.group(0)) * unit_seconds)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
