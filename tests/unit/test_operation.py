"""One operation's durable input, polling policy, result and the status view callers see."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shared import lro
from shared.arm_reply import ArmError
from shared.errors import AppError
from shared.lro import Finish, Outcome, PollingPolicy
from shared.models import ProvisioningRequest, Target
from shared.operation import (
    OUTCOME_STATUS,
    OperationInput,
    OperationProgress,
    OperationResult,
    OperationStatus,
    OperationView,
    _policy,
    is_operation_id,
    operation_id_for,
)
from shared.settings import Settings
from tests.examples import DOC_RESOURCE_GROUP as RESOURCE_GROUP
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION
from tests.examples import T0, doc_request, operation_input

SETTINGS = Settings.from_environ(
    {
        "ARM_ENDPOINT": "http://127.0.0.1:10100",
        "DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION,
        "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP,
        "OPERATION_DEADLINE_SECONDS": "900",
        "POLLS_PER_GENERATION": "7",
        "POLL_MIN_INTERVAL_SECONDS": "1",
        "POLL_DEFAULT_INTERVAL_SECONDS": "2",
    }
)


def target(**changes: str) -> Target:
    """The example's target with some parts replaced (keys are wire names)."""
    wire = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": RESOURCE_GROUP,
        "hub": "sdkTestHub",
        "interactionName": "TestProfileType396",
    }
    return Target.model_validate(wire | changes)


def example_request() -> ProvisioningRequest:
    """examples/interaction.json, with subscription and resource group from the settings."""
    return doc_request()


def operation(request_id: str | None = "req-1") -> OperationInput:
    """The operation input for the example request."""
    return operation_input(request_id=request_id, settings=SETTINGS)


def round_trip(value: OperationInput) -> OperationInput:
    """Through JSON as durable input is stored: dumped by alias, encoded, decoded, validated."""
    text = json.dumps(value.model_dump(mode="json", by_alias=True))
    return OperationInput.model_validate(json.loads(text))


class TestOperationIdFor:
    def test_same_target_gives_the_same_id(self) -> None:
        """The id is a pure function of the target, so a redelivery finds the same operation."""
        assert operation_id_for(target()) == operation_id_for(target())

    def test_id_is_a_prefixed_hex_digest(self) -> None:
        """The id is `ci-` and 32 lower-case hex digits, valid as a durable instance id."""
        value = operation_id_for(target())
        assert value.startswith("ci-")
        assert len(value) == 35
        assert set(value[3:]) <= set("0123456789abcdef")

    @pytest.mark.parametrize(
        "changes",
        [
            pytest.param({"subscriptionId": SUBSCRIPTION.upper()}, id="subscription-upper"),
            pytest.param({"resourceGroup": RESOURCE_GROUP.lower()}, id="resource-group-lower"),
            pytest.param({"hub": "SDKTESTHUB"}, id="hub-upper"),
            pytest.param({"interactionName": "testprofiletype396"}, id="name-lower"),
        ],
    )
    def test_casing_of_the_resource_id_does_not_matter(self, changes: dict[str, str]) -> None:
        """Two spellings of one resource, differing only in case, share one operation id."""
        assert operation_id_for(target(**changes)) == operation_id_for(target())

    @pytest.mark.parametrize(
        "changes",
        [
            pytest.param(
                {"subscriptionId": "00000000-1111-2222-3333-444444444444"}, id="subscription"
            ),
            pytest.param({"resourceGroup": "OtherRG"}, id="resource-group"),
            pytest.param({"hub": "otherHub"}, id="hub"),
            pytest.param({"interactionName": "OtherType"}, id="interaction-name"),
        ],
    )
    def test_different_resources_get_different_ids(self, changes: dict[str, str]) -> None:
        """Changing any part of the resource id gives another operation id."""
        assert operation_id_for(target(**changes)) != operation_id_for(target())


