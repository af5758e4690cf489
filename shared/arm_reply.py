"""What an ARM call answered, as a JSON-safe snapshot, and ARM's error envelope read from it.

An activity performs the HTTP call and returns an `ArmReply`; the orchestrator hands it to
`shared.lro.advance`. Only allowlisted headers survive, so tokens and cookies never reach
durable history or logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from pydantic import (
    BaseModel,
    ConfigDict,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.endpoints import redact_url

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
# An error travels in the orchestration's custom status, which the Durable extension caps at
# 16 KB of UTF-16 (8,192 code units); past it SetCustomStatus throws and the orchestration fails
# without its completion event. Every ArmError is therefore bounded, whatever ARM sent: each
# text field is cut, at most MAX_DETAILS details are kept per level, and the whole error is
# kept within ERROR_BUDGET_UTF16 code units by dropping details, then cutting the message.
MAX_CODE_CHARS: Final = 100
MAX_MESSAGE_CHARS: Final = 1_000
MAX_TARGET_CHARS: Final = 200
MAX_DETAILS: Final = 5
ERROR_BUDGET_UTF16: Final = 3_000
GENERIC_ERROR_CODE: Final = "HttpError"
TRANSPORT_ERROR_CODE: Final = "TransportError"


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


class ArmError(BaseModel):
    """ARM's error object (`{"error": {code, message, target, details}}`) plus the HTTP status."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    target: str | None = None
    details: list[ArmError] = []
    status: int | None = None

    @field_validator("code", "message", "target", mode="before")
    @classmethod
    def _cut_text(cls, value: object, info: ValidationInfo) -> object:
        limits = {"code": MAX_CODE_CHARS, "message": MAX_MESSAGE_CHARS, "target": MAX_TARGET_CHARS}
        return _cut(value, limits[str(info.field_name)]) if isinstance(value, str) else value

    @field_validator("details", mode="before")
    @classmethod
    def _keep_first_details(cls, value: object) -> object:
        return value[:MAX_DETAILS] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fit_budget(self) -> ArmError:
        # The model is frozen and `ArmError(...)` keeps `self`, so the validator shrinks it in
        # place (pydantic ignores another instance returned from here on __init__).
        while utf16_units(self) > ERROR_BUDGET_UTF16 and self.details:
            object.__setattr__(self, "details", self.details[:-1])
        excess = utf16_units(self) - ERROR_BUDGET_UTF16
        if excess > 0:
            keep = max(0, len(self.message) - excess - 1)
            object.__setattr__(self, "message", _cut(self.message, keep))
        return self

    @classmethod
    def from_reply(cls, reply: ArmReply) -> ArmError | None:
        """The error a reply carries; None for a success without an error envelope."""
        if reply.status is None:
            return cls(
                code=TRANSPORT_ERROR_CODE,
                message=f"No HTTP response from ARM for {reply.method} {reply.url} "
                f"({reply.transport_error or 'unknown transport failure'}).",
            )
        failed = reply.status >= 300
        body = reply.body
        if isinstance(body, dict):
            enveloped = _error_from_object(body.get("error"), reply.status, depth=0)
            if enveloped is not None:
                return enveloped
            if failed:
                bare = _error_from_object(body, reply.status, depth=0)
                if bare is not None:
                    return bare
        if not failed:
            return None
        shown = reply.body_excerpt if reply.body_excerpt is not None else _compact(body)
        return cls(
            code=GENERIC_ERROR_CODE,
            message=f"ARM answered {reply.method} {reply.url} with HTTP {reply.status}"
            + (f": {shown}" if shown else " and no error body."),
            status=reply.status,
        )


def utf16_units(error: ArmError) -> int:
    """The error's JSON size as the Durable extension measures custom status: UTF-16 units."""
    text = json.dumps(error.model_dump(mode="json"), ensure_ascii=False)
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


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
        code=code if isinstance(code, str) and code else GENERIC_ERROR_CODE,
        message=message if isinstance(message, str) else "",
        target=target if isinstance(target, str) else None,
        details=details,
        status=status,
    )


def _compact(body: JsonValue) -> str:
    if body is None:
        return ""
    return json.dumps(body, separators=(",", ":"))[:EXCERPT_CHARS]
