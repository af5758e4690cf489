"""Send what a function put in its `queue` and `eventGrid` output bindings, as the extensions do."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import aiohttp
from azure.core.exceptions import ClientAuthenticationError
from azure.identity.aio import ManagedIdentityCredential
from yarl import URL

from devhost.bindings import (
    EVENT_GRID_API_VERSION,
    encode_queue_text,
    event_grid_output_events,
    queue_output_messages,
)
from devhost.identity import EVENT_GRID_SCOPE, IdentityError, connection_credential
from devhost.indexing import Binding
from devhost.rpc import function_rpc_pb2 as pb
from devhost.settings import resolve_binding_expression
from devhost.storage import QueueClients

_LOG = logging.getLogger("devhost.outputs")

# A topic that does not answer within this time fails the invocation instead of hanging it.
EVENT_GRID_TIMEOUT_SECONDS = 30.0


class OutputError(RuntimeError):
    """An output binding could not deliver; the invocation fails with this message."""


class OutputSender:
    """Delivers output binding values after a successful invocation."""

    def __init__(
        self,
        *,
        settings: Mapping[str, str],
        queues: QueueClients,
        http: aiohttp.ClientSession,
        base64_queue_messages: bool,
        on_enqueued: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._queues = queues
        self._http = http
        self._base64 = base64_queue_messages
        self._on_enqueued = on_enqueued
        self._credentials: dict[str, ManagedIdentityCredential] = {}

    async def send(self, binding: Binding, value: pb.TypedData) -> None:
        """Deliver what the worker returned for `binding`."""
        if binding.type == "queue":
            await self._send_queue(binding, value)
        elif binding.type == "eventGrid":
            await self._send_event_grid(binding, value)

    async def _send_queue(self, binding: Binding, value: pb.TypedData) -> None:
        name = resolve_binding_expression(binding.get("queueName", ""), self._settings)
        queue = await self._queues.existing_queue(binding.get("connection"), name)
        for body in queue_output_messages(binding.name, value):
            await queue.send_message(encode_queue_text(body, base64_encoding=self._base64))
        # Lets a listener on the same queue poll now, as the extension's queue watcher does.
        self._on_enqueued(name)

    async def _send_event_grid(self, binding: Binding, value: pb.TypedData) -> None:
        events = event_grid_output_events(binding.name, value)
        if not events:
            return
        url, headers = await self._topic(binding)
        target = URL(url)
        if "api-version" not in target.query:
            target = target.update_query({"api-version": EVENT_GRID_API_VERSION})
        try:
            async with self._http.post(
                target,
                json=events,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=EVENT_GRID_TIMEOUT_SECONDS),
            ) as response:
                if not 200 <= response.status < 300:
                    detail = (await response.text())[:500]
                    raise OutputError(
                        f"eventGrid output {binding.name!r}: topic {url} answered "
                        f"{response.status} {response.reason}: {detail}"
                    )
        except (aiohttp.ClientError, TimeoutError) as err:
            raise OutputError(
                f"eventGrid output {binding.name!r}: cannot reach topic {url}: "
                f"{type(err).__name__}: {err}"
            ) from err
        _LOG.debug("eventGrid output %r: %d event(s) sent to %s", binding.name, len(events), url)

    async def close(self) -> None:
        """Close the credentials built for identity-based connections."""
        for credential in self._credentials.values():
            await credential.close()
        self._credentials.clear()

    async def _topic(self, binding: Binding) -> tuple[str, dict[str, str]]:
        """The topic URL and the auth header: a key setting, or an identity-based connection.

        With `connection`, the extension reads `<connection>__topicEndpointUri` and builds a
        token credential from the same section (EventGridExtensionConfigProvider.cs in
        Azure/azure-sdk-for-net; https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-grid-output#identity-based-authentication).
        """
        connection = binding.get("connection")
        if not connection:
            url = self._setting(binding, "topicEndpointUri")
            return url, {"aeg-sas-key": self._setting(binding, "topicKeySetting")}
        setting = f"{connection}__topicEndpointUri"
        endpoint = self._settings.get(setting)
        if not endpoint:
            raise OutputError(
                f"eventGrid output {binding.name!r}: connection {connection!r} needs the app "
                f"setting {setting}, which is not set"
            )
        try:
            credential = self._credentials.get(connection)
            if credential is None:
                credential = connection_credential(self._settings, connection)
                self._credentials[connection] = credential
            token = await credential.get_token(EVENT_GRID_SCOPE)
        except (IdentityError, ClientAuthenticationError) as err:
            raise OutputError(
                f"eventGrid output {binding.name!r}: no token for connection {connection!r}: {err}"
            ) from err
        return endpoint, {"Authorization": f"Bearer {token.token}"}

    def _setting(self, binding: Binding, key: str) -> str:
        setting = binding.get(key)
        value = self._settings.get(setting) if setting else None
        if not value:
            raise OutputError(
                f"eventGrid output {binding.name!r}: {key} names app setting {setting!r}, "
                "which is not set"
            )
        return value
