"""Subscription filters on the Event Grid emulator: `includedEventTypes`, as Event Grid has it.

Locally one topic carries the app's completion events and the intake events, so the subscription
that feeds the app's Event Grid trigger must let only intake events through.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulators.eventgrid import EventGridEmulator
from emulators.testing import eventgrid_fixture, wait_until

# The webhook fixtures are used by name, which ruff cannot see.
from tests.emulators.webhook import Webhook, _fresh_webhook, _webhook, publish_accepted  # noqa: F401

eventgrid = eventgrid_fixture(scope="module")

REQUESTED = "CustomerInsights.InteractionType.ProvisioningRequested"
SUCCEEDED = "CustomerInsights.InteractionType.ProvisioningSucceeded"


def _event(event_id: str, event_type: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "subject": "hubs/sdkTestHub/interactions/Visit",
        "eventType": event_type,
        "eventTime": "2026-11-28T20:54:12Z",
        "data": {},
    }


def _subscribe(emulator: EventGridEmulator, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emulator.url}/_emulator/subscriptions", json=body, timeout=15)


def _delivered_ids(emulator: EventGridEmulator) -> list[str]:
    deliveries = requests.get(f"{emulator.url}/_emulator/deliveries", timeout=5).json()
    return sorted(d["eventId"] for d in deliveries["deliveries"] if d["outcome"] == "delivered")


def _wait_for_a_later_delivery(
    emulator: EventGridEmulator, event: dict[str, Any], content_type: str
) -> None:
    """Publish `event` and wait until it is delivered.

    Deliveries leave one queue in order, so once this one is delivered any event wrongly
    queued by an earlier publish has been delivered too: absence can then be asserted.
    """
    publish_accepted(emulator, [event], content_type)
    wait_until(lambda: event["id"] in _delivered_ids(emulator), what=f"delivery of {event['id']}")


@pytest.mark.parametrize(
    "filter_body",
    [
        pytest.param({"includedEventTypes": [REQUESTED.upper()]}, id="top-level"),
        pytest.param({"filter": {"includedEventTypes": [REQUESTED.lower()]}}, id="under-filter"),
    ],
)
def test_only_included_event_types_are_delivered_ignoring_case(eventgrid, webhook, filter_body):
    """A subscription for ProvisioningRequested never sees the completion events."""
    response = _subscribe(eventgrid, {"endpoint": webhook.url, **filter_body})
    assert response.status_code == 201, response.text
    assert response.json()["filter"]["includedEventTypes"] == (
        filter_body.get("includedEventTypes") or filter_body["filter"]["includedEventTypes"]
    )

    publish_accepted(
        eventgrid,
        [_event("done-1", SUCCEEDED), _event("intake-1", REQUESTED), _event("done-2", SUCCEEDED)],
        "application/json",
    )

    _wait_for_a_later_delivery(eventgrid, _event("intake-2", REQUESTED), "application/json")
    assert _delivered_ids(eventgrid) == ["intake-1", "intake-2"]
    assert [n.json()[0]["id"] for n in webhook.notifications()] == ["intake-1", "intake-2"]
    # The topic still keeps every event it accepted, filtered or not.
    stored = requests.get(f"{eventgrid.url}/_emulator/events", timeout=5).json()["events"]
    assert len(stored) == 4


def test_without_a_filter_every_event_type_is_delivered(eventgrid, webhook):
    """Leaving includedEventTypes out means all types, as in Event Grid."""
    response = _subscribe(eventgrid, {"endpoint": webhook.url})
    assert response.json()["filter"] == {"includedEventTypes": None}

    publish_accepted(
        eventgrid, [_event("done-1", SUCCEEDED), _event("intake-1", REQUESTED)], "application/json"
    )

    assert wait_until(lambda: len(_delivered_ids(eventgrid)) == 2)


def test_cloud_events_are_filtered_by_their_type(eventgrid, webhook):
    """For CloudEvents subscriptions the filter applies to `type`."""
    _subscribe(
        eventgrid,
        {
            "endpoint": webhook.url,
            "schema": "CloudEventSchemaV1_0",
            "includedEventTypes": [REQUESTED],
        },
    )
    cloud = [
        {"id": event_id, "source": "/local", "type": kind, "specversion": "1.0"}
        for event_id, kind in (("done-1", SUCCEEDED), ("intake-1", REQUESTED))
    ]

    publish_accepted(eventgrid, cloud, "application/cloudevents-batch+json")

    _wait_for_a_later_delivery(
        eventgrid, {**cloud[1], "id": "intake-2"}, "application/cloudevents-batch+json"
    )
    assert _delivered_ids(eventgrid) == ["intake-1", "intake-2"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({"includedEventTypes": []}, "includedEventTypes", id="empty"),
        pytest.param({"includedEventTypes": REQUESTED}, "includedEventTypes", id="not-a-list"),
        pytest.param(
            {"includedEventTypes": [REQUESTED], "filter": {"includedEventTypes": [SUCCEEDED]}},
            "not both",
            id="both-places",
        ),
        pytest.param({"filter": {"subjectBeginsWith": "hubs/"}}, "subjectBeginsWith", id="other"),
    ],
)
def test_malformed_filter_is_400_before_any_handshake(eventgrid, webhook, extra, message):
    """Filters the emulator cannot honour are refused rather than silently ignored."""
    response = _subscribe(eventgrid, {"endpoint": webhook.url, **extra})

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert webhook.received == []