class TestOperationInputCreate:
    def test_captures_the_request(self) -> None:
        """The input holds the target, body, hash, ids, source and submission time as given."""
        request = example_request()
        value = operation()
        assert value.operation_id == operation_id_for(request.target)
        assert value.target == request.target
        assert value.arm_body == request.definition.to_arm_body()
        assert value.definition_hash == request.definition_hash()
        assert (value.request_id, value.correlation_id, value.source) == (
            "req-1",
            "corr-1",
            "queue",
        )
        assert value.submitted_at == T0

    def test_fixes_the_settings_that_shape_the_loop(self) -> None:
        """Endpoint, deadline, generation size and policy are copied from the settings."""
        value = operation()
        assert value.arm_endpoint == "http://127.0.0.1:10100"
        assert value.deadline_seconds == 900
        assert value.polls_per_generation == 7
        assert value.policy == _policy(SETTINGS)

    def test_starts_at_generation_zero_without_lro_state(self) -> None:
        """A new operation has not polled yet: generation 0 and no LRO state."""
        value = operation()
        assert (value.generation, value.lro, value.schema_version) == (0, None, 1)

    def test_wire_keys_are_camel_case(self) -> None:
        """The durable input uses camelCase keys, like every other JSON the app writes."""
        keys = set(operation().model_dump(mode="json", by_alias=True))
        assert {"operationId", "requestId", "definitionHash", "armBody", "submittedAt"} <= keys
        assert "operation_id" not in keys

    def test_log_context_names_operation_and_correlation(self) -> None:
        """Log lines about the operation carry its id and correlation id."""
        value = operation()
        assert value.log_context == f"[operation={value.operation_id} correlation=corr-1]"

    @pytest.mark.parametrize(
        "request_id", [pytest.param("req-1", id="with-request-id"), pytest.param(None, id="none")]
    )
    def test_json_round_trip_gives_an_equal_input(self, request_id: str | None) -> None:
        """Input dumped to JSON and validated again equals the original."""
        value = operation(request_id)
        assert round_trip(value) == value

    def test_json_round_trip_keeps_lro_state(self) -> None:
        """Input carried through continue_as_new with LRO state and a generation survives JSON."""
        value = operation()
        state = lro.start(
            arm_endpoint=value.arm_endpoint,
            resource_path=value.target.resource_path,
            now=T0,
            time_limit=timedelta(seconds=value.deadline_seconds),
            policy=value.policy,
        )
        state = state.model_copy(
            update={"polls": 3, "last_retry_after": timedelta(seconds=1.5), "request_id": "arm-1"}
        )
        carried = value.model_copy(update={"lro": state, "generation": 2})
        again = round_trip(carried)
        assert again == carried
        assert again.lro is not None
        assert again.lro.deadline == T0 + timedelta(seconds=900)


class TestPolicy:
    @pytest.mark.parametrize(
        ("environ", "min_wait", "default_wait", "backoff_base"),
        [
            pytest.param({}, 10, 60, 10, id="production-defaults"),
            pytest.param(
                {"POLL_MIN_INTERVAL_SECONDS": "1", "POLL_DEFAULT_INTERVAL_SECONDS": "2"},
                1,
                2,
                2,
                id="local-1s-2s",
            ),
            pytest.param(
                {"POLL_MIN_INTERVAL_SECONDS": "0", "POLL_DEFAULT_INTERVAL_SECONDS": "0.1"},
                0,
                0.1,
                0.1,
                id="fastest-allowed",
            ),
            pytest.param(
                {"POLL_MIN_INTERVAL_SECONDS": "30", "POLL_DEFAULT_INTERVAL_SECONDS": "20"},
                20,
                20,
                10,
                id="min-above-default-is-capped",
            ),
            pytest.param(
                {"POLL_MIN_INTERVAL_SECONDS": "300", "POLL_DEFAULT_INTERVAL_SECONDS": "300"},
                300,
                300,
                10,
                id="slowest-allowed",
            ),
        ],
    )
    def test_settings_give_a_valid_policy(
        self, environ: dict[str, str], min_wait: float, default_wait: float, backoff_base: float
    ) -> None:
        """Every allowed pair of poll intervals yields an ordered policy with these waits."""
        policy = _policy(Settings.from_environ(environ))
        assert (policy.min_wait, policy.default_wait, policy.backoff_base) == (
            timedelta(seconds=min_wait),
            timedelta(seconds=default_wait),
            timedelta(seconds=backoff_base),
        )

    def test_production_policy_is_the_rpc_default(self) -> None:
        """With default settings the policy equals PollingPolicy's production defaults."""
        assert _policy(Settings.from_environ({})) == PollingPolicy()

    def test_local_policy_starts_an_lro(self) -> None:
        """The fast local policy is accepted by the polling logic itself."""
        state = lro.start(
            arm_endpoint=SETTINGS.arm_endpoint,
            resource_path=target().resource_path,
            now=T0,
            time_limit=timedelta(seconds=60),
            policy=_policy(SETTINGS),
        )
        assert state.policy.default_wait == timedelta(seconds=2)


