"""Fixtures for the emulator tests: one signer, identity and ARM emulator for the session.

The emulators run on free loopback ports; `arm` and `identity` reset their emulator through
`POST /_emulator/reset` before each test that uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import requests

from emulators.arm import ArmEmulator
from emulators.common import TokenSigner
from emulators.identity import IdentityEmulator

SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RESOURCE_GROUP = "rg-interactions"
HUB = "ContosoHub"
API_VERSION = "2017-04-26"
TIMEOUT = 10

# One valid event of each schema for the Event Grid tests (publish, validation, delivery):
# every field the schema allows is set, so a test can drop or change one and name it.
EVENT: dict[str, Any] = {
    "id": "evt-1",
    "subject": "interactions/Contact",
    "eventType": "Interactions.Provisioned",
    "eventTime": "2026-11-28T20:54:12.9245412Z",
    "data": {"state": "Succeeded"},
    "dataVersion": "1.0",
}
CLOUD_EVENT: dict[str, Any] = {
    "id": "ce-1",
    "source": "/interactions",
    "type": "Interactions.Provisioned",
    "specversion": "1.0",
    "time": "2026-11-28T20:54:12Z",
    "subject": "interactions/Contact",
    "data": {"state": "Succeeded"},
}


@dataclass(frozen=True)
class ArmTarget:
    """The session's ARM emulator with a valid token, plus URL and request helpers."""

    base: str
    token: str
    signer: TokenSigner

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header carrying the valid token."""
        return {"Authorization": f"Bearer {self.token}"}

    def hub_url(
        self,
        *,
        hub: str = HUB,
        subscription: str = SUBSCRIPTION,
        resource_group: str = RESOURCE_GROUP,
    ) -> str:
        """The hub's URL, without query."""
        return (
            f"{self.base}/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.CustomerInsights/hubs/{hub}"
        )

    def interaction_url(
        self,
        name: str = "WebVisit",
        *,
        hub: str = HUB,
        subscription: str = SUBSCRIPTION,
        resource_group: str = RESOURCE_GROUP,
    ) -> str:
        """An interaction URL with the api-version."""
        parent = self.hub_url(hub=hub, subscription=subscription, resource_group=resource_group)
        return f"{parent}/interactions/{name}?api-version={API_VERSION}"

    def put(
        self,
        name: str = "WebVisit",
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        hub: str = HUB,
        subscription: str = SUBSCRIPTION,
        resource_group: str = RESOURCE_GROUP,
    ) -> requests.Response:
        """PUT a wrapped definition (a minimal one unless `body` is given)."""
        payload = body if body is not None else definition()
        url = self.interaction_url(
            name, hub=hub, subscription=subscription, resource_group=resource_group
        )
        return requests.put(
            url,
            json=payload,
            headers={**self.auth, **(headers or {})},
            timeout=TIMEOUT,
        )

    def get(self, url: str, **headers: str) -> requests.Response:
        """GET with the valid token."""
        return requests.get(url, headers={**self.auth, **headers}, timeout=TIMEOUT)

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        """Call the control API and insist it succeeded."""
        response = requests.request(method, self.base + path, json=body, timeout=TIMEOUT)
        assert response.ok, response.text
        return response

    def scenario(self, hub: str = HUB, **knobs: Any) -> None:
        """Set a hub's scenario."""
        self.control("PUT", f"/_emulator/hubs/{hub}/scenario", knobs)

    def journal(self, **filters: str) -> list[dict[str, Any]]:
        """The recorded requests, optionally filtered."""
        response = requests.get(self.base + "/_emulator/requests", params=filters, timeout=TIMEOUT)
        return list(response.json()["requests"])


def definition(**properties: Any) -> dict[str, Any]:
    """A wrapped interaction definition with one field, plus any extra properties."""
    return {
        "properties": {
            "apiEntitySetName": "WebVisit",
            "idPropertyNames": ["VisitId"],
            "fields": [{"fieldName": "VisitId", "fieldType": "Edm.String", "isRequired": True}],
            **properties,
        }
    }


@pytest.fixture(name="signer", scope="session")
def _signer() -> TokenSigner:
    return TokenSigner()


class _Startable(Protocol):
    def start(self) -> object: ...
    def stop(self) -> None: ...


def running[StartableT: _Startable](emulator: StartableT) -> Iterator[StartableT]:
    """The body of a fixture that serves `emulator`: `yield from running(...)` starts it and
    stops it at the fixture's teardown, however the test ended."""
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(name="arm_emulator", scope="session")
def _arm_emulator(signer: TokenSigner) -> Iterator[ArmEmulator]:
    yield from running(ArmEmulator(signer=signer))


@pytest.fixture(name="identity_emulator", scope="session")
def _identity_emulator(signer: TokenSigner) -> Iterator[IdentityEmulator]:
    yield from running(IdentityEmulator(signer=signer))


@pytest.fixture(name="arm")
def _arm(arm_emulator: ArmEmulator, signer: TokenSigner) -> ArmTarget:
    requests.post(arm_emulator.url + "/_emulator/reset", timeout=TIMEOUT).raise_for_status()
    token = signer.issue("https://management.azure.com/").token
    return ArmTarget(base=arm_emulator.url, token=token, signer=signer)


@pytest.fixture(name="identity")
def _identity(identity_emulator: IdentityEmulator) -> IdentityEmulator:
    requests.post(identity_emulator.url + "/_emulator/reset", timeout=TIMEOUT).raise_for_status()
    return identity_emulator
