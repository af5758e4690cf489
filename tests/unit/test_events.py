"""The completion and rejection events, and their Event Grid output binding value."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import azure.functions as func
import pytest
from azure.functions.eventgrid import EventGridEventOutConverter

from shared.arm_reply import ArmError
from shared.events import (
    REJECTED,
    CompletionEvent,
    EventOutcome,
    completion_event,
    event_type,
    rejection_event,
)
from shared.models import Target
from shared.operation import OperationInput, OperationResult, OperationStatus, Source
from shared.problems import MAX_LISTED_PROBLEMS, Problem
from tests.examples import DOC_RESOURCE_GROUP as RESOURCE_GROUP
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION
from tests.examples import T0, operation_input

T_END = T0 + timedelta(minutes=2, seconds=3, milliseconds=456)
RESOURCE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    "/providers/Microsoft.CustomerInsights/hubs/sdkTestHub/interactions/TestProfileType396"
)
PROBLEMS = (
    Problem(path="$.target.hub", message="must be 2 to 64 letters", code="invalid_hub_name"),
    Problem(path="$.definition", message="is required", code="missing"),
)
ERROR = ArmError(
    code="BadRequest",
    message="The field is invalid.",
    target="fields",
    details=[ArmError(code="InvalidField", message="inner", status=400)],
    status=400,
)

TERMINAL = {
    OperationStatus.SUCCEEDED: "CustomerInsights.InteractionType.ProvisioningSucceeded",
    OperationStatus.FAILED: "CustomerInsights.InteractionType.ProvisioningFailed",
    OperationStatus.TIMED_OUT: "CustomerInsights.InteractionType.ProvisioningTimedOut",
    OperationStatus.CANCELED: "CustomerInsights.InteractionType.ProvisioningCanceled",
}


def operation(request_id: str | None = "req-1") -> OperationInput:
    """The operation for examples/interaction.json, submitted at T0 from the queue."""
    return operation_input(request_id=request_id)


def result(
    status: OperationStatus, *, completed_at: datetime = T_END, error: ArmError | None = None
) -> OperationResult:
    """How the example operation ended."""
    return OperationResult(
        status=status,
        provisioning_state="Failed" if error else "Succeeded",
        error=error,
        polls=6,
        completed_at=completed_at,
        event_id="evt-1",
    )


def data_json(event: CompletionEvent) -> dict[str, Any]:
    """The event's data as it goes on the wire."""
    return event.data.model_dump(mode="json", by_alias=True)


class TestEventType:
    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            *[pytest.param(status, name, id=status.value) for status, name in TERMINAL.items()],
            pytest.param(
                REJECTED,
                "CustomerInsights.InteractionType.ProvisioningRejected",
                id="Rejected",
            ),
        ],
    )
    def test_type_names_the_outcome(self, status: EventOutcome, expected: str) -> None:
        """The event type is CustomerInsights.InteractionType.Provisioning<Outcome>."""
        assert event_type(status) == expected


class TestCompletionEvent:
    @pytest.mark.parametrize(
        ("status", "expected"),
        [pytest.param(status, name, id=status.value) for status, name in TERMINAL.items()],
    )
    def test_type_follows_the_result(self, status: OperationStatus, expected: str) -> None:
        """Each terminal status gives its own event type and the same outcome in the data."""
        event = completion_event(operation(), result(status))
        assert event.event_type == expected
        assert event.data.outcome is status

    def test_envelope_identifies_the_interaction_and_the_end(self) -> None:
        """Id is the result's event id, subject names hub and interaction, time is the end."""
        event = completion_event(operation(), result(OperationStatus.SUCCEEDED))
        assert event.id == "evt-1"
        assert event.subject == "hubs/sdkTestHub/interactions/TestProfileType396"
        assert event.event_time == T_END
        assert event.data_version == "1.0"

    def test_data_carries_every_field_in_camel_case(self) -> None:
        """The data names operation, resource, outcome and timing, all by camelCase key."""
        value = operation()
        event = completion_event(value, result(OperationStatus.FAILED, error=ERROR))
        assert data_json(event) == {
            "schemaVersion": 1,
            "operationId": value.operation_id,
            "requestId": "req-1",
            "resourceId": RESOURCE_ID,
            "subscriptionId": SUBSCRIPTION,
            "resourceGroup": RESOURCE_GROUP,
            "hub": "sdkTestHub",
            "interactionName": "TestProfileType396",
            "outcome": "Failed",
            "provisioningState": "Failed",
            "error": ERROR.model_dump(mode="json"),
            "problems": None,
            "problemCount": None,
            "correlationId": "corr-1",
            "source": "queue",
            "submittedAt": "2025-03-01T12:00:00Z",
            "completedAt": "2025-03-01T12:02:03.456000Z",
            "durationSeconds": 123.456,
            "polls": 6,
            "change": None,
            "changes": [],
        }

    def test_success_has_no_error(self) -> None:
        """A succeeded operation's event has a null error."""
        event = completion_event(operation(request_id=None), result(OperationStatus.SUCCEEDED))
        assert data_json(event)["error"] is None
        assert data_json(event)["requestId"] is None

    @pytest.mark.parametrize(
        ("completed_at", "seconds"),
        [
            pytest.param(T0, 0.0, id="instant"),
            pytest.param(T0 + timedelta(microseconds=1_234_567), 1.235, id="rounded-to-ms"),
            pytest.param(T0 - timedelta(seconds=5), 0.0, id="clock-behind-is-zero"),
            pytest.param(T0 + timedelta(hours=2), 7200.0, id="two-hours"),
        ],
    )
    def test_duration_is_non_negative_milliseconds(
        self, completed_at: datetime, seconds: float
    ) -> None:
        """durationSeconds is end minus submission, rounded to ms and never negative."""
        event = completion_event(
            operation(), result(OperationStatus.SUCCEEDED, completed_at=completed_at)
        )
        assert event.data.duration_seconds == seconds


