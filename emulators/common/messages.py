"""Plain request and response values passed between the HTTP server and an emulator's handlers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# .NET's JSON readers, which ARM and Event Grid run on, refuse deeper documents by default.
# The limit also keeps every later json.dumps of a stored body far from Python's recursion limit.
MAX_JSON_DEPTH = 64


class InvalidJsonBodyError(ValueError):
    """The request body is not well-formed JSON (the message says where)."""


def parse_json(body: bytes) -> Any:
    """`body` as UTF-8 JSON nested at most `MAX_JSON_DEPTH` deep, or `InvalidJsonBodyError`."""
    too_deep = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InvalidJsonBodyError(f"the body is not UTF-8 text ({err.reason})") from err
    except json.JSONDecodeError as err:
        raise InvalidJsonBodyError(f"{err.msg} at line {err.lineno}, column {err.colno}") from err
    except RecursionError:
        raise InvalidJsonBodyError(too_deep) from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidJsonBodyError(too_deep)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative, so that measuring a deep document cannot hit the recursion limit itself.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return False


@dataclass(frozen=True)
class Request:
    """One HTTP request as the emulator saw it.

    `headers` has lower-cased names; `query` keeps the first value of each parameter;
    `params` holds the path parameters filled in by the `Router`; `base_url` is the origin the
    client addressed (from `Host`, e.g. `http://localhost:10100`; the server's own URL when
    absent), for building absolute URLs on the host the client trusts.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of a header, looked up case-insensitively, or None."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body parsed as JSON; raises `InvalidJsonBodyError` with the parser's reason."""
        return parse_json(self.body)

    def with_params(self, params: Mapping[str, str]) -> Request:
        """A copy of this request carrying the given path parameters."""
        return replace(self, params=dict(params))


@dataclass(frozen=True)
class Response:
    """One HTTP answer; `drop=True` closes the connection without answering (fault injection)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False

    def with_headers(self, headers: Mapping[str, str]) -> Response:
        """A copy with extra headers; the new values win over existing ones of the same name."""
        merged = {k: v for k, v in self.headers.items() if k.lower() not in _lower(headers)}
        merged.update(headers)
        return replace(self, headers=merged)

    def json(self) -> Any:
        """The body parsed as JSON (for handlers and journals reading their own answers)."""
        return json.loads(self.body) if self.body else None


type Handler = Callable[[Request], Response]
"""A function from request to response: what a route, an app and the server all speak."""


class HttpError(Exception):
    """Raised by a handler to answer with `response` from anywhere in the call stack."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A response with a JSON body and `Content-Type: application/json; charset=utf-8`."""
    return Response(
        status=status,
        body=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> Response:
    """A response without a body."""
    return Response(status=status, headers=dict(headers or {}))


def dropped_connection() -> Response:
    """No answer at all: the server closes the connection (a scripted network fault)."""
    return Response(status=0, drop=True)


def _lower(headers: Mapping[str, str]) -> set[str]:
    return {name.lower() for name in headers}
