"""The only code that obtains ARM tokens: one azure-identity credential per process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_lock = threading.Lock()
_credential: TokenCredential | None = None


def _shared_credential() -> TokenCredential:
    global _credential
    with _lock:
        if _credential is None:
            # Imported here: azure.identity is the heaviest import of the app and is only
            # needed by activities, not on every cold start.
            from azure.identity import DefaultAzureCredential

            # DefaultAzureCredential picks managed identity in Azure (AZURE_CLIENT_ID selects
            # a user-assigned identity) and developer sign-ins elsewhere.
            _credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return _credential


def bearer_token(scope: str) -> str:
    """An access token for `scope`; azure-identity caches and refreshes it."""
    return _shared_credential().get_token(scope).token
