"""Publishing to the Event Grid emulator over HTTP, with requests and the azure-eventgrid client."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent, EventGridPublisherClient

from emulators.eventgrid import DEFAULT_TOPIC_KEY, EventGridEmulator
from emulators.eventgrid.validation import MAX_PAYLOAD_BYTES
from emulators.testing import eventgrid_fixture
from tests.emulators.conftest import CLOUD_EVENT, EVENT

eventgrid = eventgrid_fixture(scope="module")

KEY = {"aeg-sas-key": DEFAULT_TOPIC_KEY}


@pytest.fixture(autouse=True)
def _fresh_topic(eventgrid: EventGridEmulator) -> None:
    eventgrid.reset()


def _publish(
    emulator: EventGridEmulator,
    payload: object,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> requests.Response:
    return requests.post(
        f"{emulator.topic_endpoint}?api-version=2018-01-01",
        data=json.dumps(payload),
        headers={"Content-Type": content_type, **(KEY if headers is None else headers)},
        timeout=5,
    )


def _stored(emulator: EventGridEmulator, **filters: str) -> list[dict[str, Any]]:
    response = requests.get(f"{emulator.url}/_emulator/events", params=filters, timeout=5)
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def _error(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


class TestPublishWithKey:
    def test_event_grid_events_are_accepted_and_stored_as_received(self, eventgrid):
        """A valid array answers an empty 200 and is stored verbatim with receipt metadata."""
        response = _publish(eventgrid, [EVENT])

        assert (response.status_code, response.content) == (200, b"")
        [stored] = _stored(eventgrid)
        assert {k: v for k, v in stored.items() if not k.startswith("_")} == EVENT
        assert stored["_schema"] == "EventGridSchema"
        assert str(stored["_receivedAt"]).endswith("Z")

    def test_single_cloud_event_is_stored_with_the_cloud_events_schema(self, eventgrid):
        """`application/cloudevents+json` carries one event and is recorded as CloudEvents."""
        response = _publish(eventgrid, CLOUD_EVENT, content_type="application/cloudevents+json")

        assert response.status_code == 200
        [stored] = _stored(eventgrid)
        assert (stored["id"], stored["_schema"]) == ("ce-1", "CloudEventSchemaV1_0")

    @pytest.mark.parametrize(
        "path", [pytest.param("/", id="root"), pytest.param("/custom/path", id="other")]
    )
    def test_any_path_is_a_topic_endpoint(self, eventgrid, path):
        """The client posts to exactly the configured URL, so every path publishes."""
        response = requests.post(f"{eventgrid.url}{path}", json=[EVENT], headers=KEY, timeout=5)

        assert response.status_code == 200
        assert len(_stored(eventgrid)) == 1


class TestPublishWithSdk:
    def _client(self, emulator: EventGridEmulator, key: str = DEFAULT_TOPIC_KEY):
        return EventGridPublisherClient(emulator.topic_endpoint, AzureKeyCredential(key))

    def test_eventgrid_events_from_the_client_library_are_stored(self, eventgrid):
        """`EventGridPublisherClient.send` with EventGridEvent objects is accepted."""
        event = EventGridEvent(
            subject="interactions/Contact",
            event_type="Interactions.Provisioned",
            data={"state": "Succeeded"},
            data_version="1.0",
        )

        self._client(eventgrid).send([event])

        [stored] = _stored(eventgrid)
        assert stored["_schema"] == "EventGridSchema"
        assert (stored["id"], stored["eventType"]) == (str(event.id), "Interactions.Provisioned")
        assert stored["data"] == {"state": "Succeeded"}

    def test_cloud_events_from_the_client_library_are_stored(self, eventgrid):
        """CloudEvent objects arrive as a CloudEvents batch."""
        event = CloudEvent(
            source="/interactions", type="Interactions.Provisioned", data={"state": "Failed"}
        )

        self._client(eventgrid).send([event])

        [stored] = _stored(eventgrid)
        assert stored["_schema"] == "CloudEventSchemaV1_0"
        assert (stored["id"], stored["type"], stored["specversion"]) == (
            event.id,
            "Interactions.Provisioned",
            "1.0",
        )

    def test_wrong_key_raises_client_authentication_error(self, eventgrid):
        """A 401 from the emulator surfaces as the SDK's authentication error."""
        event = EventGridEvent(subject="s", event_type="t", data={}, data_version="1")

        with pytest.raises(ClientAuthenticationError):
            self._client(eventgrid, key="not-the-key").send([event])
        assert _stored(eventgrid) == []

    def test_client_retry_recovers_from_an_injected_503(self, eventgrid):
        """One injected 503 is retried by azure-core and the event is stored once."""
        requests.post(f"{eventgrid.url}/_emulator/faults", json={"status": 503}, timeout=5)
        event = EventGridEvent(subject="s", event_type="t", data={}, data_version="1")

        self._client(eventgrid).send([event])

        assert [stored["id"] for stored in _stored(eventgrid)] == [str(event.id)]

    def test_injected_500_surfaces_when_the_client_does_not_retry(self, eventgrid):
        """With retries off, the client reports the injected status."""
        requests.post(f"{eventgrid.url}/_emulator/faults", json={"status": 500}, timeout=5)
        event = EventGridEvent(subject="s", event_type="t", data={}, data_version="1")

        with pytest.raises(HttpResponseError) as raised:
            self._client(eventgrid).send([event], retry_total=0)

        assert raised.value.status_code == 500
        assert _stored(eventgrid) == []


