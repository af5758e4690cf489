"""Queue and Event Grid intake of messages that can never be provisioned (no client needed)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.events import rejection_event_id
from shared.message_intake import Rejection, accept_message
from shared.models import Target
from shared.operation import Source
from shared.problems import QUEUE_MESSAGE_LIMIT
from shared.settings import Settings
from shared.validation import salvage_target
from tests.examples import DOC_RESOURCE_GROUP as RESOURCE_GROUP
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION
from tests.examples import OTHER_SUBSCRIPTION
from tests.examples import doc_example as example

SETTINGS = Settings.from_environ(
    {"DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION, "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP}
)
NO_DEFAULTS = Settings.from_environ({})


def target(subscription: str = SUBSCRIPTION, resource_group: str = RESOURCE_GROUP) -> Target:
    """The example's target, complete."""
    return Target.model_validate(
        {
            "subscriptionId": subscription,
            "resourceGroup": resource_group,
            "hub": "sdkTestHub",
            "interactionName": "TestProfileType396",
        }
    )


def invalid_example() -> dict[str, Any]:
    """The example envelope with a request id and a field type that does not exist."""
    data = example()
    data["requestId"] = "req-1"
    data["definition"]["fields"][1]["fieldType"] = "Edm.Text"
    return data


def _many_bad_fields(count: int) -> dict[str, Any]:
    """The example envelope with `count` fields whose type does not exist."""
    data = example()
    field = {**data["definition"]["fields"][0], "fieldType": "Edm.Nope"}
    data["definition"]["fields"] = [{**field, "fieldName": f"f{n}"} for n in range(count)]
    return data


def reject(
    raw_text: str,
    payload: object = None,
    *,
    message_id: str = "msg-1",
    source: Source = "queue",
    settings: Settings = SETTINGS,
) -> Rejection:
    """accept_message for a message that must be rejected; a client call would raise."""
    outcome = asyncio.run(
        accept_message(
            None,
            payload,
            raw_text=raw_text,
            message_id=message_id,
            source=source,
            settings=settings,
        )
    )
    assert isinstance(outcome, Rejection)
    return outcome


def _salvage_with(data: object, settings: Settings) -> tuple[Target | None, str | None]:
    return salvage_target(
        data,
        default_subscription_id=settings.default_subscription_id,
        default_resource_group=settings.default_resource_group,
    )


class TestSalvage:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            pytest.param(
                {"target": {"hub": "sdkTestHub", "interactionName": "TestProfileType396"}},
                (target(), None),
                id="defaults-fill-target",
            ),
            pytest.param(
                {
                    "requestId": "req-1",
                    "target": {
                        "subscriptionId": OTHER_SUBSCRIPTION,
                        "resourceGroup": "OtherRG",
                        "hub": "sdkTestHub",
                        "interactionName": "TestProfileType396",
                    },
                    "definition": "not an object",
                },
                (target(OTHER_SUBSCRIPTION, "OtherRG"), "req-1"),
                id="given-target-wins-over-defaults",
            ),
            pytest.param(
                json.dumps({"requestId": "req-2", "target": {"hub": "sdkTestHub"}}),
                (None, "req-2"),
                id="json-text-with-partial-target",
            ),
            pytest.param(
                {"requestId": "req-3", "target": {"hub": "1bad", "interactionName": "ok_name"}},
                (None, "req-3"),
                id="invalid-hub-drops-target-only",
            ),
            pytest.param({"requestId": 42, "target": "hub1"}, (None, None), id="wrong-types"),
            pytest.param("{not json", (None, None), id="not-json-text"),
            pytest.param("", (None, None), id="empty-text"),
            pytest.param([{"requestId": "req-1"}], (None, None), id="json-array"),
            pytest.param("17", (None, None), id="json-number-text"),
            pytest.param(None, (None, None), id="none"),
        ],
    )
    def test_reads_what_it_can(
        self, data: object, expected: tuple[Target | None, str | None]
    ) -> None:
        """Target and requestId come from a partly valid envelope; anything unreadable is None."""
        assert _salvage_with(data, SETTINGS) == expected

    def test_target_needing_absent_defaults_is_dropped(self) -> None:
        """Without default settings, a target lacking subscription and group cannot be read."""
        assert _salvage_with(example(), NO_DEFAULTS) == (None, None)

    def test_null_target_value_takes_the_default(self) -> None:
        """A null subscriptionId is filled from the settings, as validation itself does."""
        data = example()
        data["target"]["subscriptionId"] = None
        assert _salvage_with(data, SETTINGS) == (target(), None)

    def test_text_with_byte_order_mark_is_read(self) -> None:
        """JSON text that starts with a byte-order mark is salvaged like decode_json reads it."""
        assert _salvage_with("\ufeff" + json.dumps(example()), SETTINGS) == (target(), None)


