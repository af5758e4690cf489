"""Pure rules of the App Service managed identity protocol (api-version 2019-08-01).

`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R[&client_id=|&mi_res_id=|&object_id=]`
with the `X-IDENTITY-HEADER` secret; `principal_id` is accepted as the older name of
`object_id`.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from emulators.identity import errors

API_VERSION: Final = "2019-08-01"
HEADER: Final = "x-identity-header"
_SELECTORS: Final = ("client_id", "mi_res_id", "object_id", "principal_id")


@dataclass(frozen=True)
class TokenRequest:
    """An accepted request: the audience to sign for and the identity asking."""

    resource: str
    client_id: str | None


def check_token_request(
    *,
    request_uri: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    identity_header: str,
    known_client_ids: Collection[str],
) -> TokenRequest:
    """Accept a token request or raise the `HttpError` the real endpoint answers, checking in
    the endpoint's order.

    API version first (ASP.NET routing), then the identity header, then the resource, then
    which identity is asked for.
    """
    api_version = query.get("api-version")
    if not api_version:
        raise errors.api_version_unspecified()
    if api_version != API_VERSION:
        raise errors.unsupported_api_version(request_uri, api_version)
    presented = headers.get(HEADER)
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    if presented is None or not hmac.compare_digest(presented.encode(), identity_header.encode()):
        raise errors.token_service_error(
            401, "The X-IDENTITY-HEADER request header is missing or invalid."
        )
    resource = query.get("resource", "").strip()
    if not resource:
        raise errors.token_service_error(400, "The 'resource' query parameter is required.")
    chosen = [name for name in _SELECTORS if query.get(name)]
    if len(chosen) > 1:
        raise errors.token_service_error(
            400, "Only one of client_id, mi_res_id or object_id may be given."
        )
    client_id = query.get("client_id") or None
    if client_id is not None and client_id.lower() not in {c.lower() for c in known_client_ids}:
        raise errors.token_service_error(400, "Unable to load the proper Managed Identity.")
    return TokenRequest(resource=resource, client_id=client_id)
