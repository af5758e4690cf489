"""Subscriptions on the Event Grid emulator: validation handshakes and push delivery with retry."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulators.eventgrid import EventGridEmulator
from emulators.testing import eventgrid_fixture, free_port, wait_until
from tests.emulators.conftest import CLOUD_EVENT, EVENT

# The webhook fixtures are used by name, which ruff cannot see.
from tests.emulators.webhook import Webhook, _fresh_webhook, _webhook, publish_accepted  # noqa: F401

eventgrid = eventgrid_fixture(scope="module")


def _subscribe(emulator: EventGridEmulator, endpoint: str, **extra: Any) -> requests.Response:
    return requests.post(
        f"{emulator.url}/_emulator/subscriptions", json={"endpoint": endpoint, **extra}, timeout=15
    )


def _deliveries(emulator: EventGridEmulator) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = requests.get(
        f"{emulator.url}/_emulator/deliveries", timeout=5
    ).json()["deliveries"]
    return deliveries


def _subscriptions(emulator: EventGridEmulator) -> list[dict[str, Any]]:
    subscriptions: list[dict[str, Any]] = requests.get(
        f"{emulator.url}/_emulator/subscriptions", timeout=5
    ).json()["subscriptions"]
    return subscriptions


class TestSubscriptionHandshake:
    def test_event_grid_schema_webhook_is_validated_with_a_validation_event(
        self, eventgrid, webhook
    ):
        """The webhook gets a SubscriptionValidationEvent and echoing its code subscribes it."""
        response = _subscribe(eventgrid, webhook.url)

        assert response.status_code == 201
        assert response.json()["schema"] == "EventGridSchema"
        [validation] = webhook.received
        assert validation.method == "POST"
        assert validation.header("aeg-event-type") == "SubscriptionValidation"
        [event] = validation.json()
        assert event["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
        assert event["data"]["validationCode"]
        assert _subscriptions(eventgrid) == [response.json()]

    def test_cloud_events_webhook_is_validated_with_the_options_handshake(self, eventgrid, webhook):
        """The webhook gets OPTIONS with WebHook-Request-Origin and allowing it subscribes it."""
        response = _subscribe(eventgrid, webhook.url, schema="CloudEventSchemaV1_0")

        assert response.status_code == 201
        [options] = webhook.received
        assert options.method == "OPTIONS"
        assert options.header("webhook-request-origin") == "eventgrid.azure.net"

    @pytest.mark.parametrize(
        ("schema", "behaviour"),
        [
            pytest.param("EventGridSchema", {"validation": "wrong"}, id="wrong-code"),
            pytest.param("EventGridSchema", {"validation": "fail"}, id="validation-500"),
            pytest.param("CloudEventSchemaV1_0", {"allowed_origin": None}, id="origin-missing"),
            pytest.param(
                "CloudEventSchemaV1_0", {"allowed_origin": "example.com"}, id="origin-other"
            ),
        ],
    )
    def test_failed_handshake_is_400_and_creates_nothing(
        self, eventgrid, webhook, schema, behaviour
    ):
        """A webhook that does not complete the handshake is refused, as Event Grid refuses it."""
        webhook.behave(**behaviour)

        response = _subscribe(eventgrid, webhook.url, schema=schema)

        assert response.status_code == 400
        assert "Webhook validation handshake failed" in response.json()["error"]["message"]
        assert _subscriptions(eventgrid) == []

    def test_unreachable_webhook_is_400(self, eventgrid):
        """Nothing listening at the endpoint fails the handshake."""
        response = _subscribe(eventgrid, f"http://127.0.0.1:{free_port()}/hook")

        assert response.status_code == 400
        assert "no response" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({}, "endpoint", id="no-endpoint"),
            pytest.param({"endpoint": "ftp://x"}, "endpoint", id="not-http"),
            pytest.param({"endpoint": "http://x", "schema": "Custom"}, "schema", id="schema"),
            pytest.param(
                {"endpoint": "http://x", "retryPolicy": {"maxDeliveryAttempts": 31}},
                "retryPolicy.maxDeliveryAttempts",
                id="attempts",
            ),
        ],
    )
    def test_malformed_subscription_request_is_400_naming_the_field(self, eventgrid, body, field):
        """Bad control bodies are refused before any handshake, naming the field."""
        response = requests.post(f"{eventgrid.url}/_emulator/subscriptions", json=body, timeout=5)

        assert response.status_code == 400
        assert field in response.json()["error"]["message"]


class TestPushDelivery:
    def test_each_event_is_pushed_alone_in_an_array_with_notification_headers(
        self, eventgrid, webhook
    ):
        """Two published events make two POSTs, each an array of one, as Event Grid delivers."""
        _subscribe(eventgrid, webhook.url)
        second = {**EVENT, "id": "evt-2"}

        publish_accepted(eventgrid, [EVENT, second], "application/json")

        wait_until(lambda: len(webhook.notifications()) == 2)
        received = webhook.notifications()
        bodies = [request.json() for request in received]
        assert sorted(body[0]["id"] for body in bodies) == ["evt-1", "evt-2"]
        assert all(len(body) == 1 for body in bodies)
        assert bodies[0][0]["topic"].endswith("/providers/Microsoft.EventGrid/topics/local-topic")
        assert "_receivedAt" not in bodies[0][0]
        assert received[0].header("content-type").startswith("application/json")
        assert received[0].header("aeg-delivery-count") == "0"

    def test_cloud_events_go_only_to_cloud_events_subscribers(self, eventgrid, webhook):
        """A CloudEvents subscriber receives each CloudEvent alone in structured mode, as Event
        Grid delivers with batching off; an Event Grid subscriber receives none."""
        _subscribe(eventgrid, webhook.url, schema="CloudEventSchemaV1_0")
        _subscribe(eventgrid, webhook.url)

        publish_accepted(eventgrid, [CLOUD_EVENT], "application/cloudevents-batch+json")

        deliveries = wait_until(lambda: _deliveries(eventgrid))
        [notification] = webhook.notifications()
        assert notification.json() == CLOUD_EVENT
        assert notification.header("content-type").startswith("application/cloudevents+json")
        assert [d["subscriptionId"] for d in deliveries] == [_subscriptions(eventgrid)[0]["id"]]

    def test_failed_delivery_is_retried_until_the_webhook_accepts(self, eventgrid, webhook):
        """503 then 500 are retried with backoff; the third attempt delivers."""
        _subscribe(eventgrid, webhook.url)
        webhook.behave(statuses=(503, 500))

        publish_accepted(eventgrid, [EVENT], "application/json")

        deliveries = wait_until(
            lambda: (
                [d for d in _deliveries(eventgrid) if d["outcome"] == "delivered"]
                and _deliveries(eventgrid)
            )
        )
        assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries] == [
            (1, 503, "retrying"),
            (2, 500, "retrying"),
            (3, 200, "delivered"),
        ]
        counts = [request.header("aeg-delivery-count") for request in webhook.notifications()]
        assert counts == ["0", "1", "2"]

    def test_bad_request_from_the_webhook_is_not_retried(self, eventgrid, webhook):
        """A 400 answer drops the event at once, as Event Grid does for webhooks."""
        _subscribe(eventgrid, webhook.url)
        webhook.behave(statuses=(400,))

        publish_accepted(eventgrid, [EVENT], "application/json")

        deliveries = wait_until(lambda: _deliveries(eventgrid))
        assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries] == [
            (1, 400, "dropped")
        ]

    def test_retries_stop_at_max_delivery_attempts(self, eventgrid, webhook):
        """A webhook that keeps failing gets exactly maxDeliveryAttempts attempts."""
        _subscribe(eventgrid, webhook.url, retryPolicy={"maxDeliveryAttempts": 3})
        webhook.behave(statuses=(503,) * 10)

        publish_accepted(eventgrid, [EVENT], "application/json")

        deliveries = wait_until(
            lambda: (
                [d for d in _deliveries(eventgrid) if d["outcome"] == "dropped"]
                and _deliveries(eventgrid)
            )
        )
        assert [d["outcome"] for d in deliveries] == ["retrying", "retrying", "dropped"]
        assert len(webhook.notifications()) == 3

    def test_reset_removes_subscriptions_and_the_delivery_log(self, eventgrid, webhook):
        """After a reset nothing is subscribed and no attempts are listed."""
        _subscribe(eventgrid, webhook.url)
        publish_accepted(eventgrid, [EVENT], "application/json")
        wait_until(lambda: _deliveries(eventgrid))

        requests.post(f"{eventgrid.url}/_emulator/reset", timeout=5)

        assert _subscriptions(eventgrid) == []
        assert _deliveries(eventgrid) == []
