"""Who may publish: the topic key in `aeg-sas-key`, or a bearer token for Event Grid."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final

from emulators.common.tokens import TokenError, TokenSigner
from emulators.eventgrid.errors import Rejection, unauthorized

# The audience azure-identity requests for the scope https://eventgrid.azure.net/.default.
EVENT_GRID_AUDIENCES: Final = frozenset(
    {"https://eventgrid.azure.net", "https://eventgrid.azure.net/"}
)


def authorize(
    headers: Mapping[str, str], *, topic_key: str, signer: TokenSigner | None
) -> Rejection | None:
    """None when the request may publish, else the 401 to answer.

    `headers` must have lower-cased names. A key, when present, decides on its own.
    """
    key = headers.get("aeg-sas-key")
    if key is not None:
        if hmac.compare_digest(key.encode(), topic_key.encode()):
            return None
        return unauthorized("The aeg-sas-key header does not match the topic key.")
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized(
            "Send the topic key in the aeg-sas-key header or a bearer token in Authorization."
        )
    if signer is None:
        return unauthorized("This emulator was started without a token signer.")
    try:
        signer.verify(token.strip(), audiences=EVENT_GRID_AUDIENCES)
    except TokenError as error:
        return unauthorized(f"The bearer token was refused: {error}")
    return None
