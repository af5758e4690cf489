"""The Azure error envelope `{"error": {"code", "message", "target"?, "details"?}}`.

ARM and Event Grid both answer errors in this shape; each emulator keeps its own factory of
codes and messages, builds the body here and returns it as an `HttpError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulators.common.messages import Response, json_response


def error_body(
    code: str,
    message: str,
    *,
    target: str | None = None,
    details: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The error envelope; `target` and `details` appear only when given."""
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    if details:
        error["details"] = [dict(detail) for detail in details]
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response carrying the error envelope."""
    return json_response(status, error_body(code, message, target=target, details=details), headers)
