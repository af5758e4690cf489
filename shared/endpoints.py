"""Endpoint trust: which URLs share the ARM endpoint's origin, and URLs made safe to show.

A token goes only to the ARM endpoint's scheme, host and port (docs/contracts/arm-lro.md),
so settings, the poll decisions in `shared.lro` and the ARM client in `shared.arm` all ask here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS: Final = MappingProxyType({"https": 443, "http": 80})


def arm_origin(value: str) -> str:
    """`value` as scheme://host[:port]; ValueError saying why when it is not an http(s) origin."""
    # The endpoint is compared with poll URLs by scheme, host and port, so it must be
    # an origin: a path or query here would make that comparison meaningless.
    text = value.strip()
    if _unprintable(text):
        raise ValueError("must not contain whitespace or control characters")
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed or out-of-range port
    except ValueError:
        raise ValueError("has an invalid port") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL such as https://management.azure.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be an origin without a path, query or fragment")
    return f"{parts.scheme}://{parts.netloc}"


def is_trusted_url(url: str, arm_endpoint: str) -> bool:
    """True when `url` has the ARM endpoint's scheme, host and port: the only place a token goes."""
    target = _origin_parts(url)
    return target is not None and target == _origin_parts(arm_endpoint)


def redact_url(url: str) -> str:
    """The URL without user info, fragment, or any query parameter other than api-version."""
    split = _split(url)
    if split is None:
        return "<unparseable URL>"
    parts, netloc = split
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() == "api-version"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def describe_origin(url: str) -> str:
    """Scheme, host and port only, for messages: query strings of poll URLs can carry signatures."""
    split = _split(url)
    if split is None:
        return "an unparseable URL"
    parts, netloc = split
    if not parts.hostname:
        return "a URL without a host"
    return f"{parts.scheme}://{netloc}"


def _origin_parts(url: str) -> tuple[str, str, int] | None:
    if _unprintable(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname, port if port is not None else _DEFAULT_PORTS[scheme]


def _split(url: str) -> tuple[SplitResult, str] | None:
    """The URL's parts and its host (IPv6 in brackets) and port without user info; None if bad."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return parts, netloc if port is None else f"{netloc}:{port}"


def _unprintable(text: str) -> bool:
    return any(ch.isspace() or not ch.isprintable() for ch in text)
