"""Storage queue clients (azure-storage-queue, async) for the connections bindings name."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.identity.aio import ManagedIdentityCredential
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from devhost.identity import IdentityError, connection_credential

DEFAULT_CONNECTION = "AzureWebJobsStorage"

# The SDK's default retries back off 15 s, 18 s, 24 s: right for Azure, but locally a missing
# Azurite would hang start-up for a minute. These give up after about 3 s.
_RETRY: dict[str, Any] = {
    "initial_backoff": 0.5,
    "increment_base": 1,
    "retry_total": 2,
    "random_jitter_range": 0.2,
}


class StorageSettingError(ValueError):
    """A binding names a storage connection whose settings are not set (or not usable)."""


class QueueClients:
    """One service client per connection string; queues are created on first use, as the
    queue extension creates output and poison queues."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._settings = settings
        self._services: dict[str, QueueServiceClient] = {}
        self._created: set[tuple[str, str]] = set()
        self._credentials: list[ManagedIdentityCredential] = []

    def queue(self, connection: str | None, name: str) -> QueueClient:
        """A client for queue `name` in the account of app setting `connection`."""
        return self._service(connection or DEFAULT_CONNECTION).get_queue_client(name)

    async def existing_queue(self, connection: str | None, name: str) -> QueueClient:
        """Like `queue`, after creating the queue if this host has not done so yet."""
        setting = connection or DEFAULT_CONNECTION
        client = self.queue(setting, name)
        if (setting, name) not in self._created:
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()
            self._created.add((setting, name))
        return client

    async def close(self) -> None:
        """Close every service client."""
        services, self._services = list(self._services.values()), {}
        for service in services:
            await service.close()
        credentials, self._credentials = self._credentials, []
        for credential in credentials:
            await credential.close()

    def _service(self, setting: str) -> QueueServiceClient:
        """The service for a connection: a connection string in `setting`, or the
        identity-based form `<setting>__queueServiceUri` with `__credential` / `__clientId`
        (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
        """
        connection_string = self._settings.get(setting)
        service_uri = self._settings.get(f"{setting}__queueServiceUri")
        key = connection_string or service_uri
        if not key:
            raise StorageSettingError(
                f"app setting {setting!r} (a storage connection string) is not set, nor "
                f"{setting}__queueServiceUri (an identity-based connection)"
            )
        service = self._services.get(key)
        if service is not None:
            return service
        if connection_string:
            service = QueueServiceClient.from_connection_string(connection_string, **_RETRY)
        else:
            try:
                credential = connection_credential(self._settings, setting)
            except IdentityError as err:
                raise StorageSettingError(f"{setting}: {err}") from None
            self._credentials.append(credential)
            service = QueueServiceClient(key, credential=credential, **_RETRY)
        self._services[key] = service
        return service
