"""Bearer-token checks as ARM makes them, answering with ARM's 401 codes."""

from __future__ import annotations

from emulators.arm import errors
from emulators.arm.constants import PUBLIC_AUDIENCES
from emulators.common import (
    ExpiredTokenError,
    InvalidTokenError,
    TokenClaims,
    TokenSigner,
    WrongAudienceError,
)


def accepted_audiences(own_origin: str) -> list[str]:
    """The emulator's own origin and ARM's public audiences, each with and without `/`."""
    bases = [own_origin.rstrip("/"), *(a.rstrip("/") for a in PUBLIC_AUDIENCES)]
    return [form for base in bases for form in (base + "/", base)]


def authenticate(
    authorization: str | None, signer: TokenSigner, audiences: list[str]
) -> TokenClaims:
    """The caller's claims, or raise the `HttpError` ARM would answer with."""
    if authorization is None or not authorization.strip():
        raise errors.authentication_missing()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.authentication_malformed_header()
    try:
        return signer.verify(token.strip(), audiences=audiences)
    except ExpiredTokenError as err:
        raise errors.expired_authentication_token(err.expired_at, err.now) from err
    except WrongAudienceError as err:
        raise errors.wrong_token_audience(err.audience, audiences) from err
    except InvalidTokenError as err:
        raise errors.invalid_authentication_token() from err
