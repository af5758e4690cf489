"""Pure rules of the Event Grid emulator: publish validation, auth, retry and delivery shape."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from emulators.common.tokens import TokenSigner
from emulators.eventgrid.auth import authorize
from emulators.eventgrid.delivery import is_retryable, outgoing_event, retry_delay
from emulators.eventgrid.errors import EventGridError
from emulators.eventgrid.subscriptions import TOPIC_RESOURCE_ID
from emulators.eventgrid.validation import (
    CLOUD_EVENT_SCHEMA,
    EVENT_GRID_SCHEMA,
    MAX_PAYLOAD_BYTES,
    Batch,
    is_date_time,
    parse_publish,
)
from tests.emulators.conftest import CLOUD_EVENT, EVENT


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def _rejection(content_type: str, payload: object) -> EventGridError:
    result = parse_publish(content_type, _body(payload))
    assert isinstance(result, EventGridError), result
    return result


class TestParsePublish:
    @pytest.mark.parametrize(
        ("content_type", "payload", "schema"),
        [
            pytest.param("application/json", [EVENT], EVENT_GRID_SCHEMA, id="eventgrid-array"),
            pytest.param(
                "application/json; charset=utf-8", [EVENT], EVENT_GRID_SCHEMA, id="with-charset"
            ),
            pytest.param(
                "application/cloudevents-batch+json; charset=utf-8",
                [CLOUD_EVENT],
                CLOUD_EVENT_SCHEMA,
                id="cloudevents-batch",
            ),
            pytest.param(
                "application/cloudevents+json", CLOUD_EVENT, CLOUD_EVENT_SCHEMA, id="cloudevent"
            ),
        ],
    )
    def test_valid_payload_is_accepted_in_the_schema_of_its_content_type(
        self, content_type, payload, schema
    ):
        """Each supported content type yields a batch in its schema holding the events."""
        result = parse_publish(content_type, _body(payload))

        assert isinstance(result, Batch)
        assert result.schema == schema
        assert result.events == (payload if isinstance(payload, list) else [payload])

    def test_event_without_data_or_data_version_is_accepted(self):
        """`data` and `dataVersion` are optional in the Event Grid schema, as documented."""
        event = {k: v for k, v in EVENT.items() if k not in ("data", "dataVersion")}

        assert isinstance(parse_publish("application/json", _body([event])), Batch)

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param({"id": None}, "Event 0: required property 'id' was not set.", id="no-id"),
            pytest.param(
                {"subject": None}, "required property 'subject' was not set", id="no-subject"
            ),
            pytest.param(
                {"eventType": None}, "required property 'eventType' was not set", id="no-type"
            ),
            pytest.param(
                {"eventTime": None}, "required property 'eventTime' was not set", id="no-time"
            ),
            pytest.param({"id": 7}, "property 'id' must be a string", id="id-not-string"),
            pytest.param({"eventType": ""}, "property 'eventType' is empty", id="empty-type"),
            pytest.param(
                {"eventTime": "yesterday"}, "'eventTime' is not a valid date-time", id="bad-time"
            ),
            pytest.param(
                {"eventTime": "2026-02-30T00:00:00Z"}, "'eventTime' is not", id="impossible-date"
            ),
            pytest.param(
                {"dataVersion": 1}, "property 'dataVersion' must be a string", id="data-version"
            ),
            pytest.param({"metadataVersion": "2"}, "'metadataVersion' must be '1'", id="metadata"),
        ],
    )
    def test_bad_event_grid_event_is_refused_naming_the_field_and_index(self, change, expected):
        """A 400 message names the property at fault and the event's index."""
        event = {k: v for k, v in {**EVENT, **change}.items() if v is not None}

        rejection = _rejection("application/json", [event])

        assert (rejection.status, rejection.code) == (400, "BadRequest")
        assert expected in rejection.message

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param({"source": None}, "'source' was not set", id="no-source"),
            pytest.param({"type": None}, "'type' was not set", id="no-type"),
            pytest.param({"specversion": None}, "'specversion' was not set", id="no-specversion"),
            pytest.param({"specversion": "0.3"}, "'specversion' must be '1.0'", id="old-version"),
            pytest.param({"time": "2026-11-28T20:54:12"}, "'time' is not an RFC 3339", id="no-tz"),
            pytest.param({"subject": 5}, "'subject' must be a string", id="subject-not-string"),
            pytest.param({"data_base64": "AA=="}, "'data' and 'data_base64'", id="both-data"),
        ],
    )
    def test_bad_cloud_event_is_refused_naming_the_field(self, change, expected):
        """CloudEvents 1.0 required attributes and types are enforced."""
        event = {k: v for k, v in {**CLOUD_EVENT, **change}.items() if v is not None}

        rejection = _rejection("application/cloudevents-batch+json", [event])

        assert rejection.status == 400
        assert rejection.message.startswith("Event 0: ")
        assert expected in rejection.message

    def test_every_problem_of_every_event_is_listed_with_its_index(self):
        """Problems in several events are all reported, each as a detail with its index."""
        second = {k: v for k, v in EVENT.items() if k != "subject"}
        third = {**EVENT, "eventTime": "never"}

        rejection = _rejection("application/json", [EVENT, second, third])

        assert rejection.details == (
            "Event 1: required property 'subject' was not set.",
            "Event 2: property 'eventTime' is not a valid date-time: 'never'.",
        )
        assert rejection.response.json()["error"]["details"][0]["code"] == "InputJsonInvalid"

    @pytest.mark.parametrize(
        ("content_type", "body", "expected"),
        [
            pytest.param("application/json", b"{not json", "not valid JSON", id="not-json"),
            pytest.param("application/json", _body(EVENT), "got a JSON object", id="object"),
            pytest.param("application/json", _body([]), "array of events is empty", id="empty"),
            pytest.param("application/json", _body(["x"]), "must be a JSON object", id="string"),
            pytest.param(
                "application/cloudevents+json",
                _body([CLOUD_EVENT]),
                "single CloudEvent JSON object",
                id="array-for-single",
            ),
        ],
    )
    def test_malformed_body_is_a_bad_request(self, content_type, body, expected):
        """Bodies that are not the expected JSON shape get a 400 saying what was expected."""
        rejection = parse_publish(content_type, body)

        assert isinstance(rejection, EventGridError)
        assert rejection.status == 400
        assert expected in rejection.message

    @pytest.mark.parametrize(
        "content_type",
        [
            pytest.param("text/plain", id="text"),
            pytest.param(None, id="missing"),
            pytest.param("application/xml", id="xml"),
        ],
    )
    def test_unsupported_content_type_is_415(self, content_type):
        """Only the Event Grid and CloudEvents JSON media types are accepted."""
        rejection = parse_publish(content_type, _body([EVENT]))

        assert isinstance(rejection, EventGridError)
        assert (rejection.status, rejection.code) == (415, "UnsupportedMediaType")

    def test_payload_over_one_megabyte_is_413(self):
        """A body larger than 1 MB is refused before it is parsed."""
        rejection = parse_publish("application/json", b" " * (MAX_PAYLOAD_BYTES + 1))

        assert isinstance(rejection, EventGridError)
        assert (rejection.status, rejection.code) == (413, "RequestEntityTooLarge")


