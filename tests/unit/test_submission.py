"""The idempotency table: start, attach to the existing operation, or conflict."""

from __future__ import annotations

import pytest

from shared.errors import ConflictError
from shared.models import ProvisioningRequest
from shared.operation import OperationInput, OperationStatus, OperationView
from shared.submission import Decision, decide
from tests.examples import doc_example, doc_request, operation_input

RUNNING = [OperationStatus.ACCEPTED, OperationStatus.RUNNING]
FAILED_ENDS = [OperationStatus.FAILED, OperationStatus.TIMED_OUT, OperationStatus.CANCELED]
TERMINAL = [OperationStatus.SUCCEEDED, *FAILED_ENDS]


def request(request_id: str | None, *, other_definition: bool = False) -> ProvisioningRequest:
    """The examples/interaction.json request, optionally with a changed definition."""
    data = doc_example()
    if request_id is not None:
        data["requestId"] = request_id
    if other_definition:
        data["definition"]["apiEntitySetName"] = "SomethingElse"
    return doc_request(data)


def existing(request_id: str | None) -> OperationInput:
    """The operation an earlier request for the example's definition started."""
    return operation_input(
        request(request_id), request_id=request_id, correlation_id="corr-0", source="http"
    )


def decision(
    status: OperationStatus | None,
    *,
    existing_id: str | None = "req-1",
    new_id: str | None = "req-1",
    other_definition: bool = False,
) -> Decision:
    """decide() for a new request against an existing operation in `status`."""
    new = request(new_id, other_definition=other_definition)
    return decide(new, new.definition_hash(), existing(existing_id), status)


def ids(statuses: list[OperationStatus]) -> list[str]:
    """Readable parametrize ids for statuses."""
    return [status.value for status in statuses]


