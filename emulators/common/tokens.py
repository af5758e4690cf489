"""HMAC-SHA256 JWTs standing in for Entra ID access tokens.

The identity emulator issues them and the ARM and Event Grid emulators verify them with the same
`TokenSigner`, so a token only works where a real one would: right audience, not expired, not
tampered with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from emulators.common.clock import Clock

DEFAULT_ISSUER: Final = "https://sts.emulator.local/00000000-0000-0000-0000-000000000000/"
DEFAULT_OBJECT_ID: Final = "11111111-1111-1111-1111-111111111111"
DEFAULT_APP_ID: Final = "22222222-2222-2222-2222-222222222222"

_HEADER: Final = {"alg": "HS256", "typ": "JWT"}


class TokenError(Exception):
    """A bearer token was refused; the subclass says why."""


class InvalidTokenError(TokenError):
    """The token is not a JWT this signer issued (malformed, or its signature does not match)."""


class ExpiredTokenError(TokenError):
    """The token's `exp` has passed."""

    def __init__(self, message: str, *, expired_at: int, now: int) -> None:
        super().__init__(message)
        self.expired_at = expired_at
        self.now = now


class WrongAudienceError(TokenError):
    """The token was issued for an audience the verifier does not accept."""

    def __init__(self, message: str, *, audience: str) -> None:
        super().__init__(message)
        self.audience = audience


@dataclass(frozen=True)
class TokenClaims:
    """The claims of a verified token."""

    audience: str
    issuer: str
    object_id: str
    app_id: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token and its expiry in epoch seconds."""

    token: str
    expires_on: int


class TokenSigner:
    """Signs and verifies tokens with one secret (random per signer unless given)."""

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        issuer: str = DEFAULT_ISSUER,
        clock: Clock = time.time,
    ) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._issuer = issuer
        self._clock = clock

    def issue(
        self,
        audience: str,
        *,
        lifetime: timedelta = timedelta(hours=1),
        object_id: str = DEFAULT_OBJECT_ID,
        app_id: str = DEFAULT_APP_ID,
    ) -> IssuedToken:
        """Sign a token for `audience` valid for `lifetime` (negative gives an expired one)."""
        now = int(self._clock())
        expires_on = now + int(lifetime.total_seconds())
        claims = {
            "aud": audience,
            "iss": self._issuer,
            "iat": now,
            "nbf": now,
            "exp": expires_on,
            "oid": object_id,
            "appid": app_id,
            # A unique id makes two tokens issued in the same second differ, as Entra's do.
            "uti": uuid.uuid4().hex,
        }
        signing_input = f"{_encode(_HEADER)}.{_encode(claims)}"
        return IssuedToken(f"{signing_input}.{self._signature(signing_input)}", expires_on)

    def verify(self, token: str, *, audiences: Collection[str]) -> TokenClaims:
        """Return the claims if the token is genuine, current and for one of `audiences`."""
        if not token.isascii():
            # A JWT is base64url text; anything else cannot be a token this signer issued.
            raise InvalidTokenError("The token is not a JWT (it holds non-ASCII characters).")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidTokenError("The token is not a JWT (it needs three dot-separated parts).")
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2], self._signature(signing_input)):
            raise InvalidTokenError("The token signature is invalid.")
        claims = _decode(parts[1])
        try:
            result = TokenClaims(
                audience=str(claims["aud"]),
                issuer=str(claims["iss"]),
                object_id=str(claims["oid"]),
                app_id=str(claims["appid"]),
                issued_at=int(claims["iat"]),
                expires_at=int(claims["exp"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidTokenError(f"The token lacks a valid claim: {err}.") from err
        now = int(self._clock())
        if result.expires_at <= now:
            raise ExpiredTokenError("The token has expired.", expired_at=result.expires_at, now=now)
        if result.audience not in audiences:
            raise WrongAudienceError(
                f"The token audience '{result.audience}' is not accepted.",
                audience=result.audience,
            )
        return result

    def _signature(self, signing_input: str) -> str:
        digest = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)


def _encode(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidTokenError("The token payload is not base64url JSON.") from err
    if not isinstance(value, dict):
        raise InvalidTokenError("The token payload is not a JSON object.")
    return value
