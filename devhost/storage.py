"""Storage queue clients (azure-storage-queue, async) for the connections bindings name."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue.aio import QueueClient, QueueServiceClient

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
    """A binding names a storage connection setting that is not set."""


class QueueClients:
    """One service client per connection string; queues are created on first use, as the
    queue extension creates output and poison queues."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._settings = settings
        self._services: dict[str, QueueServiceClient] = {}
        self._created: set[tuple[str, str]] = set()

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

    def _service(self, setting: str) -> QueueServiceClient:
        connection_string = self._settings.get(setting)
        if not connection_string:
            raise StorageSettingError(
                f"app setting {setting!r} (a storage connection string) is not set"
            )
        service = self._services.get(connection_string)
        if service is None:
            service = QueueServiceClient.from_connection_string(connection_string, **_RETRY)
            self._services[connection_string] = service
        return service