class TestIsDateTime:
    @pytest.mark.parametrize(
        ("value", "offset_required", "expected"),
        [
            pytest.param("2017-06-26T18:41:00.9584103Z", True, True, id="seven-digit-fraction"),
            pytest.param("2017-08-10T21:03:07+00:00", True, True, id="offset"),
            pytest.param("2017-08-10T21:03:07", False, True, id="no-offset-allowed"),
            pytest.param("2017-08-10T21:03:07", True, False, id="no-offset-refused"),
            pytest.param("2017-08-10", False, False, id="date-only"),
            pytest.param("2017-13-10T21:03:07Z", False, False, id="month-13"),
        ],
    )
    def test_recognises_iso_date_times(self, value, offset_required, expected):
        """Full date-times pass; dates alone, impossible dates and missing offsets do not."""
        assert is_date_time(value, offset_required=offset_required) is expected


class TestAuthorize:
    signer = TokenSigner()

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({"aeg-sas-key": "k"}, id="key"),
            pytest.param(
                {"authorization": "Bearer " + signer.issue("https://eventgrid.azure.net").token},
                id="bearer-no-slash",
            ),
            pytest.param(
                {"authorization": "bearer " + signer.issue("https://eventgrid.azure.net/").token},
                id="bearer-slash",
            ),
        ],
    )
    def test_topic_key_or_event_grid_token_is_accepted(self, headers):
        """The topic key or a token for Event Grid's audience may publish."""
        assert authorize(headers, topic_key="k", signer=self.signer) is None

    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            pytest.param({}, "bearer token in Authorization or the topic key", id="nothing"),
            pytest.param({"aeg-sas-key": "wrong"}, "does not match", id="wrong-key"),
            pytest.param({"authorization": "Bearer "}, "bearer token", id="empty-bearer"),
            pytest.param({"authorization": "Basic abc"}, "bearer token", id="basic"),
            pytest.param(
                {"authorization": "Bearer " + signer.issue("https://management.azure.com/").token},
                "audience",
                id="arm-audience",
            ),
            pytest.param(
                {
                    "authorization": "Bearer "
                    + signer.issue("https://eventgrid.azure.net", lifetime=-timedelta(1)).token
                },
                "expired",
                id="expired",
            ),
            pytest.param(
                {
                    "authorization": "Bearer "
                    + TokenSigner().issue("https://eventgrid.azure.net").token
                },
                "signature",
                id="other-signer",
            ),
        ],
    )
    def test_anything_else_is_401_with_the_reason(self, headers, reason):
        """Missing, wrong, foreign or expired credentials get a 401 that says why."""
        rejection = authorize(headers, topic_key="k", signer=self.signer)

        assert rejection is not None
        assert rejection.status == 401
        assert reason in rejection.message

    def test_key_is_refused_when_local_auth_is_disabled(self):
        """With local auth off (disableLocalAuth), even the right key gets a 401."""
        rejection = authorize(
            {"aeg-sas-key": "k"}, topic_key="k", signer=self.signer, local_auth=False
        )

        assert rejection is not None
        assert rejection.status == 401
        assert "Local auth is disabled" in rejection.message

    def test_token_is_accepted_when_local_auth_is_disabled(self):
        """With local auth off, an Event Grid token still publishes."""
        token = self.signer.issue("https://eventgrid.azure.net").token
        headers = {"authorization": f"Bearer {token}"}

        assert authorize(headers, topic_key="k", signer=self.signer, local_auth=False) is None

    def test_bearer_token_is_refused_without_a_signer(self):
        """An emulator started without a signer cannot check tokens, so it refuses them."""
        token = self.signer.issue("https://eventgrid.azure.net").token

        rejection = authorize({"authorization": f"Bearer {token}"}, topic_key="k", signer=None)

        assert rejection is not None
        assert "without a token signer" in rejection.message


