"""Problems found in a request, and the two shapes they leave the app in.

An HTTP caller gets an RFC 9457 problem+json body; a queue or Event Grid message that cannot be
provisioned becomes a dead-letter record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

PROBLEM_JSON = "application/problem+json"

# A tag URI (RFC 4151): RFC 9457 lets a problem type be an identifier that resolves to nothing.
INVALID_REQUEST_TYPE = "tag:customer-insights-interactions,2026:invalid-request"

# The detail line names this many problems.
_PROBLEMS_IN_DETAIL = 3
# `errors` lists at most this many problems, in the order found, and `errorCount` gives the total:
# a body with 20,000 bad fields once answered 5.5 MB. Fifty is more than a person fixes per try.
MAX_LISTED_PROBLEMS = 50
# Paths and messages can echo what the caller sent (a key, a name); each is cut to this length,
# so an error body stays under MAX_LISTED_PROBLEMS * (2 * MAX_PROBLEM_TEXT + code) characters.
MAX_PROBLEM_TEXT = 300

# A queue message holds at most 64 KiB
# (https://learn.microsoft.com/azure/storage/queues/storage-queues-introduction), counted on the
# text the service stores. The queue extension's default messageEncoding is base64
# (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json),
# which turns every 3 bytes of UTF-8 into 4 characters, so a record's JSON gets 3/4 of the limit.
QUEUE_MESSAGE_LIMIT = 64 * 1024
DEAD_LETTER_BYTES = QUEUE_MESSAGE_LIMIT // 4 * 3


class Problem(BaseModel):
    """One thing wrong with a request, at a JSON path such as `$.definition.fields[1].fieldType`."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    code: str


def problem_details(
    problems: Sequence[Problem],
    *,
    title: str,
    status: int = 400,
    instance: str | None = None,
    problem_type: str = INVALID_REQUEST_TYPE,
) -> dict[str, Any]:
    """An RFC 9457 `application/problem+json` body listing the problems under `errors`."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "detail": summary(problems),
        "errors": [problem.model_dump() for problem in listed(problems)],
        "errorCount": len(problems),
    }
    if instance is not None:
        body["instance"] = instance
    return body


def dead_letter_record(
    raw_message: str, problems: Sequence[Problem], *, source: str
) -> dict[str, Any]:
    """What the dead-letter queue keeps for a rejected message; the caller adds the time."""
    return {
        "schemaVersion": 1,
        "source": source,
        "message": raw_message,
        "reasons": [problem.model_dump() for problem in problems],
    }


def listed(problems: Sequence[Problem]) -> list[Problem]:
    """The problems an error body or a rejection event carries: the first few, texts cut."""
    return [
        Problem(path=cut(problem.path), message=cut(problem.message), code=problem.code)
        for problem in problems[:MAX_LISTED_PROBLEMS]
    ]


def cut(text: str, limit: int = MAX_PROBLEM_TEXT) -> str:
    """`text`, cut to `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def fit_to_queue(record: dict[str, Any]) -> dict[str, Any]:
    """`record` (from dead_letter_record), shrunk if its JSON would not fit one queue message.

    An oversized record keeps the message's size and SHA-256 and as much of its head as fits,
    and the first reasons that fit in half the room, with their total count.
    """
    if _json_bytes(record) <= DEAD_LETTER_BYTES:
        return record
    message: str = record["message"]
    reasons: list[Any] = record["reasons"]
    raw = message.encode("utf-8", errors="replace")
    fitted = {
        **record,
        "message": "",
        "messageBytes": len(raw),
        "messageSha256": hashlib.sha256(raw).hexdigest(),
        "reasonCount": len(reasons),
    }
    kept = _largest(
        len(reasons),
        lambda n: _json_bytes({**fitted, "reasons": reasons[:n]}) <= DEAD_LETTER_BYTES // 2,
    )
    fitted["reasons"] = reasons[:kept]
    head = _largest(
        len(message), lambda n: _json_bytes({**fitted, "message": message[:n]}) <= DEAD_LETTER_BYTES
    )
    fitted["message"] = message[:head]
    return fitted


def _json_bytes(record: dict[str, Any]) -> int:
    # Serialized as message_intake.handle_message writes it to the queue.
    return len(json.dumps(record).encode("utf-8"))


def _largest(limit: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..limit with fits(n); fits holds for 0 and up to some n, not beyond."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def summary(problems: Sequence[Problem]) -> str:
    """One line naming the count and the first few problems."""
    count = len(problems)
    listed = "; ".join(
        f"{cut(problem.path)}: {cut(problem.message)}" for problem in problems[:_PROBLEMS_IN_DETAIL]
    )
    more = count - _PROBLEMS_IN_DETAIL
    tail = f"; and {more} more" if more > 0 else ""
    return f"The request has {count} problem{'' if count == 1 else 's'}: {listed}{tail}"
