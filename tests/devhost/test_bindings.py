"""Conversions between the host's wire values and the azure.functions types."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import azure.functions as func
import pytest

from devhost.bindings import (
    BindingValueError,
    activity_input,
    activity_result,
    decode_queue_text,
    encode_queue_text,
    event_grid_input,
    event_grid_output_events,
    http_response,
    queue_message,
    queue_output_messages,
)


class TestQueueMessageInput:
    def test_message_carries_metadata_like_the_worker_builds_it(self) -> None:
        """The trigger gets the subclass with dequeue count and aware UTC timestamps."""
        inserted = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        msg = queue_message(
            message_id="m1",
            body=b'{"a": 1}',
            dequeue_count=3,
            pop_receipt="pr",
            inserted_on=inserted,
            expires_on=None,
            next_visible_on=None,
        )
        assert isinstance(msg, func.QueueMessage)
        assert (msg.id, msg.dequeue_count, msg.pop_receipt) == ("m1", 3, "pr")
        assert msg.get_json() == {"a": 1}
        assert msg.insertion_time == inserted
        assert msg.expiration_time is None


class TestQueueText:
    def test_body_round_trips_through_base64(self) -> None:
        """Stored text is base64 of the UTF-8 body, and decodes back."""
        text = encode_queue_text("ünï".encode(), base64_encoding=True)
        assert text == base64.b64encode("ünï".encode()).decode()
        assert decode_queue_text(text, base64_encoding=True) == "ünï".encode()

    @pytest.mark.parametrize(
        "text",
        ["eyJqb2Ii\r\nOiAxfQ==", "eyJqb2Ii\nOiAxfQ==\n", " eyJq b2Ii\tOiAxfQ== "],
        ids=["crlf-wrapped", "lf-and-trailing-newline", "spaces-and-tab"],
    )
    def test_whitespace_in_base64_is_ignored(self, text: str) -> None:
        """Spaces, tabs and line breaks are skipped, as .NET's Convert.FromBase64String does."""
        assert decode_queue_text(text, base64_encoding=True) == b'{"job": 1}'

    @pytest.mark.parametrize(
        "text",
        ["not base64!", "eyJqb2Ii\vOiAxfQ==", "eyJqb2IiOiAxfQ"],
        ids=["punctuation", "vertical-tab", "missing-padding"],
    )
    def test_invalid_base64_is_flagged(self, text: str) -> None:
        """Text that is not base64 decodes to None (poison), not to garbage."""
        assert decode_queue_text(text, base64_encoding=True) is None

    def test_encoding_none_stores_plain_text(self) -> None:
        """With messageEncoding none the text is the body."""
        assert encode_queue_text(b"plain", base64_encoding=False) == "plain"
        assert decode_queue_text("plain", base64_encoding=False) == b"plain"


class TestQueueOutputMessages:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("one", [b"one"], id="str"),
            pytest.param(b"\x00\x01", [b"\x00\x01"], id="bytes"),
            pytest.param(["a", "b"], [b"a", b"b"], id="list"),
            pytest.param(func.QueueMessage(body="qm"), [b"qm"], id="queue-message"),
        ],
    )
    def test_values_become_message_bodies(self, value: object, expected: list[bytes]) -> None:
        """Each accepted value type gives the bodies the extension would enqueue."""
        assert queue_output_messages("out", value) == expected

    def test_dict_is_refused_with_advice(self) -> None:
        """A dict (which the worker would mangle into its keys) is refused with a hint."""
        with pytest.raises(BindingValueError, match=r"serialise a dict with json\.dumps"):
            queue_output_messages("out", {"a": 1})


