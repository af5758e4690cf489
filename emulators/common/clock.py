"""The clock type the emulators inject so time-dependent rules can be tested without waiting,
and the one timestamp format they all write."""

from collections.abc import Callable
from datetime import UTC, datetime

type Clock = Callable[[], float]
"""Returns the current time in seconds since the epoch, like `time.time`."""


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, as Azure services write times."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
