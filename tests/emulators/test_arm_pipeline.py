"""The ARM pipeline around a handler that fails unexpectedly: still ARM's 500, traced, journaled."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from emulators.arm.pipeline import ArmPipeline
from emulators.arm.store import InteractionStore
from emulators.arm.throttling import SubscriptionThrottle
from emulators.common import (
    EmulatorServer,
    FaultPlan,
    Request,
    RequestJournal,
    Response,
    Router,
    TokenSigner,
)
from tests.emulators.conftest import API_VERSION, SUBSCRIPTION, TIMEOUT


def crash(request: Request) -> Response:
    raise RuntimeError("secret internal detail")


@pytest.fixture(name="crashing_arm")
def _crashing_arm(signer: TokenSigner) -> Iterator[tuple[str, RequestJournal]]:
    """The real pipeline serving one route whose handler raises."""
    api = Router(case_sensitive=False)
    api.add("GET", "/subscriptions/{subscription}/crash", crash)
    journal = RequestJournal()
    pipeline = ArmPipeline(
        signer=signer,
        api=api,
        control=Router(),
        store=InteractionStore(clock=time.time),
        faults=FaultPlan(),
        throttle=SubscriptionThrottle(writes_per_hour=10, reads_per_hour=10, clock=time.time),
        journal=journal,
    )
    server = EmulatorServer(pipeline, reset=journal.clear, name="arm")
    server.start()
    yield server.url, journal
    server.stop()


def test_unexpected_failure_is_arms_500_with_request_id_and_journaled(
    crashing_arm: tuple[str, RequestJournal], signer: TokenSigner
) -> None:
    """InternalServerError naming the tracking id it sends as x-ms-request-id; no detail leaks."""
    base, journal = crashing_arm
    token = signer.issue("https://management.azure.com/").token

    response = requests.get(
        f"{base}/subscriptions/{SUBSCRIPTION}/crash?api-version={API_VERSION}",
        headers={"Authorization": f"Bearer {token}", "x-ms-correlation-request-id": "corr-1"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "InternalServerError"
    assert f"tracking id '{response.headers['x-ms-request-id']}'" in error["message"]
    assert "request correlation id 'corr-1'" in error["message"]
    assert "secret internal detail" not in response.text
    assert [entry["status"] for entry in journal.entries()] == [500]
