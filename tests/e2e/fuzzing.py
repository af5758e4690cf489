"""What the fuzz and hostile-input tests share: raw requests, counts, and the ARM journal check."""

from __future__ import annotations

import http.client
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.errors import InvalidRequest
from shared.validation import parse_route_request
from tests.e2e.harness import FUNCTION_KEY, Stack

_INTERACTION_PATH = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.CustomerInsights/hubs/(?P<hub>[^/]+)/interactions/(?P<name>[^/]+)",
    re.IGNORECASE,
)


def journal_mark(stack: Stack) -> int:
    """How many requests the ARM emulator has recorded so far."""
    return len(stack.arm_journal())


def invalid_arm_writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journal's PUTs that the app's own validation refuses, or that ARM answered 4xx.

    Each is returned with the reason; an empty list means nothing invalid reached ARM.
    """
    found = []
    for entry in entries:
        if entry["method"] != "PUT":
            continue
        match = _INTERACTION_PATH.fullmatch(unquote(entry["path"]))
        reason = None
        if match is None:
            reason = "PUT outside an interaction type"
        elif entry["status"] is not None and 400 <= entry["status"] < 500:
            reason = f"ARM answered {entry['status']}"
        else:
            try:
                parse_route_request(
                    hub=match["hub"],
                    interaction_name=match["name"],
                    body=entry["body"],
                    subscription_id=match["subscription"],
                    resource_group=match["group"],
                    request_id=None,
                    default_subscription_id=None,
                    default_resource_group=None,
                )
            except InvalidRequest as invalid:
                reason = str(invalid)
        if reason is not None:
            found.append({"path": entry["path"], "status": entry["status"], "reason": reason})
    return found


def raw_request(stack: Stack, method: str, path: str) -> tuple[int, str, str]:
    """Status, Content-Type and text of `method path` sent byte for byte (with the function key).

    http.client, since requests would normalise `..` and `%2e` in the path before sending.
    """
    parts = urlsplit(stack.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("x-functions-key", FUNCTION_KEY)
        connection.endheaders()
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Content-Type") or "", text
    finally:
        connection.close()


class FuzzCounts:
    """Requests sent and 5xx answers received, per intake or operation."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.server_errors: Counter[str] = Counter()

    def count(self, label: str, status: int | None = None) -> None:
        self.sent[label] += 1
        if status is not None and status >= 500:
            self.server_errors[label] += 1


@contextmanager
def fuzz_run(stack: Stack, counts: FuzzCounts, title: str) -> Iterator[None]:
    """Around a module's fuzz tests: print the counts after, and refuse any invalid ARM write."""
    since = journal_mark(stack)
    yield
    print(f"\n{title}: {dict(counts.sent)}; 5xx: {dict(counts.server_errors)}")
    invalid = invalid_arm_writes(stack.arm_journal()[since:])
    assert invalid == [], stack.explain(f"invalid writes reached ARM: {invalid[:5]}")