class TestBearerToken:
    @pytest.mark.parametrize(
        "audience",
        [
            pytest.param("https://eventgrid.azure.net", id="no-slash"),
            pytest.param("https://eventgrid.azure.net/", id="slash"),
        ],
    )
    def test_token_for_event_grid_is_accepted(self, eventgrid, audience):
        """A bearer token from the shared signer for Event Grid's audience publishes."""
        token = eventgrid.signer.issue(audience).token

        response = _publish(eventgrid, [EVENT], headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 200
        assert len(_stored(eventgrid)) == 1

    def test_token_for_another_audience_is_401(self, eventgrid):
        """A management token cannot publish events."""
        token = eventgrid.signer.issue("https://management.azure.com/").token

        response = _publish(eventgrid, [EVENT], headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 401
        assert _error(response)["code"] == "Unauthorized"
        assert "audience" in _error(response)["message"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("payload", "content_type", "field"),
        [
            *(
                pytest.param(
                    [EVENT, {k: v for k, v in EVENT.items() if k != name}],
                    "application/json",
                    name,
                    id=f"eventgrid-{name}",
                )
                for name in ("id", "subject", "eventType", "eventTime")
            ),
            *(
                pytest.param(
                    [CLOUD_EVENT, {k: v for k, v in CLOUD_EVENT.items() if k != name}],
                    "application/cloudevents-batch+json",
                    name,
                    id=f"cloudevents-{name}",
                )
                for name in ("id", "source", "type", "specversion")
            ),
        ],
    )
    def test_missing_required_field_is_400_naming_field_and_index(
        self, eventgrid, payload, content_type, field
    ):
        """The 400 error body names the missing property and the index of the event."""
        response = _publish(eventgrid, payload, content_type=content_type)

        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "BadRequest"
        assert error["details"] == [
            {
                "code": "InputJsonInvalid",
                "message": f"Event 1: required property '{field}' was not set.",
            }
        ]
        assert _stored(eventgrid) == []

    def test_missing_key_is_401_and_nothing_is_stored(self, eventgrid):
        """Without `aeg-sas-key` or a token the publish is unauthorized."""
        response = _publish(eventgrid, [EVENT], headers={})

        assert response.status_code == 401
        assert _error(response)["code"] == "Unauthorized"
        assert _stored(eventgrid) == []

    def test_payload_over_one_megabyte_is_413(self, eventgrid):
        """An array over 1 MB (here one event over 1 MB) is refused with 413."""
        big = {**EVENT, "data": "x" * MAX_PAYLOAD_BYTES}

        response = _publish(eventgrid, [big])

        assert response.status_code == 413
        assert _error(response)["code"] == "RequestEntityTooLarge"
        assert _stored(eventgrid) == []

    def test_payload_just_under_one_megabyte_is_accepted(self, eventgrid):
        """The limit is inclusive of 1 MB: a body of exactly 1,048,576 bytes publishes."""
        envelope = len(json.dumps([{**EVENT, "data": ""}]))
        exact = {**EVENT, "data": "x" * (MAX_PAYLOAD_BYTES - envelope)}

        response = _publish(eventgrid, [exact])

        assert len(json.dumps([exact])) == MAX_PAYLOAD_BYTES
        assert response.status_code == 200

    def test_unsupported_content_type_is_415(self, eventgrid):
        """A body sent as text/plain is refused with 415."""
        response = _publish(eventgrid, [EVENT], content_type="text/plain")

        assert response.status_code == 415
        assert _error(response)["code"] == "UnsupportedMediaType"

    @pytest.mark.parametrize(
        "depth",
        [
            pytest.param(65, id="just-over-dotnet-limit"),
            pytest.param(985, id="parses-but-too-deep-to-deliver"),
            pytest.param(100_000, id="beyond-the-parser"),
        ],
    )
    def test_too_deeply_nested_json_is_400_and_nothing_is_stored(self, eventgrid, depth):
        """JSON nested deeper than .NET's 64 levels is a BadRequest, never a 500."""
        response = requests.post(
            eventgrid.topic_endpoint,
            data=b"[" * depth + b"]" * depth,
            headers={"Content-Type": "application/json", **KEY},
            timeout=5,
        )

        assert response.status_code == 400
        assert _error(response)["code"] == "BadRequest"
        assert "nested more than 64 levels" in _error(response)["message"]
        assert _stored(eventgrid) == []

    def test_get_on_the_topic_is_405(self, eventgrid):
        """The topic endpoint only accepts POST."""
        response = requests.get(eventgrid.topic_endpoint, timeout=5)

        assert response.status_code == 405


class TestFaults:
    def test_next_publishes_fail_with_the_injected_status_then_succeed(self, eventgrid):
        """`count` publishes get the injected 503 with an error body; the next one is stored."""
        armed = requests.post(
            f"{eventgrid.url}/_emulator/faults", json={"status": 503, "count": 2}, timeout=5
        )

        statuses = [_publish(eventgrid, [EVENT]).status_code for _ in range(3)]

        assert armed.status_code == 200
        assert statuses == [503, 503, 200]
        assert len(_stored(eventgrid)) == 1

    def test_injected_fault_answers_event_grids_error_body(self, eventgrid):
        """An injected 500 carries the error envelope with an InternalServerError code."""
        requests.post(f"{eventgrid.url}/_emulator/faults", json={"status": 500}, timeout=5)

        response = _publish(eventgrid, [EVENT])

        assert response.status_code == 500
        assert _error(response)["code"] == "InternalServerError"

    def test_injected_fault_can_carry_its_own_code_and_message(self, eventgrid):
        """`code` and `message` replace the defaults in Event Grid's error body."""
        requests.post(
            f"{eventgrid.url}/_emulator/faults",
            json={"status": 403, "code": "Forbidden", "message": "Publishing is disabled."},
            timeout=5,
        )

        response = _publish(eventgrid, [EVENT])

        assert response.status_code == 403
        assert (_error(response)["code"], _error(response)["message"]) == (
            "Forbidden",
            "Publishing is disabled.",
        )

    def test_injected_status_can_carry_retry_after(self, eventgrid):
        """`retryAfter` on a fault becomes the Retry-After header of the failed publish."""
        requests.post(
            f"{eventgrid.url}/_emulator/faults",
            json={"status": 503, "retryAfter": "2"},
            timeout=5,
        )

        response = _publish(eventgrid, [EVENT])

        assert (response.status_code, response.headers["Retry-After"]) == (503, "2")

    def test_dropped_connection_fault_gives_no_answer_and_stores_nothing(self, eventgrid):
        """`drop` closes the connection without a response, as a network failure would."""
        requests.post(f"{eventgrid.url}/_emulator/faults", json={"drop": True}, timeout=5)

        with pytest.raises(requests.ConnectionError):
            _publish(eventgrid, [EVENT])
        assert _stored(eventgrid) == []

    def test_malformed_fault_request_is_400_naming_the_field(self, eventgrid):
        """A fault with a non-numeric count is refused with a message naming `count`."""
        response = requests.post(
            f"{eventgrid.url}/_emulator/faults", json={"status": 503, "count": "x"}, timeout=5
        )

        assert response.status_code == 400
        assert "count" in _error(response)["message"]


class TestControlApi:
    def test_events_can_be_filtered_by_type_and_subject(self, eventgrid):
        """`eventType` matches Event Grid and CloudEvents types; `subject` matches exactly."""
        _publish(eventgrid, [EVENT, {**EVENT, "id": "evt-2", "subject": "other"}])
        _publish(eventgrid, [CLOUD_EVENT], content_type="application/cloudevents-batch+json")
        _publish(eventgrid, [{**EVENT, "id": "evt-3", "eventType": "Other.Type"}])

        by_type = _stored(eventgrid, eventType="Interactions.Provisioned")
        by_both = _stored(eventgrid, eventType="Interactions.Provisioned", subject="other")

        assert [event["id"] for event in by_type] == ["evt-1", "evt-2", "ce-1"]
        assert [event["id"] for event in by_both] == ["evt-2"]

    def test_delete_events_forgets_them(self, eventgrid):
        """`DELETE /_emulator/events` empties the store."""
        _publish(eventgrid, [EVENT])

        response = requests.delete(f"{eventgrid.url}/_emulator/events", timeout=5)

        assert response.status_code == 204
        assert _stored(eventgrid) == []

    def test_reset_forgets_events_and_pending_faults(self, eventgrid):
        """`POST /_emulator/reset` clears stored events and cancels injected faults."""
        _publish(eventgrid, [EVENT])
        requests.post(f"{eventgrid.url}/_emulator/faults", json={"status": 503}, timeout=5)

        reset = requests.post(f"{eventgrid.url}/_emulator/reset", timeout=5)

        assert reset.status_code == 200
        assert _stored(eventgrid) == []
        assert _publish(eventgrid, [EVENT]).status_code == 200

    def test_health_answers_ok(self, eventgrid):
        """The common health route answers on the Event Grid emulator too."""
        response = requests.get(f"{eventgrid.url}/_emulator/health", timeout=5)

        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    def test_unknown_control_path_is_404(self, eventgrid):
        """Paths under /_emulator/ that do not exist are not treated as topic posts."""
        response = requests.post(f"{eventgrid.url}/_emulator/nothing", json=[EVENT], timeout=5)

        assert response.status_code == 404
        assert _stored(eventgrid) == []
