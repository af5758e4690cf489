"""What the host sends the worker for each trigger, and how it reads what comes back."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from devhost.bindings import (
    BindingValueError,
    activity_trigger,
    decode_queue_text,
    encode_queue_text,
    event_grid_output_events,
    event_grid_trigger,
    http_response,
    http_trigger,
    json_text,
    queue_output_messages,
    queue_trigger,
)
from devhost.rpc import function_rpc_pb2 as pb
from tests.devhost.support import queue_message


class TestQueueTrigger:
    def test_message_text_and_metadata_as_the_queue_extension_sends_them(self) -> None:
        """Text in TypedData.string; DequeueCount and times as JSON, ids as strings."""
        inserted = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        trigger = queue_trigger(
            message_id="m1",
            body=b'{"a": 1}',
            dequeue_count=3,
            pop_receipt="pr",
            inserted_on=inserted,
            expires_on=None,
            next_visible_on=None,
        )
        assert trigger.data.string == '{"a": 1}'
        meta = trigger.metadata
        assert (meta["Id"].string, meta["PopReceipt"].string) == ("m1", "pr")
        assert meta["DequeueCount"].json == "3"
        assert json.loads(meta["InsertionTime"].json) == "2026-01-02T03:04:05+00:00"
        assert "ExpirationTime" not in meta

    def test_non_utf8_body_travels_as_bytes(self) -> None:
        trigger = queue_message("m", b"\xff\xfe", pop_receipt="p")
        assert trigger.data.bytes == b"\xff\xfe"


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


class TestHttpTrigger:
    def trigger(self, **overrides: object) -> pb.RpcHttp:
        options: dict[str, object] = {
            "method": "post",
            "url": "http://h/api/x",
            "headers": [("X-A", "1"), ("x-a", "2"), ("Content-Type", "text/plain")],
            "query": [("q", "1"), ("q", "2"), ("empty", ""), ("code", "k")],
            "route_params": {"name": "n"},
            "body": b"hi",
            "content_length": 2,
        }
        options.update(overrides)
        return http_trigger(**options).data.http  # type: ignore[arg-type]

    def test_headers_lowercased_and_joined(self) -> None:
        assert dict(self.trigger().headers) == {"x-a": "1,2", "content-type": "text/plain"}

    def test_empty_query_values_dropped_and_repeats_joined(self) -> None:
        assert dict(self.trigger().query) == {"q": "1,2", "code": "k"}

    def test_body_as_bytes_only_with_a_content_length(self) -> None:
        assert self.trigger().body.bytes == b"hi"
        assert not self.trigger().HasField("rawBody")
        assert not self.trigger(content_length=None).HasField("body")
        assert not self.trigger(content_length=0, body=b"").HasField("body")

    def test_binding_data_in_trigger_metadata(self) -> None:
        meta = http_trigger(
            method="GET",
            url="u",
            headers=[("A", "1")],
            query=[("q", "1"), ("q", "2"), ("code", "k")],
            route_params={"name": "n"},
            body=b"",
            content_length=None,
        ).metadata
        assert meta["q"].string == "2"  # last value wins
        assert "code" not in meta
        assert meta["name"].string == "n"
        assert json.loads(meta["Query"].json) == {"q": "2", "code": "k"}


class TestDurableTriggers:
    @pytest.mark.parametrize(
        ("input_json", "text"),
        [('"Tokyo"', "Tokyo"), ('{"a": [1, 2]}', '{"a":[1,2]}'), ("3", "3"), ("null", "null")],
    )
    def test_activity_input_is_text_as_the_extension_passes_it(
        self, input_json: str, text: str
    ) -> None:
        assert activity_trigger(input_json).data.string == text

    def test_results_are_read_as_json_text(self) -> None:
        assert json_text(pb.TypedData(json='{"a": 1}')) == '{"a": 1}'
        assert json_text(None) == "null"
        with pytest.raises(BindingValueError, match=r"TypedData\.bytes"):
            json_text(pb.TypedData(bytes=b"x"))


class TestEventGridTrigger:
    def test_event_is_json_with_its_data_as_metadata(self) -> None:
        trigger = event_grid_trigger({"id": "1", "data": {"k": "v"}})
        assert json.loads(trigger.data.json) == {"id": "1", "data": {"k": "v"}}
        assert json.loads(trigger.metadata["data"].json) == {"k": "v"}


class TestOutputs:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (pb.TypedData(string="a"), [b"a"]),
            (pb.TypedData(bytes=b"b"), [b"b"]),
            (pb.TypedData(json='{"id": "x", "body": "c"}'), [b"c"]),
            (pb.TypedData(json='["d", {"id": "y", "body": "e"}]'), [b"d", b"e"]),
        ],
        ids=["str", "bytes", "QueueMessage", "list"],
    )
    def test_queue_values_become_message_bodies(
        self, value: pb.TypedData, expected: list[bytes]
    ) -> None:
        assert queue_output_messages("out", value) == expected

    def test_queue_json_object_without_body_is_refused(self) -> None:
        with pytest.raises(BindingValueError, match=r"json\.dumps"):
            queue_output_messages("out", pb.TypedData(json='{"a": 1}'))

    @pytest.mark.parametrize(
        "value",
        [
            pb.TypedData(json='{"id": "1"}'),
            pb.TypedData(json='[{"id": "1"}]'),
            pb.TypedData(string='{"id": "1"}'),
            pb.TypedData(json=json.dumps('{"id": "1"}')),
        ],
        ids=["object", "list", "string", "json-string"],
    )
    def test_event_grid_values_become_events(self, value: pb.TypedData) -> None:
        assert event_grid_output_events("out", value) == [{"id": "1"}]

    def test_event_grid_refuses_what_is_not_an_event(self) -> None:
        with pytest.raises(BindingValueError, match="event object"):
            event_grid_output_events("out", pb.TypedData(json="[1]"))


class TestHttpResponse:
    def test_status_headers_and_body(self) -> None:
        returned = pb.TypedData(
            http=pb.RpcHttp(
                status_code="201",
                headers={"content-type": "application/json"},
                body=pb.TypedData(bytes=b"{}"),
            )
        )
        assert http_response(returned) == (201, {"content-type": "application/json"}, b"{}")

    def test_nothing_returned_is_a_204(self) -> None:
        assert http_response(None) == (204, {}, b"")

    def test_a_string_is_a_200_as_text(self) -> None:
        assert http_response(pb.TypedData(string="plain")) == (
            200,
            {"Content-Type": "text/plain; charset=utf-8"},
            b"plain",
        )

    def test_other_values_are_refused(self) -> None:
        with pytest.raises(BindingValueError, match=r"func\.HttpResponse"):
            http_response(pb.TypedData(json="{}"))
