"""The managed identity emulator, driven by azure-identity unchanged and by hand."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

from emulators.common import REDACTED, TokenSigner
from emulators.common.tokens import DEFAULT_APP_ID
from emulators.identity import IdentityEmulator
from tests.emulators.conftest import TIMEOUT, ArmTarget, definition, running

ARM_SCOPE = "https://management.azure.com/.default"
# Variables that would steer azure-identity to another source on a developer machine.
_OTHER_SOURCES = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_USERNAME",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
)


def point_azure_identity_at(
    monkeypatch: pytest.MonkeyPatch, emulator: IdentityEmulator, header: str | None = None
) -> None:
    """Configure App Service managed identity as the Functions host would."""
    for name in _OTHER_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", header or emulator.identity_header)


def token_request(emulator: IdentityEmulator, *, header: str | None = "default", **query: str):
    """GET the token endpoint by hand."""
    headers = {}
    if header is not None:
        headers["X-IDENTITY-HEADER"] = emulator.identity_header if header == "default" else header
    return requests.get(emulator.endpoint, params=query, headers=headers, timeout=TIMEOUT)


@pytest.fixture(name="short_lived_identity")
def _short_lived_identity(signer: TokenSigner) -> Iterator[IdentityEmulator]:
    yield from running(IdentityEmulator(signer=signer, token_lifetime=timedelta(seconds=60)))


@pytest.fixture(name="user_assigned_identity")
def _user_assigned_identity(signer: TokenSigner) -> Iterator[IdentityEmulator]:
    yield from running(IdentityEmulator(signer=signer, allowed_client_ids=["client-a"]))


class TestAzureIdentityClients:
    def test_managed_identity_credential_token_is_accepted_by_arm(
        self, monkeypatch: pytest.MonkeyPatch, identity: IdentityEmulator, arm: ArmTarget
    ) -> None:
        """ManagedIdentityCredential gets a token whose PUT the ARM emulator accepts."""
        point_azure_identity_at(monkeypatch, identity)
        token = ManagedIdentityCredential().get_token(ARM_SCOPE)
        response = requests.put(
            arm.interaction_url(),
            json=definition(),
            headers={"Authorization": f"Bearer {token.token}"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 202
        (sent,) = identity.journal.entries()
        assert sent["query"] == {
            "api-version": "2019-08-01",
            "resource": "https://management.azure.com",
        }

    def test_default_credential_uses_the_emulator_when_other_sources_are_excluded(
        self, monkeypatch: pytest.MonkeyPatch, identity: IdentityEmulator, signer: TokenSigner
    ) -> None:
        """DefaultAzureCredential reaches the emulator through its managed identity link."""
        point_azure_identity_at(monkeypatch, identity)
        credential = DefaultAzureCredential(
            exclude_environment_credential=True,
            exclude_workload_identity_credential=True,
            exclude_shared_token_cache_credential=True,
            exclude_visual_studio_code_credential=True,
            exclude_cli_credential=True,
            exclude_powershell_credential=True,
            exclude_developer_cli_credential=True,
            exclude_interactive_browser_credential=True,
            exclude_broker_credential=True,
        )
        token = credential.get_token(ARM_SCOPE)
        claims = signer.verify(token.token, audiences=["https://management.azure.com"])
        assert claims.expires_at == token.expires_on

    def test_user_assigned_client_id_is_sent_and_echoed(
        self, monkeypatch: pytest.MonkeyPatch, user_assigned_identity: IdentityEmulator
    ) -> None:
        """A credential built with client_id asks for that identity and gets its token."""
        point_azure_identity_at(monkeypatch, user_assigned_identity)
        ManagedIdentityCredential(client_id="client-a").get_token(ARM_SCOPE)
        (sent,) = user_assigned_identity.journal.entries()
        assert sent["query"]["client_id"] == "client-a"

    def test_unknown_client_id_fails_authentication(
        self, monkeypatch: pytest.MonkeyPatch, user_assigned_identity: IdentityEmulator
    ) -> None:
        """A client id that is not assigned makes the credential fail, as on App Service."""
        point_azure_identity_at(monkeypatch, user_assigned_identity)
        with pytest.raises(ClientAuthenticationError):
            ManagedIdentityCredential(client_id="client-b").get_token(ARM_SCOPE)

    def test_wrong_identity_header_fails_authentication(
        self, monkeypatch: pytest.MonkeyPatch, identity: IdentityEmulator
    ) -> None:
        """A credential holding the wrong IDENTITY_HEADER gets no token."""
        point_azure_identity_at(monkeypatch, identity, header="not-the-header")
        with pytest.raises(ClientAuthenticationError):
            ManagedIdentityCredential().get_token(ARM_SCOPE)
        assert [entry["status"] for entry in identity.journal.entries()] == [401]


class TestTokenRefresh:
    def test_short_lived_tokens_are_fetched_again(
        self, monkeypatch: pytest.MonkeyPatch, short_lived_identity: IdentityEmulator
    ) -> None:
        """With a 60 s lifetime the credential asks again and gets a new token each time."""
        point_azure_identity_at(monkeypatch, short_lived_identity)
        credential = ManagedIdentityCredential()
        first = credential.get_token(ARM_SCOPE)
        second = credential.get_token(ARM_SCOPE)
        assert first.token != second.token
        assert len(short_lived_identity.journal.entries()) == 2

    def test_long_lived_token_is_served_from_the_credential_cache(
        self, monkeypatch: pytest.MonkeyPatch, identity: IdentityEmulator
    ) -> None:
        """With the default hour the second call does not reach the endpoint."""
        point_azure_identity_at(monkeypatch, identity)
        credential = ManagedIdentityCredential()
        first = credential.get_token(ARM_SCOPE)
        second = credential.get_token(ARM_SCOPE)
        assert first.token == second.token
        assert len(identity.journal.entries()) == 1


class TestTokenEndpoint:
    def test_token_answer_has_the_app_service_fields(
        self, identity: IdentityEmulator, signer: TokenSigner
    ) -> None:
        """200 with access_token, expires_on as a string, resource, token_type and client_id."""
        response = token_request(identity, **{"api-version": "2019-08-01", "resource": "r://x"})
        body = response.json()
        assert response.status_code == 200
        assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
        assert (body["resource"], body["token_type"]) == ("r://x", "Bearer")
        assert isinstance(body["expires_on"], str)
        claims = signer.verify(body["access_token"], audiences=["r://x"])
        assert claims.expires_at == int(body["expires_on"])

    @pytest.mark.parametrize(
        ("header", "query", "status", "expected"),
        [
            pytest.param(
                None,
                {"api-version": "2019-08-01", "resource": "r"},
                401,
                {"statusCode": 401},
                id="missing-header",
            ),
            pytest.param(
                "wrong",
                {"api-version": "2019-08-01", "resource": "r"},
                401,
                {"statusCode": 401},
                id="wrong-header",
            ),
            pytest.param(
                "default",
                {"api-version": "2019-08-01"},
                400,
                {"statusCode": 400},
                id="missing-resource",
            ),
            pytest.param(
                "default",
                {"resource": "r"},
                400,
                {"error": {"code": "ApiVersionUnspecified"}},
                id="missing-api-version",
            ),
            pytest.param(
                "default",
                {"api-version": "2017-09-01", "resource": "r"},
                400,
                {"error": {"code": "UnsupportedApiVersion"}},
                id="old-api-version",
            ),
            pytest.param(
                "default",
                {"api-version": "2019-08-01", "resource": "r", "client_id": "a", "object_id": "b"},
                400,
                {"statusCode": 400},
                id="two-identity-selectors",
            ),
        ],
    )
    def test_refused_requests_get_the_endpoint_error_shape(
        self,
        identity: IdentityEmulator,
        header: str | None,
        query: dict[str, str],
        status: int,
        expected: dict[str, Any],
    ) -> None:
        """Each protocol breach gets App Service's status and body shape, never a token."""
        response = token_request(identity, header=header, **query)
        body = response.json()
        assert response.status_code == status
        assert "access_token" not in body
        if "error" in expected:
            assert body["error"]["code"] == expected["error"]["code"]
            assert body["error"]["message"]
        else:
            assert body["statusCode"] == expected["statusCode"]
            assert body["message"]
            assert body["correlationId"]

    def test_unknown_client_id_is_the_app_service_message(
        self, user_assigned_identity: IdentityEmulator
    ) -> None:
        """An unassigned identity gets 400 'Unable to load the proper Managed Identity.'."""
        response = token_request(
            user_assigned_identity,
            **{"api-version": "2019-08-01", "resource": "r", "client_id": "nobody"},
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Unable to load the proper Managed Identity."

    def test_non_ascii_identity_header_is_401(self, identity: IdentityEmulator) -> None:
        """A header that cannot be the secret is refused like any wrong one, not a 500."""
        host, port = identity.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        connection.putrequest("GET", "/msi/token?api-version=2019-08-01&resource=r")
        connection.putheader("X-IDENTITY-HEADER", "caf\xe9".encode("latin-1"))
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        assert (response.status, body["statusCode"]) == (401, 401)

    @pytest.mark.parametrize(
        ("client_id", "status"),
        [
            pytest.param(None, 200, id="system-assigned"),
            pytest.param(DEFAULT_APP_ID, 200, id="system-assigned-by-client-id"),
            pytest.param("33333333-3333-3333-3333-333333333333", 400, id="unknown"),
        ],
    )
    def test_only_the_apps_own_identity_exists_by_default(
        self, identity: IdentityEmulator, client_id: str | None, status: int
    ) -> None:
        """Without user-assigned identities, naming any other client id is App Service's 400."""
        query = {"api-version": "2019-08-01", "resource": "r"}
        if client_id is not None:
            query["client_id"] = client_id
        response = token_request(identity, **query)
        assert response.status_code == status
        if status == 400:
            assert response.json()["message"] == "Unable to load the proper Managed Identity."

    def test_identity_header_is_redacted_in_the_journal(self, identity: IdentityEmulator) -> None:
        """The journal never shows the identity header's value."""
        token_request(identity, **{"api-version": "2019-08-01", "resource": "r"})
        response = requests.get(identity.url + "/_emulator/requests", timeout=TIMEOUT)
        (entry,) = response.json()["requests"]
        assert entry["headers"]["x-identity-header"] == REDACTED

    def test_other_paths_and_methods_are_refused(self, identity: IdentityEmulator) -> None:
        """Only GET on /msi/token issues tokens."""
        other_path = requests.get(identity.url + "/metadata", timeout=TIMEOUT)
        other_method = requests.post(identity.endpoint, timeout=TIMEOUT)
        assert (other_path.status_code, other_method.status_code) == (404, 405)
