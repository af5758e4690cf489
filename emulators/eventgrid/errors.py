"""Every error the Event Grid emulator answers with, in Event Grid's words and body shape.

Event Grid's documented error body (post-to-custom-topic, "Response") is
`{"error": {"code", "message", "details": [{"code", "message"}]}}`.
"""

from __future__ import annotations

from http import HTTPStatus

from emulators.common.errors import error_response
from emulators.common.messages import HttpError

_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)


class EventGridError(HttpError):
    """Why a request is refused: the emulators' one error type (`HttpError`, whose `response`
    is the JSON error Event Grid sends), keeping status, code, message and details to inspect."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: tuple[str, ...] = (),
        detail_code: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        listed = [
            {"code": detail_code or code, "message": detail} for detail in details or (message,)
        ]
        super().__init__(error_response(status, code, message, details=listed))


def bad_request(problems: list[str]) -> EventGridError:
    """400 listing every problem found (field and event index)."""
    return EventGridError(
        400, "BadRequest", " ".join(problems), tuple(problems), detail_code="InputJsonInvalid"
    )


def unauthorized(reason: str) -> EventGridError:
    """401 for a missing or wrong key or token."""
    return EventGridError(
        401,
        "Unauthorized",
        f"The request authorization key is not authorized for this topic. {reason}",
    )


def too_large(size: int, limit: int) -> EventGridError:
    """413 when the body is over the size limit."""
    return EventGridError(
        413,
        "RequestEntityTooLarge",
        f"The maximum size ({limit}) has been exceeded: the request body is {size} bytes.",
    )


def unsupported_media_type(content_type: str | None) -> EventGridError:
    """415 for a content type that is neither Event Grid schema nor CloudEvents JSON."""
    return EventGridError(
        415,
        "UnsupportedMediaType",
        f"Content-Type '{content_type or ''}' is not supported. Use application/json "
        "(Event Grid schema), application/cloudevents-batch+json or "
        "application/cloudevents+json (CloudEvents 1.0).",
    )


def injected_fault(status: int, code: str | None, message: str | None) -> EventGridError:
    """The failure a test asked for through the faults control API (its code and message, or
    the status phrase and a message saying it was injected)."""
    if code is None:
        code = HTTPStatus(status).phrase.replace(" ", "") if status in _KNOWN_STATUSES else "Error"
    return EventGridError(
        status, code, message or f"Injected fault: the emulator answers {status} on purpose."
    )


def handshake_failed(endpoint: str, method: str, outcome: str) -> EventGridError:
    """400 when a subscriber webhook does not complete the validation handshake."""
    return EventGridError(
        400,
        "BadRequest",
        f"Webhook validation handshake failed for {endpoint}. Http {method} request failed: "
        f"{outcome}.",
    )


def invalid_control_request(problem: str) -> EventGridError:
    """400 for a malformed request to the emulator's own control API."""
    return EventGridError(400, "BadRequest", problem)


def not_found(method: str, path: str) -> EventGridError:
    """404 for a control path the emulator does not have."""
    return EventGridError(404, "NotFound", f"The emulator has no route for {method} {path}.")


def method_not_allowed(method: str, allowed: str) -> EventGridError:
    """405 for a method the path does not accept."""
    return EventGridError(405, "MethodNotAllowed", f"{method} is not allowed here; use {allowed}.")
