"""Event Grid's subscription handshakes against the host's webhook, via the emulator and direct."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.e2e.harness import FUNCTION_KEY, REQUESTED, Stack

# A type nobody publishes: the handshake subscriptions below must never receive anything.
NEVER = "E2e.Handshake.NeverPublished"


@pytest.mark.e2e
def test_emulator_subscription_is_validated_by_the_hosts_webhook(
    stack: Stack, intake_subscription: dict[str, Any]
) -> None:
    """The emulator's subscription creation passes the validation handshake the host answers."""
    listed = requests.get(f"{stack.emulators.eventgrid.url}/_emulator/subscriptions", timeout=5)
    assert intake_subscription in listed.json()["subscriptions"]
    assert intake_subscription["filter"]["includedEventTypes"] == [REQUESTED]

    grid = stack.subscribe({"endpoint": stack.webhook_url(), "includedEventTypes": [NEVER]})
    cloud = stack.subscribe(
        {
            "endpoint": stack.webhook_url(),
            "schema": "CloudEventSchemaV1_0",
            "includedEventTypes": [NEVER],
        }
    )

    assert grid.status_code == 201, stack.explain(grid.text)
    assert cloud.status_code == 201, stack.explain(cloud.text)
    assert cloud.json()["schema"] == "CloudEventSchemaV1_0"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("key", "status"),
    [pytest.param(None, "401", id="no-key"), pytest.param(FUNCTION_KEY, "403", id="function-key")],
)
def test_emulator_subscription_without_the_eventgrid_key_fails_the_handshake(
    stack: Stack, key: str | None, status: str
) -> None:
    """A webhook URL without `code` gets 401 from the host, one with the function key 403
    (the webhook takes the eventgrid_extension key), so Event Grid refuses it (400)."""
    response = stack.subscribe({"endpoint": stack.webhook_url(key=key)})

    assert response.status_code == 400, stack.explain(response.text)
    assert f"response code {status}" in response.text


@pytest.mark.e2e
def test_direct_subscription_validation_post_returns_the_validation_code(stack: Stack) -> None:
    """POST with aeg-event-type SubscriptionValidation is answered with validationResponse."""
    code = uuid.uuid4().hex
    event = {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.EventGrid/topics/z",
        "subject": "",
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-11-28T20:54:12Z",
        "data": {"validationCode": code, "validationUrl": None},
        "dataVersion": "2",
        "metadataVersion": "1",
    }

    response = requests.post(
        stack.webhook_url(),
        json=[event],
        headers={"aeg-event-type": "SubscriptionValidation"},
        timeout=10,
    )

    assert response.status_code == 200, stack.explain(response.text)
    assert response.json() == {"validationResponse": code}


@pytest.mark.e2e
def test_cloudevents_options_handshake_returns_webhook_allowed_origin(stack: Stack) -> None:
    """OPTIONS with WebHook-Request-Origin is answered with WebHook-Allowed-Origin."""
    response = requests.options(
        stack.webhook_url(),
        headers={"WebHook-Request-Origin": "eventgrid.azure.net"},
        timeout=10,
    )

    assert 200 <= response.status_code < 300, stack.explain(response.text)
    assert response.headers["WebHook-Allowed-Origin"] in ("eventgrid.azure.net", "*")
