"""Function keys: which requests must present the key, and whether they did."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

KEY_SETTING = "DEVHOST_FUNCTION_KEY"
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"

# authLevel values that need a key; ANONYMOUS is always open. Locally one key stands in for
# function, host, master and system keys alike.
_KEYED_LEVELS = frozenset({"FUNCTION", "ADMIN", "SYSTEM"})


def configured_key(explicit: str | None, settings: Mapping[str, str]) -> str | None:
    """The key to enforce: the explicit option wins over the DEVHOST_FUNCTION_KEY setting."""
    return explicit or settings.get(KEY_SETTING) or None


def key_required(auth_level: str, key: str | None) -> bool:
    """Whether a request at `auth_level` must present `key` (never when no key is set)."""
    return key is not None and auth_level.upper() in _KEYED_LEVELS


def presented_key_matches(
    key: str, *, query: Mapping[str, str], headers: Mapping[str, str]
) -> bool:
    """Whether the `code` query parameter or the `x-functions-key` header holds `key`."""
    candidates = [query.get(KEY_QUERY), headers.get(KEY_HEADER)]
    return any(
        candidate is not None and hmac.compare_digest(candidate.encode(), key.encode())
        for candidate in candidates
    )