REJECTED_TARGET = Target.model_validate(
    {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": RESOURCE_GROUP,
        "hub": "hub1",
        "interactionName": "WebVisit",
    }
)


def rejection(
    *,
    target: Target | None = REJECTED_TARGET,
    source: Source = "queue",
    request_id: str | None = None,
    problems: tuple[Problem, ...] = PROBLEMS,
    event_id: str = "rej-1",
) -> CompletionEvent:
    """A rejection event received at T0 (by default with a target); tests vary what they check."""
    return rejection_event(
        event_id=event_id,
        problems=problems,
        source=source,
        received_at=T0,
        target=target,
        request_id=request_id,
    )


class TestRejectionEvent:
    def test_without_a_target_the_subject_is_the_fallback(self) -> None:
        """A message whose target is unreadable is announced under interactions/rejected."""
        event = rejection(target=None, source="eventgrid")
        assert event.subject == "interactions/rejected"
        assert event.event_type == "CustomerInsights.InteractionType.ProvisioningRejected"
        assert (event.id, event.event_time) == ("rej-1", T0)
        data = data_json(event)
        for key in ("resourceId", "subscriptionId", "resourceGroup", "hub", "interactionName"):
            assert data[key] is None, key

    def test_with_a_target_the_subject_and_fields_name_it(self) -> None:
        """A salvaged target gives the usual subject and fills the resource fields."""
        target = operation().target
        event = rejection(target=target, request_id="req-7")
        assert event.subject == "hubs/sdkTestHub/interactions/TestProfileType396"
        data = data_json(event)
        assert (data["resourceId"], data["hub"], data["interactionName"]) == (
            RESOURCE_ID,
            "sdkTestHub",
            "TestProfileType396",
        )
        assert (data["subscriptionId"], data["resourceGroup"]) == (SUBSCRIPTION, RESOURCE_GROUP)
        assert data["requestId"] == "req-7"

    def test_data_lists_every_problem_and_no_operation(self) -> None:
        """The rejection carries all problems, outcome Rejected, and no operation or timing."""
        event = rejection(target=None, request_id="req-7")
        data = data_json(event)
        assert data["problems"] == [problem.model_dump() for problem in PROBLEMS]
        assert data["problemCount"] == len(PROBLEMS)
        assert data["outcome"] == "Rejected"
        assert data["operationId"] is None
        assert (data["submittedAt"], data["durationSeconds"], data["polls"]) == (None, None, 0)
        assert data["completedAt"] == "2025-03-01T12:00:00Z"
        assert data["source"] == "queue"

    def test_many_problems_are_capped_with_their_count(self) -> None:
        """60,000 problems make an event of a few KB that names the first ones and the total."""
        many = tuple(
            Problem(path=f"$.fields[{n}].fieldType", message="x" * 1000, code="bad")
            for n in range(60_000)
        )
        event = rejection(target=None, source="eventgrid", problems=many, event_id="rej-2")
        data = data_json(event)
        assert len(data["problems"]) == MAX_LISTED_PROBLEMS
        assert data["problemCount"] == 60_000
        assert data["problems"][0]["path"] == "$.fields[0].fieldType"
        assert len(event.model_dump_json(by_alias=True)) < 64 * 1024


def completion() -> CompletionEvent:
    """A failed completion event with a nested error."""
    return completion_event(operation(), result(OperationStatus.FAILED, error=ERROR))


class TestToOutputEvent:
    @pytest.mark.parametrize("build", [completion, rejection], ids=["completion", "rejection"])
    def test_output_event_fields_match(self, build: Any) -> None:
        """The binding value carries the event's id, subject, type, time, version and data."""
        event: CompletionEvent = build()
        out = event.to_output_event()
        assert isinstance(out, func.EventGridOutputEvent)
        assert (out.id, out.subject, out.event_type, out.data_version) == (
            event.id,
            event.subject,
            event.event_type,
            "1.0",
        )
        assert out.event_time == event.event_time
        assert out.get_json() == data_json(event)

    @pytest.mark.parametrize("build", [completion, rejection], ids=["completion", "rejection"])
    def test_output_data_is_json_serialisable(self, build: Any) -> None:
        """The data holds only JSON types, so it survives json.dumps unchanged."""
        data = build().to_output_event().get_json()
        assert json.loads(json.dumps(data)) == data

    def test_binding_encodes_an_event_grid_schema_event(self) -> None:
        """The Functions Event Grid converter turns the value into Event Grid schema JSON."""
        event = completion()
        datum = EventGridEventOutConverter.encode(event.to_output_event(), expected_type=None)
        assert datum is not None
        encoded = json.loads(datum.value)
        assert encoded == {
            "id": "evt-1",
            "subject": "hubs/sdkTestHub/interactions/TestProfileType396",
            "dataVersion": "1.0",
            "eventType": "CustomerInsights.InteractionType.ProvisioningFailed",
            "data": data_json(event),
            "eventTime": T_END.isoformat(),
        }
        assert encoded["data"]["error"]["details"][0]["code"] == "InvalidField"
