"""Identity-based connections in devhost: the Event Grid output (token checked), storage."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import aiohttp
import pytest
import requests

from devhost.indexing import Binding
from devhost.outputs import OutputError, OutputSender
from devhost.rpc import function_rpc_pb2 as pb
from devhost.storage import QueueClients, StorageSettingError
from emulators.common.tokens import TokenSigner
from emulators.identity import IdentityEmulator
from emulators.stack import EmulatorStack
from shared.names import REQUEST_QUEUE

CONNECTION = "COMPLETION_TOPIC"
BINDING = Binding(
    type="eventGrid", name="out", direction="OUT", properties={"connection": CONNECTION}
)
EVENT = {
    "id": "e-1",
    "subject": "hubs/h/interactions/i",
    "eventType": "Test.Done",
    "eventTime": "2026-12-01T00:00:00Z",
    "dataVersion": "1.0",
    "data": {"n": 1},
}


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatorStack]:
    with EmulatorStack(client_id="user-assigned-1") as started:
        yield started


@pytest.fixture(autouse=True)
def clean(stack: EmulatorStack) -> None:
    stack.reset()


def send(settings: dict[str, str]) -> None:
    """One eventGrid output value through a fresh OutputSender, as the host sends it."""

    async def run() -> None:
        async with aiohttp.ClientSession() as http:
            sender = OutputSender(
                settings=settings,
                queues=QueueClients(settings),
                http=http,
                base64_queue_messages=True,
                on_enqueued=lambda _name: None,
            )
            try:
                await sender.send(BINDING, pb.TypedData(json=json.dumps([EVENT])))
            finally:
                await sender.close()

    asyncio.run(run())


def published(stack: EmulatorStack) -> list[str]:
    """Ids of the events the topic accepted."""
    answer = requests.get(f"{stack.eventgrid.url}/_emulator/events", timeout=5)
    return [event["id"] for event in answer.json()["events"]]


def token_requests(stack: EmulatorStack) -> list[dict[str, str]]:
    return [entry["query"] for entry in stack.identity.journal.entries(method="GET")]


class TestIdentityBasedOutput:
    def test_event_is_published_with_a_token_for_event_grid(self, stack: EmulatorStack) -> None:
        """The host asks the identity endpoint for Event Grid's audience; the topic accepts it."""
        send(stack.settings())

        assert published(stack) == ["e-1"]
        (query,) = token_requests(stack)
        assert query["resource"] == "https://eventgrid.azure.net"
        assert "client_id" not in query
        assert "IDENTITY_ENDPOINT" not in os.environ, "the environment was restored"

    def test_client_id_selects_the_user_assigned_identity(self, stack: EmulatorStack) -> None:
        """`<connection>__clientId` goes to the identity endpoint as client_id."""
        send({**stack.settings(), f"{CONNECTION}__clientId": "user-assigned-1"})

        (query,) = token_requests(stack)
        assert query["client_id"] == "user-assigned-1"

    def test_unknown_client_id_fails_without_publishing(self, stack: EmulatorStack) -> None:
        """An identity the endpoint does not have gives no token, so nothing is sent."""
        with pytest.raises(OutputError, match="no token for connection"):
            send({**stack.settings(), f"{CONNECTION}__clientId": "nobody"})

        assert published(stack) == []

    def test_token_from_another_issuer_is_refused_by_the_topic(self, stack: EmulatorStack) -> None:
        """The topic checks the token's signature: a foreign identity endpoint's token is a 401."""
        foreign = IdentityEmulator(signer=TokenSigner())
        foreign.start()
        try:
            settings = {
                **stack.settings(),
                "IDENTITY_ENDPOINT": foreign.endpoint,
                "IDENTITY_HEADER": foreign.identity_header,
            }
            with pytest.raises(OutputError, match="answered 401"):
                send(settings)
        finally:
            foreign.stop()
        assert published(stack) == []

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param(
                {f"{CONNECTION}__topicEndpointUri": ""}, "__topicEndpointUri", id="no-uri"
            ),
            pytest.param(
                {f"{CONNECTION}__credential": "connectionstring"},
                "only 'managedidentity'",
                id="kind",
            ),
            pytest.param({"IDENTITY_HEADER": ""}, "IDENTITY_HEADER", id="no-identity"),
        ],
    )
    def test_incomplete_connection_fails_saying_what_is_missing(
        self, stack: EmulatorStack, change: dict[str, str], message: str
    ) -> None:
        """A connection missing its endpoint or a usable credential names the setting."""
        with pytest.raises(OutputError, match=message):
            send({**stack.settings(), **change})
        assert token_requests(stack) == []


class TestIdentityBasedStorage:
    def test_queue_service_uri_with_managed_identity_builds_a_token_client(
        self, stack: EmulatorStack
    ) -> None:
        """`AzureWebJobsStorage__queueServiceUri` stands for the connection string, with a token
        credential; Azurite serves no tokens over http, so only the client is checked here."""
        settings = {
            "IDENTITY_ENDPOINT": stack.identity.endpoint,
            "IDENTITY_HEADER": stack.identity.identity_header,
            "AzureWebJobsStorage__queueServiceUri": "https://account.queue.core.windows.net",
            "AzureWebJobsStorage__credential": "managedidentity",
        }

        async def run() -> tuple[str, object]:
            queues = QueueClients(settings)
            try:
                client = queues.queue(None, REQUEST_QUEUE)
                return client.url, client.credential
            finally:
                await queues.close()

        url, credential = asyncio.run(run())
        assert url == "https://account.queue.core.windows.net/interaction-requests"
        assert type(credential).__name__ == "ManagedIdentityCredential"

    def test_connection_with_neither_form_names_both(self) -> None:
        """No connection string and no service URI: the error names both settings."""
        queues = QueueClients({})
        with pytest.raises(StorageSettingError, match="AzureWebJobsStorage__queueServiceUri"):
            queues.queue(None, "q")