class TestDeliveryRules:
    @pytest.mark.parametrize(
        ("attempt", "delay"),
        [pytest.param(1, 0.05, id="first"), pytest.param(3, 0.2, id="third"),
         pytest.param(20, 1.0, id="capped")],
    )  # fmt: skip
    def test_retry_delay_doubles_up_to_a_cap(self, attempt, delay):
        """Backoff starts at 50 ms, doubles, and never exceeds 1 s."""
        assert retry_delay(attempt) == pytest.approx(delay)

    @pytest.mark.parametrize(
        ("status", "retried"),
        [
            pytest.param(None, True, id="no-response"),
            pytest.param(500, True, id="500"),
            pytest.param(503, True, id="503"),
            pytest.param(429, True, id="429"),
            pytest.param(404, True, id="404"),
            pytest.param(400, False, id="400"),
            pytest.param(401, False, id="401"),
            pytest.param(403, False, id="403"),
            pytest.param(413, False, id="413"),
        ],
    )
    def test_only_event_grids_final_webhook_errors_are_not_retried(self, status, retried):
        """400, 401, 403 and 413 end delivery at once, as Event Grid does for webhooks."""
        assert is_retryable(status) is retried

    def test_event_grid_event_is_delivered_with_the_fields_event_grid_stamps(self):
        """Delivery drops the emulator's own fields and adds topic and metadataVersion."""
        stored = {**EVENT, "_receivedAt": "now", "_schema": EVENT_GRID_SCHEMA}

        delivered = outgoing_event(stored, EVENT_GRID_SCHEMA)

        assert delivered == {**EVENT, "topic": TOPIC_RESOURCE_ID, "metadataVersion": "1"}

    def test_cloud_event_is_delivered_as_published(self):
        """CloudEvents pass through unchanged apart from the emulator's fields."""
        stored = {**CLOUD_EVENT, "_receivedAt": "now", "_schema": CLOUD_EVENT_SCHEMA}

        assert outgoing_event(stored, CLOUD_EVENT_SCHEMA) == CLOUD_EVENT