class TestAcceptMessageRejects:
    @pytest.mark.parametrize(
        ("raw_text", "paths"),
        [
            pytest.param("{not json", ["$"], id="not-json"),
            pytest.param("", ["$"], id="empty"),
            pytest.param("[1, 2]", ["$"], id="json-array"),
            pytest.param(
                json.dumps({"target": {"hub": "sdkTestHub", "interactionName": "T1"}}),
                ["$.definition"],
                id="no-definition",
            ),
            pytest.param(
                json.dumps(invalid_example()),
                ["$.definition.fields[1].fieldType"],
                id="unknown-field-type",
            ),
        ],
    )
    def test_dead_letter_record_keeps_text_and_reasons(
        self, raw_text: str, paths: list[str]
    ) -> None:
        """The record holds the original text, each reason with its path, source and message id."""
        before = datetime.now(UTC)
        record = reject(raw_text).record
        after = datetime.now(UTC)
        assert record["message"] == raw_text
        assert [reason["path"] for reason in record["reasons"]] == paths
        assert all(reason["message"] and reason["code"] for reason in record["reasons"])
        assert (record["schemaVersion"], record["source"], record["messageId"]) == (
            1,
            "queue",
            "msg-1",
        )
        assert before <= datetime.fromisoformat(record["rejectedAt"]) <= after

    def test_record_is_json(self) -> None:
        """The dead-letter record can be written to a queue as JSON text."""
        record = reject(json.dumps(invalid_example())).record
        assert json.loads(json.dumps(record)) == record

    def test_decoded_payload_is_validated_instead_of_the_text(self) -> None:
        """When the transport decoded the JSON, that payload is checked and the text kept as is."""
        raw_text = "original event text"
        rejection = reject(raw_text, invalid_example(), source="eventgrid")
        assert rejection.record["message"] == raw_text
        assert rejection.record["source"] == "eventgrid"
        assert rejection.event.data.request_id == "req-1"
        assert rejection.event.data.source == "eventgrid"

    def test_event_announces_the_rejection_with_every_reason(self) -> None:
        """The Rejected event lists the same problems and names the salvaged target and id."""
        rejection = reject(json.dumps(invalid_example()))
        event = rejection.event
        assert event.event_type == "CustomerInsights.InteractionType.ProvisioningRejected"
        assert event.subject == "hubs/sdkTestHub/interactions/TestProfileType396"
        data = event.data.model_dump(mode="json", by_alias=True)
        assert data["problems"] == rejection.record["reasons"]
        assert (data["outcome"], data["requestId"], data["resourceId"]) == (
            "Rejected",
            "req-1",
            target().resource_path,
        )
        assert data["completedAt"] == event.event_time.isoformat().replace("+00:00", "Z")
        assert event.event_time == datetime.fromisoformat(rejection.record["rejectedAt"])

    def test_unreadable_message_is_rejected_under_the_fallback_subject(self) -> None:
        """Text that is not JSON still gives a Rejected event, without a target."""
        event = reject("{not json").event
        assert event.subject == "interactions/rejected"
        assert (event.data.hub, event.data.request_id) == (None, None)

    def test_event_id_is_stable_for_one_message(self) -> None:
        """A redelivered message is rejected under the same event id, which is a UUID."""
        first = reject("{not json", message_id="msg-1").event.id
        again = reject("{not json", message_id="msg-1").event.id
        assert first == again == rejection_event_id("queue", "msg-1", "{not json")
        assert uuid.UUID(first).version == 5

    @pytest.mark.parametrize("delivery_id", ["", "msg-1"], ids=["no-id", "same-id"])
    def test_event_id_differs_between_contents(self, delivery_id: str) -> None:
        """Deliveries sharing an id (or having none) but not their content get distinct ids."""
        first = reject("{not json", message_id=delivery_id, source="eventgrid").event.id
        other = reject("{not json either", message_id=delivery_id, source="eventgrid").event.id
        assert first != other

    @pytest.mark.parametrize(
        ("other_id", "other_source"),
        [("msg-2", "queue"), ("msg-1", "eventgrid")],
        ids=["other-message-id", "other-source"],
    )
    def test_event_id_differs_between_messages(self, other_id: str, other_source: Source) -> None:
        """Different messages, or the same id from another source, get different event ids."""
        first = reject("{not json", message_id="msg-1", source="queue").event.id
        other = reject("{not json", message_id=other_id, source=other_source).event.id
        assert first != other

    @pytest.mark.parametrize(
        "raw_text",
        [
            pytest.param(json.dumps({"junk": "x" * 200_000}), id="200KB-one-reason"),
            pytest.param(json.dumps({"junk": "\u00e9\u4e2d" * 40_000}), id="non-ascii"),
            pytest.param(json.dumps(_many_bad_fields(20_000)), id="20000-bad-fields"),
        ],
    )
    def test_oversized_record_fits_one_queue_message(self, raw_text: str) -> None:
        """The record, base64-encoded as the queue binding stores it, stays within 64 KiB."""
        record = reject(raw_text).record
        stored = base64.b64encode(json.dumps(record).encode("utf-8"))
        assert len(stored) <= QUEUE_MESSAGE_LIMIT
        raw = raw_text.encode("utf-8")
        assert record["messageBytes"] == len(raw)
        assert record["messageSha256"] == hashlib.sha256(raw).hexdigest()
        assert raw_text.startswith(record["message"])
        assert len(record["message"]) > 10_000  # the head fills what the reasons leave
        assert record["reasons"]
        assert record["reasonCount"] >= len(record["reasons"])
        assert record["messageId"] == "msg-1"

    def test_record_that_fits_is_kept_whole(self) -> None:
        """A record under the limit has the whole text and no size or hash fields."""
        record = reject(json.dumps(invalid_example())).record
        assert "messageSha256" not in record
        assert "reasonCount" not in record

    def test_deeply_nested_text_is_rejected(self) -> None:
        """Text nested too deeply to read is dead-lettered, not left to crash the trigger."""
        rejection = reject("[" * 100_000)
        assert rejection.record["reasons"][0]["code"] == "invalid_json"