class TestDecide:
    def test_example_definitions_hash_differently_when_changed(self) -> None:
        """The "other definition" used below really has another hash (guards the table)."""
        assert (
            request(None).definition_hash()
            != request(None, other_definition=True).definition_hash()
        )

    @pytest.mark.parametrize("other_definition", [False, True], ids=["same-def", "other-def"])
    def test_no_existing_operation_starts(self, other_definition: bool) -> None:
        """With no operation for the resource, a new one is started."""
        new = request("req-1", other_definition=other_definition)
        assert decide(new, new.definition_hash(), None, None) is Decision.START

    def test_existing_input_without_status_starts(self) -> None:
        """An operation whose status is unknown counts as no operation."""
        new = request("req-1")
        assert decide(new, new.definition_hash(), existing("req-1"), None) is Decision.START

    @pytest.mark.parametrize("status", RUNNING, ids=ids(RUNNING))
    @pytest.mark.parametrize(
        ("existing_id", "new_id"),
        [("req-1", "req-2"), (None, None), ("req-1", None)],
        ids=["other-request-id", "no-request-ids", "new-has-no-request-id"],
    )
    def test_running_with_same_definition_attaches(
        self, status: OperationStatus, existing_id: str | None, new_id: str | None
    ) -> None:
        """The same definition while the operation runs attaches to it, whatever the request id."""
        assert decision(status, existing_id=existing_id, new_id=new_id) is Decision.EXISTING

    @pytest.mark.parametrize("status", RUNNING, ids=ids(RUNNING))
    def test_running_with_same_request_id_but_other_definition_is_refused(
        self, status: OperationStatus
    ) -> None:
        """A request id reused for another definition is refused, not attached or applied."""
        assert decision(status, other_definition=True) is Decision.REQUEST_ID_REUSED

    @pytest.mark.parametrize("status", RUNNING, ids=ids(RUNNING))
    @pytest.mark.parametrize(
        ("existing_id", "new_id"),
        [("req-1", "req-2"), (None, None), (None, "req-1"), ("req-1", None)],
        ids=["other-request-id", "no-request-ids", "only-new-has-id", "only-existing-has-id"],
    )
    def test_running_with_other_definition_conflicts(
        self, status: OperationStatus, existing_id: str | None, new_id: str | None
    ) -> None:
        """Another definition for a resource whose operation still runs is a conflict."""
        assert (
            decision(status, existing_id=existing_id, new_id=new_id, other_definition=True)
            is Decision.CONFLICT
        )

    @pytest.mark.parametrize("status", TERMINAL, ids=ids(TERMINAL))
    def test_finished_with_same_request_id_attaches(self, status: OperationStatus) -> None:
        """A request id seen before gets the finished operation back, not a new run."""
        assert decision(status) is Decision.EXISTING

    @pytest.mark.parametrize("status", TERMINAL, ids=ids(TERMINAL))
    def test_finished_with_same_request_id_but_other_definition_is_refused(
        self, status: OperationStatus
    ) -> None:
        """Reusing a finished request's id for another definition is refused."""
        assert decision(status, other_definition=True) is Decision.REQUEST_ID_REUSED

    @pytest.mark.parametrize(
        ("existing_id", "new_id"),
        [("req-1", "req-2"), (None, None), (None, "req-2")],
        ids=["new-request-id", "no-request-ids", "only-new-has-id"],
    )
    def test_succeeded_with_same_definition_starts_again_to_converge(
        self, existing_id: str | None, new_id: str | None
    ) -> None:
        """A new request after a success starts again: its read puts back any drift."""
        assert (
            decision(OperationStatus.SUCCEEDED, existing_id=existing_id, new_id=new_id)
            is Decision.START
        )

    @pytest.mark.parametrize("status", [*RUNNING, *TERMINAL], ids=ids([*RUNNING, *TERMINAL]))
    @pytest.mark.parametrize("other_definition", [False, True], ids=["same-def", "other-def"])
    def test_redelivery_gets_its_operation_in_any_state(
        self, status: OperationStatus, other_definition: bool
    ) -> None:
        """The same queue message or event again is the same request, whatever it carries."""
        earlier = existing(None).model_copy(update={"delivery_id": "queue:m-1", "source": "queue"})
        new = request(None, other_definition=other_definition)
        assert decide(new, new.definition_hash(), earlier, status, "queue:m-1") is Decision.EXISTING
        assert decide(new, new.definition_hash(), earlier, status, "queue:m-2") in (
            Decision.START,
            Decision.EXISTING,
            Decision.CONFLICT,
        )

    @pytest.mark.parametrize("status", [*RUNNING, *TERMINAL], ids=ids([*RUNNING, *TERMINAL]))
    def test_same_idempotency_key_gets_its_operation_in_any_state(
        self, status: OperationStatus
    ) -> None:
        """The same Idempotency-Key with the same definition is the same request."""
        earlier = existing(None).model_copy(update={"delivery_id": "http:k-1"})
        new = request(None)
        assert decide(new, new.definition_hash(), earlier, status, "http:k-1") is Decision.EXISTING

    @pytest.mark.parametrize("status", [*RUNNING, *TERMINAL], ids=ids([*RUNNING, *TERMINAL]))
    @pytest.mark.parametrize("request_id", [None, "req-1"], ids=["no-request-id", "request-id"])
    def test_idempotency_key_reused_for_other_definition_is_refused(
        self, status: OperationStatus, request_id: str | None
    ) -> None:
        """An Idempotency-Key names one definition, as a requestId does: another is refused."""
        earlier = existing(request_id).model_copy(update={"delivery_id": "http:k-1"})
        new = request(request_id, other_definition=True)
        assert (
            decide(new, new.definition_hash(), earlier, status, "http:k-1")
            is Decision.IDEMPOTENCY_KEY_REUSED
        )

    @pytest.mark.parametrize("status", FAILED_ENDS, ids=ids(FAILED_ENDS))
    @pytest.mark.parametrize(
        ("existing_id", "new_id"),
        [("req-1", "req-2"), (None, None), ("req-1", None)],
        ids=["new-request-id", "no-request-ids", "new-has-no-request-id"],
    )
    def test_unsuccessful_end_with_same_definition_is_retried(
        self, status: OperationStatus, existing_id: str | None, new_id: str | None
    ) -> None:
        """After Failed, TimedOut or Canceled, the same definition under a new request restarts."""
        assert decision(status, existing_id=existing_id, new_id=new_id) is Decision.START

    @pytest.mark.parametrize("status", TERMINAL, ids=ids(TERMINAL))
    @pytest.mark.parametrize(
        ("existing_id", "new_id"),
        [("req-1", "req-2"), (None, None)],
        ids=["new-request-id", "no-request-ids"],
    )
    def test_finished_with_other_definition_starts(
        self, status: OperationStatus, existing_id: str | None, new_id: str | None
    ) -> None:
        """A new definition for a resource whose operation has ended starts a new operation."""
        assert (
            decision(status, existing_id=existing_id, new_id=new_id, other_definition=True)
            is Decision.START
        )


class TestConflictError:
    def test_message_names_operation_resource_and_status(self) -> None:
        """The conflict says which operation, for which resource, is still in which state."""
        operation = existing("req-1")
        view = OperationView.build(
            runtime_status="Running",
            operation=operation,
            custom_status=None,
            output=None,
            last_updated_at=None,
        )
        error = ConflictError(view)
        assert error.view is view
        assert str(error) == (
            f"operation {operation.operation_id} for {operation.target.resource_path} "
            "is still Accepted"
        )
