"""One provisioning operation: its durable input, progress, result, and the status callers see.

The operation id is the durable instance id. It is derived from the normalized resource id,
so there is at most one operation per interaction type at a time and a redelivered request
finds the operation it already started.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

from shared.convergence import Change
from shared.errors import AppCode, AppError
from shared.lro import ArmRequest, Finish, LroState, Outcome, OutcomeError, PollingPolicy
from shared.models import Target
from shared.settings import Settings

Source = Literal["http", "queue", "eventgrid"]


class OperationStatus(StrEnum):
    """An operation's status; a completion event's outcome is a terminal one or REJECTED."""

    ACCEPTED = "Accepted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        """True once the operation has ended and its completion event is due or sent."""
        return self not in (OperationStatus.ACCEPTED, OperationStatus.RUNNING)


OUTCOME_STATUS = {
    Outcome.SUCCEEDED: OperationStatus.SUCCEEDED,
    Outcome.FAILED: OperationStatus.FAILED,
    Outcome.TIMED_OUT: OperationStatus.TIMED_OUT,
    Outcome.CANCELED: OperationStatus.CANCELED,
}


class CamelModel(BaseModel):
    """Frozen, camelCase on the wire: the shape of everything the operation writes out."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)


# The only ids operation_id_for makes. A route value is checked against it before any durable
# call: the durable client puts the instance id into its URL unescaped, so "a/../b" or "x?y"
# would otherwise address another instance.
OPERATION_ID_PATTERN = r"ci-[0-9a-f]{32}"
_OPERATION_ID = re.compile(OPERATION_ID_PATTERN)


def operation_id_for(target: Target) -> str:
    """The durable instance id of the operation for `target` (case-insensitive resource id)."""
    digest = hashlib.sha256(target.normalized_id.encode("utf-8")).hexdigest()
    return f"ci-{digest[:32]}"


def is_operation_id(value: str) -> bool:
    """Whether `value` has the form of an id that operation_id_for makes."""
    return _OPERATION_ID.fullmatch(value) is not None


def log_context(operation_id: str, correlation_id: str | None) -> str:
    """The prefix of every log line about an operation, so its lines can be found together."""
    return f"[operation={operation_id} correlation={correlation_id}]"


class OperationResult(CamelModel):
    """The orchestration output: how the operation ended."""

    status: OperationStatus
    provisioning_state: str | None = None
    error: OutcomeError | None = None
    polls: int = 0
    completed_at: AwareDatetime
    event_id: str
    # False only when Event Grid could not be reached for PUBLISH_PERSISTENCE (see provisioning).
    event_published: bool = True
    change: Change | None = None
    changes: list[str] = Field(default_factory=list)

    @classmethod
    def from_finish(
        cls,
        finish: Finish,
        *,
        polls: int,
        completed_at: datetime,
        event_id: str,
        change: Change | None = None,
        changes: list[str] | None = None,
    ) -> OperationResult:
        """The result for a finished long-running operation."""
        return cls(
            status=OUTCOME_STATUS[finish.outcome],
            provisioning_state=finish.provisioning_state,
            error=finish.error,
            polls=polls,
            completed_at=completed_at,
            event_id=event_id,
            change=change,
            changes=changes or [],
        )

    def reported(self) -> dict[str, Any]:
        """The result's fields that the progress and the status view repeat, by field name."""
        return {name: getattr(self, name) for name in _REPORTED}


_REPORTED = ("status", "provisioning_state", "polls", "completed_at", "error", "change", "changes")


class OperationInput(CamelModel):
    """The orchestration input; continue_as_new carries it forward with `lro` filled in."""

    schema_version: Literal[1] = 1
    operation_id: str
    request_id: str | None
    # The queue message or Event Grid event that carried the request: a redelivery repeats it.
    delivery_id: str | None = None
    correlation_id: str
    source: Source
    target: Target
    arm_body: dict[str, Any]
    definition_hash: str
    submitted_at: AwareDatetime
    arm_endpoint: str
    deadline_seconds: int
    polls_per_generation: int
    policy: PollingPolicy
    generation: int = 0
    lro: LroState | None = None
    # Set once ARM is done: later generations only deliver the completion event.
    result: OperationResult | None = None
    publish_rounds: int = 0
    # PUT even when the definition is already in effect.
    force: bool = False
    # Set by the read before the PUT (shared/convergence.py), carried across generations.
    change: Change | None = None
    changes: list[str] = Field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        target: Target,
        arm_body: dict[str, Any],
        definition_hash: str,
        request_id: str | None,
        correlation_id: str,
        source: Source,
        submitted_at: datetime,
        settings: Settings,
        delivery_id: str | None = None,
        force: bool = False,
    ) -> OperationInput:
        """Capture the request and the settings that shape its loop, fixed for its lifetime."""
        return cls(
            operation_id=operation_id_for(target),
            request_id=request_id,
            delivery_id=delivery_id,
            force=force,
            correlation_id=correlation_id,
            source=source,
            target=target,
            arm_body=arm_body,
            definition_hash=definition_hash,
            submitted_at=submitted_at,
            arm_endpoint=settings.arm_endpoint,
            deadline_seconds=settings.operation_deadline_seconds,
            polls_per_generation=settings.polls_per_generation,
            policy=_policy(settings),
        )

    @property
    def log_context(self) -> str:
        """The prefix every log line about this operation carries."""
        return log_context(self.operation_id, self.correlation_id)


