"""A thread-safe record of the requests an emulator answered, for tests to assert on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from emulators.common.clock import iso_utc
from emulators.common.messages import InvalidJsonBodyError, Request, Response, parse_json

REDACTED = "<redacted>"


class RequestJournal:
    """Keeps method, path, query, headers (secrets redacted), body, status and time per request.

    Header names in `redacted_headers` are stored as `<redacted>` (keeping a `Bearer ` prefix so
    the scheme stays visible). A dropped connection is recorded with status None.
    """

    def __init__(self, *, redacted_headers: Iterable[str] = ("authorization",)) -> None:
        self._redacted = frozenset(name.lower() for name in redacted_headers)
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, request: Request, response: Response | None) -> None:
        """Append one request and the status it was answered with (None: no answer)."""
        entry = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": {name: self._redact(name, value) for name, value in request.headers.items()},
            "body": _readable_body(request.body),
            "status": None if response is None or response.drop else response.status,
            "time": iso_utc(time.time()),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, *, method: str | None = None, path_contains: str | None = None
    ) -> list[dict[str, Any]]:
        """The recorded requests in arrival order, optionally filtered (both case-insensitive)."""
        with self._lock:
            entries = list(self._entries)
        if method:
            entries = [e for e in entries if e["method"] == method.upper()]
        if path_contains:
            needle = path_contains.lower()
            entries = [e for e in entries if needle in e["path"].lower()]
        return entries

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._entries.clear()

    def _redact(self, name: str, value: str) -> str:
        if name.lower() not in self._redacted:
            return value
        scheme, _, credential = value.partition(" ")
        return f"{scheme} {REDACTED}" if credential else REDACTED


def _readable_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return parse_json(body)
    except InvalidJsonBodyError:
        return body.decode("utf-8", errors="replace")