class TestOperationResultFromFinish:
    def test_every_outcome_has_a_status(self) -> None:
        """The outcome table covers every lro.Outcome."""
        assert set(OUTCOME_STATUS) == set(Outcome)

    def test_every_status_is_one_an_operation_can_have(self) -> None:
        """Accepted and Running while it runs, else an outcome's status: no status is unused."""
        running = {OperationStatus.ACCEPTED, OperationStatus.RUNNING}
        assert set(OperationStatus) == running | set(OUTCOME_STATUS.values())
        assert not any(status.is_terminal for status in running)

    @pytest.mark.parametrize(
        ("outcome", "status"),
        [
            pytest.param(Outcome.SUCCEEDED, OperationStatus.SUCCEEDED, id="succeeded"),
            pytest.param(Outcome.FAILED, OperationStatus.FAILED, id="failed"),
            pytest.param(Outcome.TIMED_OUT, OperationStatus.TIMED_OUT, id="timed-out"),
            pytest.param(Outcome.CANCELED, OperationStatus.CANCELED, id="canceled"),
        ],
    )
    def test_outcome_maps_to_its_status(self, outcome: Outcome, status: OperationStatus) -> None:
        """Each way the LRO can end becomes the matching terminal operation status."""
        error = None if outcome is Outcome.SUCCEEDED else ArmError(code="X", message="why")
        finish = Finish(outcome=outcome, provisioning_state="Provisioning", error=error)
        result = OperationResult.from_finish(
            finish, polls=4, completed_at=T0 + timedelta(minutes=3), event_id="evt-1"
        )
        assert result.status is status
        assert status.is_terminal
        assert (result.provisioning_state, result.error, result.polls, result.event_id) == (
            "Provisioning",
            error,
            4,
            "evt-1",
        )
        assert result.completed_at == T0 + timedelta(minutes=3)

    def test_result_survives_json(self) -> None:
        """The orchestration output dumped by alias validates back to an equal result."""
        finish = Finish(
            outcome=Outcome.FAILED,
            provisioning_state="Failed",
            error=ArmError(code="Bad", message="m", details=[ArmError(code="Inner", message="i")]),
        )
        result = OperationResult.from_finish(finish, polls=1, completed_at=T0, event_id="e")
        dumped = json.loads(json.dumps(result.model_dump(mode="json", by_alias=True)))
        assert "completedAt" in dumped
        assert OperationResult.model_validate(dumped) == result


class TestOperationStatus:
    @pytest.mark.parametrize(
        ("status", "terminal"),
        [(status, status not in ("Accepted", "Running")) for status in OperationStatus],
        ids=[status.value for status in OperationStatus],
    )
    def test_only_accepted_and_running_are_not_terminal(
        self, status: OperationStatus, terminal: bool
    ) -> None:
        """Accepted and Running are the only statuses of an operation still under way."""
        assert status.is_terminal is terminal


def progress(**changes: Any) -> dict[str, Any]:
    """A custom status as the orchestrator publishes it (JSON, camelCase)."""
    value = OperationProgress(
        status=OperationStatus.RUNNING,
        provisioning_state="Provisioning",
        polls=3,
        generation=1,
        next_poll_at=T0 + timedelta(seconds=70),
        updated_at=T0 + timedelta(seconds=60),
    )
    return value.model_copy(update=changes).model_dump(mode="json", by_alias=True)


def result_output(status: OperationStatus, error: ArmError | None = None) -> dict[str, Any]:
    """An orchestration output as the orchestrator returns it (JSON, camelCase)."""
    result = OperationResult(
        status=status,
        provisioning_state=status.value,
        error=error,
        polls=5,
        completed_at=T0 + timedelta(minutes=5),
        event_id="evt-9",
    )
    return result.model_dump(mode="json", by_alias=True)


def view(runtime_status: str, custom_status: Any = None, output: Any = None) -> OperationView:
    """The view of the example operation for one durable instance state."""
    return OperationView.build(
        runtime_status=runtime_status,
        operation=operation(),
        custom_status=custom_status,
        output=output,
        last_updated_at=T0 + timedelta(seconds=61),
    )