class ArmCall(CamelModel):
    """The input of the ARM activities: one request, on behalf of one operation."""

    schema_version: Literal[1] = 1
    operation_id: str
    correlation_id: str
    request: ArmRequest
    body: dict[str, Any] | None = None

    @property
    def log_context(self) -> str:
        """The prefix every log line about this operation carries."""
        return log_context(self.operation_id, self.correlation_id)


def _policy(settings: Settings) -> PollingPolicy:
    min_wait = timedelta(seconds=settings.poll_min_interval_seconds)
    default_wait = timedelta(seconds=settings.poll_default_interval_seconds)
    # Transient-failure backoff starts at the production 10 s, or sooner when polling is set
    # faster than that (local runs), so retries never lag behind regular polls.
    backoff_base = min(timedelta(seconds=10), default_wait)
    return PollingPolicy(
        min_wait=min(min_wait, default_wait),
        default_wait=default_wait,
        backoff_base=backoff_base,
    )


class OperationProgress(CamelModel):
    """What the orchestrator publishes as custom status while it runs."""

    status: OperationStatus
    provisioning_state: str | None = None
    polls: int = 0
    generation: int = 0
    next_poll_at: AwareDatetime | None = None
    updated_at: AwareDatetime
    arm_request_id: str | None = None
    writes_remaining: int | None = None
    reads_remaining: int | None = None
    # Set once the outcome is known, while the completion event is being delivered.
    completed_at: AwareDatetime | None = None
    error: OutcomeError | None = None
    change: Change | None = None
    changes: list[str] = Field(default_factory=list)

    @classmethod
    def finished(cls, result: OperationResult, *, updated_at: datetime) -> OperationProgress:
        """The progress that reports a known outcome before the orchestration completes."""
        return cls(**result.reported(), updated_at=updated_at)


class OperationView(CamelModel):
    """The body of GET /api/operations/{operationId}."""

    operation_id: str
    status: OperationStatus
    request_id: str | None = None
    correlation_id: str | None = None
    target: Target
    resource_id: str
    provisioning_state: str | None = None
    polls: int = 0
    next_poll_at: AwareDatetime | None = None
    submitted_at: AwareDatetime
    last_updated_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    error: OutcomeError | None = None
    change: Change | None = None
    changes: list[str] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        runtime_status: str,
        operation: OperationInput,
        custom_status: JsonValue,
        output: JsonValue,
        last_updated_at: datetime | None,
    ) -> OperationView:
        """Merge the durable instance's input, custom status and output into one view."""
        common: dict[str, Any] = {
            "operation_id": operation.operation_id,
            "request_id": operation.request_id,
            "correlation_id": operation.correlation_id,
            "target": operation.target,
            "resource_id": operation.target.resource_path,
            "submitted_at": operation.submitted_at,
            "last_updated_at": last_updated_at,
        }
        if isinstance(output, dict) and runtime_status == "Completed":
            return cls(**common, **OperationResult.model_validate(output).reported())
        progress = (
            OperationProgress.model_validate(custom_status)
            if isinstance(custom_status, dict)
            else None
        )
        if progress is not None:
            common.update(
                provisioning_state=progress.provisioning_state,
                polls=progress.polls,
                next_poll_at=progress.next_poll_at,
                change=progress.change,
                changes=progress.changes,
            )
        if runtime_status in ("Failed", "Terminated", "Canceled"):
            # The orchestrator turns every error into a result, so this is the host stopping
            # it (terminate) or a defect; say so rather than pretend it is still running.
            return cls(
                **common | {"next_poll_at": None},
                status=OperationStatus.FAILED,
                error=AppError(
                    code=AppCode.ORCHESTRATION_STOPPED,
                    message=f"The operation's orchestration ended as {runtime_status}.",
                ),
            )
        if progress is not None:
            return cls(
                **common,
                status=progress.status,
                completed_at=progress.completed_at,
                error=progress.error,
            )
        return cls(**common, status=OperationStatus.ACCEPTED)
