"""The managed identity emulator: App Service's token endpoint on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Final

from emulators.common import (
    EmulatorServer,
    HttpError,
    Request,
    RequestJournal,
    Response,
    TokenSigner,
    empty_response,
    json_response,
)
from emulators.common.tokens import DEFAULT_APP_ID
from emulators.identity import protocol
from emulators.identity.errors import token_service_error

TOKEN_PATH: Final = "/msi/token"
REQUESTS_PATH: Final = "/_emulator/requests"


class IdentityEmulator:
    """Issues `TokenSigner` tokens to `ManagedIdentityCredential` and `DefaultAzureCredential`.

    Point `IDENTITY_ENDPOINT` at `endpoint` and `IDENTITY_HEADER` at `identity_header`.
    The app has its system-assigned identity (client id `DEFAULT_APP_ID`, used when a request
    names none) plus the user-assigned ones in `allowed_client_ids`; a `client_id` naming any
    other identity is refused as App Service refuses it.
    """

    def __init__(
        self,
        *,
        signer: TokenSigner,
        port: int = 0,
        identity_header: str = "local-identity-header",
        token_lifetime: timedelta = timedelta(hours=1),
        allowed_client_ids: Collection[str] | None = None,
    ) -> None:
        self._signer = signer
        self.identity_header = identity_header
        self._lifetime = token_lifetime
        self._client_ids = (DEFAULT_APP_ID, *(allowed_client_ids or ()))
        self.journal = RequestJournal(redacted_headers=(protocol.HEADER,))
        self._server = EmulatorServer(
            self._answer, reset=self.journal.clear, port=port, name="identity"
        )

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:10101`."""
        return self._server.url

    @property
    def endpoint(self) -> str:
        """The full `IDENTITY_ENDPOINT`, e.g. `http://127.0.0.1:10101/msi/token`."""
        return self._server.url + TOKEN_PATH

    def start(self) -> str:
        """Start serving and return the base URL."""
        return self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def _answer(self, request: Request) -> Response:
        if request.path == REQUESTS_PATH:
            return self._journal_control(request)
        response = self._token_endpoint(request)
        self.journal.record(request, response)
        return response

    def _token_endpoint(self, request: Request) -> Response:
        if request.path.rstrip("/") != TOKEN_PATH:
            return token_service_error(404, f"No resource at '{request.path}'.").response
        if request.method != "GET":
            return _method_not_allowed(request.method)
        try:
            accepted = protocol.check_token_request(
                request_uri=self.endpoint,
                query=request.query,
                headers=request.headers,
                identity_header=self.identity_header,
                known_client_ids=self._client_ids,
            )
        except HttpError as refusal:
            return refusal.response
        client_id = accepted.client_id or DEFAULT_APP_ID
        issued = self._signer.issue(
            accepted.resource,
            lifetime=self._lifetime,
            object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"oid:{client_id}")),
            app_id=client_id,
        )
        return json_response(
            200,
            {
                "access_token": issued.token,
                "expires_on": str(issued.expires_on),
                "resource": accepted.resource,
                "token_type": "Bearer",
                "client_id": client_id,
            },
        )

    def _journal_control(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response(200, {"requests": self.journal.entries()})
        if request.method == "DELETE":
            self.journal.clear()
            return empty_response(204)
        return _method_not_allowed(request.method)


def _method_not_allowed(method: str) -> Response:
    return token_service_error(405, f"The method '{method}' is not allowed.").response