class TestEventGridOutputEvents:
    def test_output_event_is_encoded_in_event_grid_schema(self) -> None:
        """func.EventGridOutputEvent becomes the Event Grid schema the worker produces."""
        when = datetime(2026, 1, 1, tzinfo=UTC)
        event = func.EventGridOutputEvent(
            id="e1",
            data={"k": 1},
            subject="s",
            event_type="T",
            event_time=when,
            data_version="1.0",
        )
        assert event_grid_output_events("out", event) == [
            {
                "id": "e1",
                "subject": "s",
                "dataVersion": "1.0",
                "eventType": "T",
                "data": {"k": 1},
                "eventTime": when.isoformat(),
            }
        ]

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param({"id": "d"}, [{"id": "d"}], id="dict"),
            pytest.param('{"id": "s"}', [{"id": "s"}], id="json-object"),
            pytest.param('[{"id": "a"}, {"id": "b"}]', [{"id": "a"}, {"id": "b"}], id="json-list"),
            pytest.param([{"id": "a"}, '{"id": "b"}'], [{"id": "a"}, {"id": "b"}], id="mixed"),
        ],
    )
    def test_plain_values_become_events(self, value: object, expected: list[object]) -> None:
        """Dicts and JSON text are sent as the events they describe."""
        assert event_grid_output_events("out", value) == expected

    @pytest.mark.parametrize(
        "value",
        [pytest.param("not json", id="text"), pytest.param(42, id="int")],
    )
    def test_other_values_are_refused(self, value: object) -> None:
        """Values that are not events fail with the binding's name."""
        with pytest.raises(BindingValueError, match="eventGrid output 'out'"):
            event_grid_output_events("out", value)


class TestEventGridInput:
    def test_event_grid_schema_gives_event_grid_event(self) -> None:
        """An Event Grid schema event becomes func.EventGridEvent."""
        event = event_grid_input(
            {
                "id": "1",
                "eventType": "T",
                "subject": "s",
                "eventTime": "2026-01-01T00:00:00Z",
                "data": {"n": 1},
                "dataVersion": "1.0",
            }
        )
        assert isinstance(event, func.EventGridEvent)
        assert (event.id, event.event_type, event.get_json()) == ("1", "T", {"n": 1})

    def test_cloud_event_schema_gives_cloud_event(self) -> None:
        """A body with specversion becomes func.CloudEvent."""
        event = event_grid_input(
            {"id": "c", "source": "/s", "type": "T", "specversion": "1.0", "data": {"n": 2}}
        )
        assert isinstance(event, func.CloudEvent)
        assert (event.id, event.source, event.get_json()) == ("c", "/s", {"n": 2})

    def test_unparseable_time_is_a_clear_error(self) -> None:
        """A malformed event is refused with a message, not a stack trace."""
        with pytest.raises(BindingValueError, match="not a valid Event Grid"):
            event_grid_input({"id": "1", "eventType": "T", "eventTime": "yesterday"})


class TestActivityValues:
    def test_json_input_is_decoded_and_result_encoded(self) -> None:
        """Activity input is JSON-decoded; the result is JSON text."""
        assert activity_input(json.dumps({"a": [1]})) == {"a": [1]}
        assert json.loads(activity_result({"ok": True})) == {"ok": True}

    def test_non_json_input_stays_text(self) -> None:
        """Input that is not JSON reaches the activity as the raw string, as in the worker."""
        assert activity_input("plain words") == "plain words"


class TestHttpResponse:
    def test_response_headers_and_content_type(self) -> None:
        """A text response carries its charset; headers pass through."""
        status, headers, body = http_response(
            func.HttpResponse("hi", status_code=201, headers={"x-a": "1"})
        )
        assert (status, body) == (201, b"hi")
        assert headers == {"x-a": "1", "Content-Type": "text/plain; charset=utf-8"}

    def test_json_mimetype_has_no_charset(self) -> None:
        """A non-text MIME type is sent without a charset."""
        _, headers, _ = http_response(func.HttpResponse("{}", mimetype="application/json"))
        assert headers["Content-Type"] == "application/json"

    def test_string_result_is_a_200(self) -> None:
        """Returning a str gives 200 with that body."""
        assert http_response("done")[::2] == (200, b"done")

    def test_none_result_is_a_204(self) -> None:
        """Returning None gives an empty 204."""
        assert http_response(None) == (204, {}, b"")

    def test_other_results_are_refused(self) -> None:
        """Returning a dict from an HTTP function is a clear error."""
        with pytest.raises(BindingValueError, match=r"must return func\.HttpResponse"):
            http_response({"a": 1})
