"""Problems found in a request, and the two shapes they leave the app in.

An HTTP caller gets an RFC 9457 problem+json body; a queue or Event Grid message that cannot be
provisioned becomes a dead-letter record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


class Problem(BaseModel):
    """One thing wrong with a request, at a JSON path such as `$.definition.fields[1].fieldType`."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    code: str


# The name is the contract the intakes were written against, hence no "Error" suffix.
class InvalidRequest(Exception):  # noqa: N818
    """A request that cannot be provisioned; `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(_summary(self.problems))


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
        "detail": _summary(problems),
        "errors": [_bounded(problem) for problem in problems[:MAX_LISTED_PROBLEMS]],
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


def _bounded(problem: Problem) -> dict[str, str]:
    return {
        "path": _cut(problem.path),
        "message": _cut(problem.message),
        "code": problem.code,
    }


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM_TEXT else text[: MAX_PROBLEM_TEXT - 1] + "…"


def _summary(problems: Sequence[Problem]) -> str:
    count = len(problems)
    listed = "; ".join(
        f"{_cut(problem.path)}: {_cut(problem.message)}"
        for problem in problems[:_PROBLEMS_IN_DETAIL]
    )
    more = count - _PROBLEMS_IN_DETAIL
    tail = f"; and {more} more" if more > 0 else ""
    return f"The request has {count} problem{'' if count == 1 else 's'}: {listed}{tail}"
