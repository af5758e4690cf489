"""Who may publish: a bearer token for Event Grid, or the topic key while local auth is on.

A topic with `disableLocalAuth: true` refuses `aeg-sas-key` and takes only Entra ID tokens
(https://learn.microsoft.com/azure/event-grid/authenticate-with-access-keys-shared-access-signatures#disable-key-and-shared-access-signature-authentication).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final

from emulators.common.tokens import TokenError, TokenSigner
from emulators.eventgrid.errors import EventGridError, unauthorized

# The audience azure-identity requests for the scope https://eventgrid.azure.net/.default.
EVENT_GRID_AUDIENCES: Final = frozenset(
    {"https://eventgrid.azure.net", "https://eventgrid.azure.net/"}
)


def authorize(
    headers: Mapping[str, str],
    *,
    topic_key: str,
    signer: TokenSigner | None,
    local_auth: bool = True,
) -> EventGridError | None:
    """None when the request may publish, else the 401 to answer.

    `headers` must have lower-cased names. A key, when present, decides on its own.
    """
    key = headers.get("aeg-sas-key")
    if key is not None and not local_auth:
        return unauthorized(
            "Local auth is disabled on this topic: send an Entra ID bearer token "
            "(audience https://eventgrid.azure.net) in Authorization, not aeg-sas-key."
        )
    if key is not None:
        if hmac.compare_digest(key.encode(), topic_key.encode()):
            return None
        return unauthorized("The aeg-sas-key header does not match the topic key.")
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized(
            "Send a bearer token in Authorization"
            + (" or the topic key in the aeg-sas-key header." if local_auth else ".")
        )
    if signer is None:
        return unauthorized("This emulator was started without a token signer.")
    try:
        signer.verify(token.strip(), audiences=EVENT_GRID_AUDIENCES)
    except TokenError as error:
        return unauthorized(f"The bearer token was refused: {error}")
    return None
