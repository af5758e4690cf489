"""The completion event: one per operation (or per rejected message), built here as pure data."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import AwareDatetime

from shared.convergence import Change
from shared.lro import OutcomeError
from shared.models import Target
from shared.names import EVENT_TYPE_PREFIX
from shared.operation import CamelModel, OperationInput, OperationResult, OperationStatus, Source
from shared.problems import Problem, listed

if TYPE_CHECKING:
    import azure.functions as func

DATA_VERSION = "1.0"
REJECTED_SUBJECT = "interactions/rejected"
# A rejected message never became an operation, so its outcome is not an OperationStatus.
REJECTED: Final = "Rejected"
EventOutcome = OperationStatus | Literal["Rejected"]


class CompletionData(CamelModel):
    """The `data` of a completion event."""

    schema_version: Literal[1] = 1
    operation_id: str | None
    request_id: str | None
    resource_id: str | None
    subscription_id: str | None
    resource_group: str | None
    hub: str | None
    interaction_name: str | None
    outcome: EventOutcome
    provisioning_state: str | None = None
    error: OutcomeError | None = None
    problems: list[Problem] | None = None
    problem_count: int | None = None
    correlation_id: str | None = None
    source: Source
    submitted_at: AwareDatetime | None = None
    completed_at: AwareDatetime
    duration_seconds: float | None = None
    polls: int = 0
    change: Change | None = None
    changes: list[str] | None = None


class CompletionEvent(CamelModel):
    """An Event Grid schema event announcing how an operation ended."""

    id: str
    subject: str
    event_type: str
    event_time: AwareDatetime
    data_version: str = DATA_VERSION
    data: CompletionData

    def to_output_event(self) -> func.EventGridOutputEvent:
        """The value for an Event Grid output binding."""
        import azure.functions as func

        return func.EventGridOutputEvent(
            id=self.id,
            subject=self.subject,
            event_type=self.event_type,
            event_time=self.event_time,
            data_version=self.data_version,
            data=self.data.model_dump(mode="json", by_alias=True),
        )


def event_type(outcome: EventOutcome) -> str:
    """`CustomerInsights.InteractionType.Provisioning<Outcome>`."""
    return f"{EVENT_TYPE_PREFIX}Provisioning{outcome}"


def _target_fields(target: Target | None) -> dict[str, Any]:
    if target is None:
        return dict.fromkeys(
            ("resource_id", "subscription_id", "resource_group", "hub", "interaction_name")
        )
    return {
        "resource_id": target.resource_path,
        "subscription_id": target.subscription_id,
        "resource_group": target.resource_group,
        "hub": target.hub,
        "interaction_name": target.interaction_name,
    }


def completion_event(operation: OperationInput, result: OperationResult) -> CompletionEvent:
    """The event for an operation that ran to an end."""
    duration = (result.completed_at - operation.submitted_at).total_seconds()
    return CompletionEvent(
        id=result.event_id,
        subject=operation.target.subject,
        event_type=event_type(result.status),
        event_time=result.completed_at,
        data=CompletionData(
            operation_id=operation.operation_id,
            request_id=operation.request_id,
            **_target_fields(operation.target),
            outcome=result.status,
            provisioning_state=result.provisioning_state,
            error=result.error,
            correlation_id=operation.correlation_id,
            source=operation.source,
            submitted_at=operation.submitted_at,
            completed_at=result.completed_at,
            duration_seconds=round(max(duration, 0.0), 3),
            polls=result.polls,
            change=result.change,
            changes=result.changes,
        ),
    )


def rejection_event_id(source: Source, delivery_id: str, content: str) -> str:
    """The id of the rejection event for one delivery: its message or event id and its content.

    A redelivery (same id, same content) keeps its id, so subscribers can drop the duplicate;
    deliveries that share an id (or have none) but differ in content get distinct ids.
    """
    digest = hashlib.sha256(content.encode("utf-8", errors="replace")).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rejected:{source}:{delivery_id}:{digest}"))


def rejection_event(
    *,
    event_id: str,
    problems: tuple[Problem, ...],
    source: Source,
    received_at: datetime,
    target: Target | None,
    request_id: str | None,
) -> CompletionEvent:
    """The event for a message that was dead-lettered instead of started."""
    return CompletionEvent(
        id=event_id,
        subject=target.subject if target is not None else REJECTED_SUBJECT,
        event_type=event_type(REJECTED),
        event_time=received_at,
        data=CompletionData(
            operation_id=None,
            request_id=request_id,
            **_target_fields(target),
            outcome=REJECTED,
            # An Event Grid event is at most 1 MB, and a subscriber reads the reasons, not 60,000
            # of them: the dead-letter record keeps what fits of the rest (problems.fit_to_queue).
            problems=listed(problems),
            problem_count=len(problems),
            source=source,
            completed_at=received_at,
        ),
    )
