"""shared.arm against the ARM emulator: what is sent, what is kept, what is refused."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError

from emulators.testing import free_port
from shared import arm
from shared.errors import UntrustedUrlError
from shared.names import API_VERSION
from tests.examples import SUBSCRIPTION, envelope
from tests.orchestration.harness import AppUnderTest

RESOURCE_GROUP = "client-rg"


def resource_url(app: AppUnderTest, hub: str, name: str = "ClientType") -> str:
    return (
        f"{app.stack.arm.url}/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
        f"/providers/Microsoft.CustomerInsights/hubs/{hub}/interactions/{name}"
        f"?api-version={API_VERSION}"
    )


def arm_token(app: AppUnderTest) -> str:
    token: str = app.stack.signer.issue(app.stack.arm.url).token
    return token


def body() -> dict[str, Any]:
    return {"properties": envelope("ClientHub")["definition"]}


class TestSend:
    def test_put_snapshot_keeps_polling_headers_and_drops_secrets(self, app: AppUnderTest) -> None:
        """A 202 comes back as an ArmReply with Location and Retry-After, and no credentials."""
        app.scenario("ClientHub", mode="location")
        reply = arm.send(
            "PUT",
            resource_url(app, "ClientHub"),
            arm_endpoint=app.stack.arm.url,
            token=lambda: arm_token(app),
            correlation_id=str(uuid.uuid4()),
            body=body(),
        )
        assert reply.status == 202
        assert (reply.header("location") or "").startswith(app.stack.arm.url)
        assert reply.header("retry-after") == "1"
        assert "authorization" not in reply.headers
        assert "Bearer" not in json.dumps(reply.model_dump(mode="json"))

    def test_every_call_has_its_own_client_request_id_and_the_given_correlation_id(
        self, app: AppUnderTest
    ) -> None:
        """x-ms-client-request-id is new per call; x-ms-correlation-request-id is the caller's."""
        app.scenario("IdsHub", mode="sync")
        correlation = str(uuid.uuid4())
        for _ in range(2):
            arm.send(
                "PUT",
                resource_url(app, "IdsHub"),
                arm_endpoint=app.stack.arm.url,
                token=lambda: arm_token(app),
                correlation_id=correlation,
                body=body(),
            )
        sent = [{k.lower(): v for k, v in r["headers"].items()} for r in app.arm_requests("IdsHub")]
        assert {h["x-ms-correlation-request-id"] for h in sent} == {correlation}
        assert len({h["x-ms-client-request-id"] for h in sent}) == 2

    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("https://evil.example/subscriptions/x", id="other-host"),
            pytest.param("http://127.0.0.1:1/subscriptions/x", id="other-port"),
        ],
    )
    def test_untrusted_url_is_refused_before_a_token_is_fetched(
        self, app: AppUnderTest, url: str
    ) -> None:
        """A URL off the ARM endpoint raises, and the token source is never asked."""
        asked: list[bool] = []

        def token() -> str:
            asked.append(True)
            return "never-used"

        with pytest.raises(UntrustedUrlError, match="refusing to call"):
            arm.send("GET", url, arm_endpoint=app.stack.arm.url, token=token, correlation_id="c")
        assert asked == []

    def test_a_failing_credential_is_a_transport_failure_reply(self, app: AppUnderTest) -> None:
        """No token (the identity endpoint down, say) is a reply lro retries, not an exception."""

        def token() -> str:
            raise ClientAuthenticationError("identity endpoint unreachable")

        reply = arm.send(
            "GET",
            resource_url(app, "TokenHub"),
            arm_endpoint=app.stack.arm.url,
            token=token,
            correlation_id="c",
        )
        assert reply.status is None
        assert reply.transport_error == "no token (ClientAuthenticationError)"
        assert app.arm_requests("TokenHub") == []

    def test_nothing_listening_is_a_connection_failure_reply(self) -> None:
        """A refused connection becomes a transport-failure reply, not an exception."""
        endpoint = f"http://127.0.0.1:{free_port()}"
        reply = arm.send(
            "GET",
            f"{endpoint}/subscriptions/x?api-version={API_VERSION}",
            arm_endpoint=endpoint,
            token=lambda: "t",
            correlation_id="c",
        )
        assert reply.status is None
        assert reply.transport_error == "connection"

    def test_dropped_connection_is_a_connection_failure_reply(self, app: AppUnderTest) -> None:
        """The emulator closing the socket without an answer is a transport failure."""
        app.arm_fault(hub="DropHub", drop=True, count=1)
        reply = arm.send(
            "GET",
            resource_url(app, "DropHub"),
            arm_endpoint=app.stack.arm.url,
            token=lambda: arm_token(app),
            correlation_id="c",
        )
        assert reply.status is None
        assert reply.transport_error == "connection"
        follow_up = requests.get(f"{app.stack.arm.url}/_emulator/health", timeout=5)
        assert follow_up.status_code == 200