class TestOperationView:
    def test_common_fields_come_from_the_input(self) -> None:
        """Ids, target, resource id and times are taken from the operation input."""
        value = operation()
        built = view("Running", progress())
        assert built.operation_id == value.operation_id
        assert (built.request_id, built.correlation_id) == ("req-1", "corr-1")
        assert built.target == value.target
        assert built.resource_id == value.target.resource_path
        assert built.submitted_at == T0
        assert built.last_updated_at == T0 + timedelta(seconds=61)

    @pytest.mark.parametrize(
        ("runtime_status", "custom_status"),
        [
            pytest.param("Pending", None, id="pending"),
            pytest.param("Running", None, id="running-no-progress-yet"),
            pytest.param("ContinuedAsNew", None, id="continued-as-new"),
            pytest.param("Running", "starting", id="running-non-object-status"),
        ],
    )
    def test_without_progress_the_operation_is_accepted(
        self, runtime_status: str, custom_status: Any
    ) -> None:
        """Until the orchestrator publishes progress, the operation shows as Accepted."""
        built = view(runtime_status, custom_status)
        assert built.status is OperationStatus.ACCEPTED
        assert (built.provisioning_state, built.polls, built.next_poll_at) == (None, 0, None)
        assert (built.completed_at, built.error) == (None, None)

    @pytest.mark.parametrize("runtime_status", ["Running", "ContinuedAsNew"])
    def test_progress_shows_as_running_with_its_details(self, runtime_status: str) -> None:
        """Published progress gives status Running, provisioningState, polls and nextPollAt."""
        built = view(runtime_status, progress())
        assert built.status is OperationStatus.RUNNING
        assert built.provisioning_state == "Provisioning"
        assert built.polls == 3
        assert built.next_poll_at == T0 + timedelta(seconds=70)
        assert built.completed_at is None

    @pytest.mark.parametrize(
        "status",
        [
            pytest.param(OperationStatus.SUCCEEDED, id="succeeded"),
            pytest.param(OperationStatus.FAILED, id="failed"),
            pytest.param(OperationStatus.TIMED_OUT, id="timed-out"),
            pytest.param(OperationStatus.CANCELED, id="canceled"),
        ],
    )
    def test_completed_shows_the_result(self, status: OperationStatus) -> None:
        """A completed orchestration shows its result's status, polls, error and end time."""
        error = None if status is OperationStatus.SUCCEEDED else ArmError(code="E", message="m")
        built = view("Completed", None, result_output(status, error))
        assert built.status is status
        assert built.provisioning_state == status.value
        assert built.polls == 5
        assert built.error == error
        assert built.completed_at == T0 + timedelta(minutes=5)
        assert built.next_poll_at is None

    def test_completed_result_wins_over_stale_progress(self) -> None:
        """Progress left in the custom status does not hide the final result."""
        built = view("Completed", progress(), result_output(OperationStatus.SUCCEEDED))
        assert built.status is OperationStatus.SUCCEEDED

    @pytest.mark.parametrize("runtime_status", ["Failed", "Terminated", "Canceled"])
    def test_stopped_orchestration_shows_as_failed(self, runtime_status: str) -> None:
        """A failed or terminated orchestration shows Failed, code OrchestrationStopped."""
        built = view(runtime_status, progress())
        assert built.status is OperationStatus.FAILED
        assert built.error is not None
        assert built.error.code == "OrchestrationStopped"
        assert isinstance(built.error, AppError)
        assert runtime_status in built.error.message

    def test_view_is_camel_case_json(self) -> None:
        """The API body uses camelCase keys and ISO times."""
        body = view("Running", progress()).model_dump(mode="json", by_alias=True)
        assert body["operationId"] == operation().operation_id
        assert body["provisioningState"] == "Provisioning"
        assert body["nextPollAt"] == "2025-03-01T12:01:10Z"
        assert body["resourceId"].startswith(f"/subscriptions/{SUBSCRIPTION}/")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ci-" + "0123456789abcdef" * 2, True),
        ("ci-" + "0" * 31, False),
        ("ci-" + "0" * 33, False),
        ("CI-" + "0" * 32, False),
        ("ci-" + "A" * 32, False),
        ("ci-" + "0" * 32 + "\n", False),
        ("ci-" + "0" * 32 + "?x=1", False),
        ("zz/../ci-" + "0" * 32, False),
        ("..", False),
        ("", False),
    ],
)
def test_is_operation_id_accepts_only_what_operation_id_for_makes(
    value: str, expected: bool
) -> None:
    assert is_operation_id(value) is expected
