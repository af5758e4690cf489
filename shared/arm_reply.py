"""What an ARM call answered, as a JSON-safe snapshot, and ARM's error envelope read from it.

An activity performs the HTTP call and returns an `ArmReply`; the orchestrator hands it to
`shared.lro.advance`. Only allowlisted headers survive, so tokens and cookies never reach
durable history or logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from pydantic import BaseModel, ConfigDict, JsonValue

from shared.endpoints import redact_url
from shared.errors import AppCode, AppError, ErrorObject

# Headers the polling decisions or the status view need; everything else is dropped.
KEPT_HEADERS: Final = frozenset(
    {
        "location",
        "azure-asyncoperation",
        "retry-after",
        "retry-after-ms",
        "x-ms-retry-after-ms",
        "x-ms-request-id",
        "x-ms-ratelimit-remaining-subscription-writes",
        "x-ms-ratelimit-remaining-subscription-reads",
        "date",
        "content-type",
    }
)
EXCERPT_CHARS: Final = 500
# ARM nests `details` one or two levels deep; deeper nesting is noise that would bloat state.
MAX_ERROR_DEPTH: Final = 3


class ArmReply(BaseModel):
    """One HTTP exchange with ARM as the decisions see it: status, kept headers, parsed body."""

    model_config = ConfigDict(frozen=True)

    method: str
    url: str
    status: int | None = None
    transport_error: str | None = None
    headers: dict[str, str] = {}
    body: JsonValue = None
    body_excerpt: str | None = None

    @classmethod
    def from_parts(
        cls,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body_bytes: bytes,
    ) -> ArmReply:
        """Snapshot a received response; a body that is not JSON is kept as a short excerpt."""
        body, excerpt = _parse_body(body_bytes)
        return cls(
            method=method.upper(),
            url=redact_url(url),
            status=status,
            headers=keep_headers(headers),
            body=body,
            body_excerpt=excerpt,
        )

    @classmethod
    def transport_failure(cls, method: str, url: str, kind: str) -> ArmReply:
        """Record a call that got no HTTP response (kind: "timeout", "connection", ...)."""
        return cls(method=method.upper(), url=redact_url(url), transport_error=kind)

    def header(self, name: str) -> str | None:
        """A kept header's value by case-insensitive name, or None."""
        return self.headers.get(name.lower())


class ArmError(ErrorObject):
    """ARM's own error object (`{"error": {code, message, target, details}}`) and the status."""

    @classmethod
    def from_reply(cls, reply: ArmReply) -> ArmError | None:
        """The error object ARM put in the reply's body; None when it sent none."""
        if reply.status is None or not isinstance(reply.body, dict):
            return None
        enveloped = _error_from_object(reply.body.get("error"), reply.status, depth=0)
        if enveloped is not None or reply.status < 300:
            return enveloped
        return _error_from_object(reply.body, reply.status, depth=0)


def reply_error(reply: ArmReply) -> ArmError | AppError | None:
    """The error a reply reports: ARM's own, else the app's account of it; None for a success."""
    if reply.status is None:
        return AppError(
            code=AppCode.TRANSPORT_ERROR,
            message=f"No HTTP response from ARM for {reply.method} {reply.url} "
            f"({reply.transport_error or 'unknown transport failure'}).",
        )
    arm_error = ArmError.from_reply(reply)
    if arm_error is not None or reply.status < 300:
        return arm_error
    shown = reply.body_excerpt if reply.body_excerpt is not None else _compact(reply.body)
    return AppError(
        code=AppCode.HTTP_ERROR,
        message=f"ARM answered {reply.method} {reply.url} with HTTP {reply.status}"
        + (f": {shown}" if shown else " and no error body."),
        status=reply.status,
    )


def keep_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased allowlisted headers; Authorization, cookies and the rest are dropped."""
    return {
        name.lower(): value.strip()
        for name, value in headers.items()
        if name.lower() in KEPT_HEADERS
    }


def _parse_body(body_bytes: bytes) -> tuple[JsonValue, str | None]:
    if not body_bytes.strip():
        return None, None
    try:
        parsed: JsonValue = json.loads(body_bytes)
    except (ValueError, RecursionError):
        return None, body_bytes[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    return parsed, None


def _error_from_object(value: JsonValue, status: int, *, depth: int) -> ArmError | None:
    if not isinstance(value, dict):
        return None
    code, message = value.get("code"), value.get("message")
    if not isinstance(code, str) and not isinstance(message, str):
        return None
    details: list[ArmError] = []
    raw_details = value.get("details")
    if depth < MAX_ERROR_DEPTH and isinstance(raw_details, list):
        for item in raw_details:
            detail = _error_from_object(item, status, depth=depth + 1)
            if detail is not None:
                details.append(detail)
    target = value.get("target")
    return ArmError(
        code=code if isinstance(code, str) and code else AppCode.HTTP_ERROR.value,
        message=message if isinstance(message, str) else "",
        target=target if isinstance(target, str) else None,
        details=details,
        status=status,
    )


def _compact(body: JsonValue) -> str:
    if body is None:
        return ""
    return json.dumps(body, separators=(",", ":"))[:EXCERPT_CHARS]
