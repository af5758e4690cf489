"""Managed identity for the host's own bindings: azure-identity, as the extensions use it.

azure-identity reads `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` from the process environment
when a credential is built (azure/identity/_credentials/app_service.py), while devhost keeps
the app's settings in a mapping (several hosts may share one test process). So the two
variables are put in the environment only while the credential is built, under a lock; the
credential keeps the endpoint and header it read and needs the environment no more.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from azure.identity.aio import ManagedIdentityCredential

IDENTITY_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")
# The scope the extension's EventGridPublisherClient asks for with a TokenCredential
# (Azure.Messaging.EventGrid, EventGridPublisherClient.cs: "https://eventgrid.azure.net/.default").
EVENT_GRID_SCOPE = "https://eventgrid.azure.net/.default"

_environ_lock = threading.Lock()


class IdentityError(RuntimeError):
    """The settings name no managed identity endpoint, or an unsupported credential."""


@contextmanager
def identity_environment(settings: Mapping[str, str]) -> Iterator[None]:
    """`IDENTITY_ENDPOINT` and `IDENTITY_HEADER` from `settings` in os.environ, then restored."""
    missing = [name for name in IDENTITY_VARIABLES if not settings.get(name)]
    if missing:
        raise IdentityError(f"managed identity needs the setting(s) {', '.join(missing)}")
    with _environ_lock:
        saved = {name: os.environ.get(name) for name in IDENTITY_VARIABLES}
        os.environ.update({name: settings[name] for name in IDENTITY_VARIABLES})
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def connection_credential(
    settings: Mapping[str, str], connection: str
) -> ManagedIdentityCredential:
    """The credential an identity-based connection `<connection>__*` names.

    The extensions build it with AzureComponentFactory: `__credential` "managedidentity" and
    an optional `__clientId`
    (https://learn.microsoft.com/azure/azure-functions/functions-reference#common-properties-for-identity-based-connections).
    Locally only managed identity (the identity emulator) stands behind a connection.
    """
    kind = settings.get(f"{connection}__credential", "managedidentity")
    if kind.lower() != "managedidentity":
        raise IdentityError(
            f"{connection}__credential is {kind!r}; the local host supports only 'managedidentity'"
        )
    client_id = settings.get(f"{connection}__clientId") or None
    with identity_environment(settings):
        return ManagedIdentityCredential(client_id=client_id)
