"""Decisions of the queue trigger: what to do with a message, and how long to wait between polls."""

from __future__ import annotations

import enum
import re
from datetime import timedelta

# The queue extension starts polling at this interval and doubles it while the queue is empty.
MIN_POLLING_INTERVAL = timedelta(milliseconds=100)


class Disposition(enum.Enum):
    """What happens to a received message."""

    INVOKE = "invoke"
    POISON = "poison"


class AfterFailure(enum.Enum):
    """What happens to a message whose function failed."""

    RETRY = "retry"  # visible again after visibilityTimeout
    POISON = "poison"


def on_receive(*, decodable: bool, dequeue_count: int, max_dequeue_count: int) -> Disposition:
    """Invoke the function, or move the message to `<queue>-poison` without invoking it.

    Undecodable messages go straight to poison (extension 5.x). A count already past the limit
    means an earlier attempt died without settling the message, so it has had its tries.
    """
    if not decodable or dequeue_count > max_dequeue_count:
        return Disposition.POISON
    return Disposition.INVOKE


def after_failure(*, dequeue_count: int, max_dequeue_count: int) -> AfterFailure:
    """Retry until the attempt that reaches maxDequeueCount has failed, then poison."""
    return AfterFailure.POISON if dequeue_count >= max_dequeue_count else AfterFailure.RETRY


def next_polling_interval(
    current: timedelta, *, found_messages: bool, maximum: timedelta
) -> timedelta:
    """Back to the minimum after finding work; otherwise double, up to maxPollingInterval."""
    if found_messages:
        return min(MIN_POLLING_INTERVAL, maximum)
    return min(current * 2, maximum)


def poison_queue_name(queue_name: str) -> str:
    """The poison queue of a triggered queue."""
    return f"{queue_name}-poison"


def trigger_queue_name_problem(queue_name: str) -> str | None:
    """Why `queue_name` cannot be a triggered queue, or None if it can.

    Queue names are 3-63 lowercase letters, digits and single hyphens; a triggered queue also
    needs room for its `-poison` suffix, so at most 56 characters.
    """
    if not 3 <= len(queue_name) <= 56:
        return f"queue name {queue_name!r} must be 3 to 56 characters long (63 with '-poison')"
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", queue_name):
        return (
            f"queue name {queue_name!r} may hold only lowercase letters, digits and single "
            "hyphens, and must start and end with a letter or digit"
        )
    return None
