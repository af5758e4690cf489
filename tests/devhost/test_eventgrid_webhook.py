"""The Event Grid trigger webhook: handshakes and deliveries in both schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.eventgrid_webhook import (
    Notification,
    Unsubscribe,
    Validation,
    WebhookRequestError,
    read_webhook_request,
)
from devhost.host_thread import HostThread
from tests.devhost.conftest import EVENTGRID_KEY, FUNCTION_KEY, StartHost
from tests.devhost.support import read_records

WEBHOOK = "/runtime/webhooks/eventgrid"


def grid_event(number: int, **data: Any) -> dict[str, Any]:
    return {
        "id": f"e{number}",
        "subject": f"things/{number}",
        "eventType": "Sample.Thing",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {"n": number, **data},
        "dataVersion": "1.0",
    }


def cloud_event(number: int) -> dict[str, Any]:
    return {
        "id": f"c{number}",
        "source": "/sample",
        "type": "Sample.Thing",
        "specversion": "1.0",
        "time": "2026-01-01T00:00:00Z",
        "data": {"n": number},
    }


def post(host: HostThread, body: Any, event_type: str, **params: str) -> requests.Response:
    return requests.post(
        f"{host.host.url}{WEBHOOK}",
        params={"functionName": "on_event", "code": EVENTGRID_KEY, **params},
        headers={"aeg-event-type": event_type},
        json=body,
        timeout=10,
    )


class TestReadWebhookRequest:
    def test_cloud_event_validation_code_is_double_encoded(self) -> None:
        """A CloudEvents validation event carries its data as a JSON string."""
        body = b'{"specversion": "1.0", "data": "{\\"validationCode\\": \\"abc\\"}"}'
        assert read_webhook_request("SubscriptionValidation", body) == Validation(code="abc")

    def test_single_object_notification_is_one_event(self) -> None:
        """A CloudEvents delivery of one object is treated as an array of one."""
        assert read_webhook_request("Notification", b'{"id": "1"}') == Notification(
            events=[{"id": "1"}]
        )

    def test_unsubscribe_is_recognised(self) -> None:
        """An Unsubscribe request needs no body."""
        assert read_webhook_request("Unsubscribe", b"") == Unsubscribe()

    @pytest.mark.parametrize(
        ("event_type", "body", "message"),
        [
            pytest.param(
                None, b"[]", "must be Notification or SubscriptionValidation", id="no-header"
            ),
            pytest.param("Notification", b"{oops", "not JSON", id="bad-json"),
            pytest.param("Notification", b"[1, 2]", "event object", id="not-objects"),
            pytest.param("SubscriptionValidation", b"[{}]", "validationCode", id="no-code"),
        ],
    )
    def test_malformed_requests_are_explained(
        self, event_type: str | None, body: bytes, message: str
    ) -> None:
        """Malformed deliveries fail with the reason, for a 400."""
        with pytest.raises(WebhookRequestError, match=message):
            read_webhook_request(event_type, body)


class TestEventGridWebhook:
    def test_subscription_validation_echoes_the_code(self, start_host: StartHost) -> None:
        """The SubscriptionValidation handshake answers validationResponse with the code."""
        host = start_host()
        body = [
            {
                "id": "v",
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "data": {"validationCode": "512d38b6", "validationUrl": "https://x"},
            }
        ]
        response = post(host, body, "SubscriptionValidation")
        assert response.status_code == 200
        assert response.json() == {"validationResponse": "512d38b6"}

    def test_cloud_events_options_handshake_allows_the_origin(self, start_host: StartHost) -> None:
        """OPTIONS with WebHook-Request-Origin is answered with WebHook-Allowed-Origin."""
        host = start_host()
        response = requests.options(
            f"{host.host.url}{WEBHOOK}",
            params={"functionName": "on_event", "code": EVENTGRID_KEY},
            headers={"WebHook-Request-Origin": "eventgrid.azure.net"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"

    def test_event_grid_schema_array_invokes_once_per_event(
        self, start_host: StartHost, record_dir: Path
    ) -> None:
        """Each event of a posted array is one invocation with an EventGridEvent."""
        host = start_host()
        response = post(host, [grid_event(1), grid_event(2)], "Notification")
        assert response.status_code == 202
        records = sorted(read_records(record_dir, "events"), key=lambda r: r["id"])
        assert records == [
            {"type": "EventGridEvent", "id": "e1", "data": {"n": 1}},
            {"type": "EventGridEvent", "id": "e2", "data": {"n": 2}},
        ]

    def test_cloud_events_are_delivered_as_cloud_events(
        self, start_host: StartHost, record_dir: Path
    ) -> None:
        """CloudEvents, single or batched, reach the function as func.CloudEvent."""
        host = start_host()
        assert post(host, cloud_event(1), "Notification").status_code == 202
        assert post(host, [cloud_event(2), cloud_event(3)], "Notification").status_code == 202
        records = sorted(read_records(record_dir, "events"), key=lambda r: r["id"])
        assert [(r["type"], r["id"]) for r in records] == [
            ("CloudEvent", "c1"),
            ("CloudEvent", "c2"),
            ("CloudEvent", "c3"),
        ]

    def test_failing_function_answers_500(self, start_host: StartHost, record_dir: Path) -> None:
        """One failed invocation fails the delivery, so Event Grid would retry it."""
        host = start_host()
        response = post(host, [grid_event(1), grid_event(2, fail=True)], "Notification")
        assert response.status_code == 500
        assert "marker: failing on purpose" in response.text
        assert len(read_records(record_dir, "events")) == 2

    def test_unknown_function_is_404(self, start_host: StartHost) -> None:
        """A functionName that is not an Event Grid trigger is 404 with its name."""
        host = start_host()
        response = post(host, [grid_event(1)], "Notification", functionName="hello")
        assert response.status_code == 404
        assert response.text == "cannot find function: 'hello'"

    def test_missing_event_type_header_is_400(self, start_host: StartHost) -> None:
        """A POST without aeg-event-type is refused with the reason."""
        host = start_host()
        response = requests.post(
            f"{host.host.url}{WEBHOOK}",
            params={"functionName": "on_event", "code": EVENTGRID_KEY},
            json=[grid_event(1)],
            timeout=10,
        )
        assert response.status_code == 400
        assert "aeg-event-type" in response.text

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            pytest.param({}, 401, id="no-key"),
            pytest.param({"code": FUNCTION_KEY}, 403, id="function-key"),
        ],
    )
    def test_webhook_needs_the_eventgrid_extension_key(
        self, start_host: StartHost, record_dir: Path, params: dict[str, str], expected: int
    ) -> None:
        """Without a key the webhook answers 401, with the function key 403; either way with
        an empty body and no invocation."""
        host = start_host()
        response = requests.post(
            f"{host.host.url}{WEBHOOK}",
            params={"functionName": "on_event", **params},
            headers={"aeg-event-type": "Notification"},
            json=[grid_event(1)],
            timeout=10,
        )
        assert (response.status_code, response.text) == (expected, "")
        assert read_records(record_dir, "events") == []
