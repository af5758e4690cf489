"""Every error the Event Grid emulator answers with, in Event Grid's words and body shape.

Event Grid's documented error body (post-to-custom-topic, "Response") is
`{"error": {"code", "message", "details": [{"code", "message"}]}}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus

from emulators.common.errors import error_response
from emulators.common.messages import Response

_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused: status, Event Grid error code, message and details."""

    status: int
    code: str
    message: str
    details: tuple[str, ...] = field(default=())
    detail_code: str | None = None

    def response(self) -> Response:
        """The JSON error response Event Grid sends."""
        details = [
            {"code": self.detail_code or self.code, "message": detail}
            for detail in self.details or (self.message,)
        ]
        return error_response(self.status, self.code, self.message, details=details)


def bad_request(problems: list[str]) -> Rejection:
    """400 listing every problem found (field and event index)."""
    return Rejection(
        400, "BadRequest", " ".join(problems), tuple(problems), detail_code="InputJsonInvalid"
    )


def unauthorized(reason: str) -> Rejection:
    """401 for a missing or wrong key or token."""
    return Rejection(
        401,
        "Unauthorized",
        f"The request authorization key is not authorized for this topic. {reason}",
    )


def too_large(size: int, limit: int) -> Rejection:
    """413 when the body is over the size limit."""
    return Rejection(
        413,
        "RequestEntityTooLarge",
        f"The maximum size ({limit}) has been exceeded: the request body is {size} bytes.",
    )


def unsupported_media_type(content_type: str | None) -> Rejection:
    """415 for a content type that is neither Event Grid schema nor CloudEvents JSON."""
    return Rejection(
        415,
        "UnsupportedMediaType",
        f"Content-Type '{content_type or ''}' is not supported. Use application/json "
        "(Event Grid schema), application/cloudevents-batch+json or "
        "application/cloudevents+json (CloudEvents 1.0).",
    )


def injected_fault(status: int, code: str | None, message: str | None) -> Rejection:
    """The failure a test asked for through the faults control API (its code and message, or
    the status phrase and a message saying it was injected)."""
    if code is None:
        code = HTTPStatus(status).phrase.replace(" ", "") if status in _KNOWN_STATUSES else "Error"
    return Rejection(
        status, code, message or f"Injected fault: the emulator answers {status} on purpose."
    )


def handshake_failed(endpoint: str, method: str, outcome: str) -> Rejection:
    """400 when a subscriber webhook does not complete the validation handshake."""
    return Rejection(
        400,
        "BadRequest",
        f"Webhook validation handshake failed for {endpoint}. Http {method} request failed: "
        f"{outcome}.",
    )


def invalid_control_request(problem: str) -> Rejection:
    """400 for a malformed request to the emulator's own control API."""
    return Rejection(400, "BadRequest", problem)


def not_found(method: str, path: str) -> Rejection:
    """404 for a control path the emulator does not have."""
    return Rejection(404, "NotFound", f"The emulator has no route for {method} {path}.")


def method_not_allowed(method: str, allowed: str) -> Rejection:
    """405 for a method the path does not accept."""
    return Rejection(405, "MethodNotAllowed", f"{method} is not allowed here; use {allowed}.")
