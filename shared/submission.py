"""Starting an operation for a validated request, shared by the HTTP, queue and Event Grid intake.

Idempotency lives here. The same request (the same requestId or Idempotency-Key, or a
redelivery of the same queue message or event) gets the operation it started, in any state; a
requestId or Idempotency-Key reused for another definition is refused; the same definition
while that operation runs attaches to it; a different one conflicts. Anything after the end
starts a new operation, which converges: no ARM write when the definition is in effect.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.errors import ConflictError, IdentifierReused, ProblemCode
from shared.models import ProvisioningRequest
from shared.names import ORCHESTRATOR
from shared.operation import (
    OperationInput,
    OperationStatus,
    OperationView,
    Source,
    operation_id_for,
)
from shared.problems import Problem
from shared.settings import Settings

logger = logging.getLogger(__name__)


class Decision(StrEnum):
    """What to do with a request given the resource's current operation."""

    START = "start"
    EXISTING = "existing"
    CONFLICT = "conflict"
    REQUEST_ID_REUSED = "request_id_reused"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


def decide(
    request: ProvisioningRequest,
    request_hash: str,
    existing: OperationInput | None,
    existing_status: OperationStatus | None,
    delivery_id: str | None = None,
) -> Decision:
    """Start, attach to the existing operation, or refuse as a conflict (pure)."""
    if existing is None or existing_status is None:
        return Decision.START
    same_definition = request_hash == existing.definition_hash
    if delivery_id is not None and delivery_id == existing.delivery_id:
        # An Idempotency-Key (HTTP) is the caller's name for one request, as a requestId is; a
        # queue message id or event id is the transport's, and its redelivery is the same
        # request whatever it carries.
        if existing.source == "http" and not same_definition:
            return Decision.IDEMPOTENCY_KEY_REUSED
        return Decision.EXISTING
    same_request = request.request_id is not None and request.request_id == existing.request_id
    if same_request:
        # An idempotency key names one request: the same key with another body is a mistake
        # the caller must hear about, not a change to apply or to drop silently.
        return Decision.EXISTING if same_definition else Decision.REQUEST_ID_REUSED
    if not existing_status.is_terminal:
        return Decision.EXISTING if same_definition else Decision.CONFLICT
    # A new request after the end reads the resource again, which puts back any drift.
    return Decision.START


@dataclass(frozen=True)
class Submission:
    """The operation a request ended up with, and whether this call started it."""

    view: OperationView
    started: bool


async def read_operation(client: Any, operation_id: str) -> OperationView | None:
    """The operation's current view from the durable client, or None if there is none."""
    _, view = await _load(client, operation_id)
    return view


async def _load(
    client: Any, operation_id: str
) -> tuple[OperationInput, OperationView] | tuple[None, None]:
    status = await client.get_status(operation_id, show_input=True)
    if not status or status.input_ is None:
        return None, None
    raw_input = status.input_
    operation = OperationInput.model_validate(
        json.loads(raw_input) if isinstance(raw_input, str) else raw_input
    )
    runtime = status.runtime_status
    view = OperationView.build(
        runtime_status=runtime.value if runtime is not None else "Pending",
        operation=operation,
        custom_status=status.custom_status,
        output=status.output,
        last_updated_at=status.last_updated_time,
    )
    return operation, view


async def submit(
    client: Any,
    request: ProvisioningRequest,
    *,
    source: Source,
    settings: Settings,
    delivery_id: str | None = None,
) -> Submission:
    """Start the operation for `request`, or return the one it belongs to.

    `delivery_id` names the queue message or event that carried it (None for HTTP).
    Raises ConflictError when another definition's operation is running for the resource, and
    IdentifierReused when the requestId or Idempotency-Key named another definition.
    """
    operation_id = operation_id_for(request.target)
    request_hash = request.definition_hash()
    for _ in range(2):
        existing, view = await _load(client, operation_id)
        decision = decide(
            request, request_hash, existing, view.status if view else None, delivery_id
        )
        if decision is Decision.EXISTING and view is not None:
            return Submission(view=view, started=False)
        if decision is Decision.CONFLICT and view is not None:
            raise ConflictError(view)
        if decision is Decision.REQUEST_ID_REUSED:
            raise IdentifierReused(
                [
                    Problem(
                        path="$.requestId",
                        code=ProblemCode.REQUEST_ID_REUSED,
                        message=f"requestId {request.request_id!r} was already used for another "
                        f"definition of this interaction type (operation {operation_id}); "
                        "use a new requestId for a new definition",
                    )
                ]
            )
        if decision is Decision.IDEMPOTENCY_KEY_REUSED:
            raise IdentifierReused(
                [
                    Problem(
                        path="Idempotency-Key",
                        code=ProblemCode.IDEMPOTENCY_KEY_REUSED,
                        message="this Idempotency-Key was already used for another definition "
                        f"of this interaction type (operation {operation_id}); "
                        "use a new key for a new definition",
                    )
                ]
            )
        operation = OperationInput.create(
            target=request.target,
            arm_body=request.definition.to_arm_body(),
            definition_hash=request_hash,
            request_id=request.request_id,
            delivery_id=delivery_id,
            force=request.force,
            correlation_id=str(uuid.uuid4()),
            source=source,
            submitted_at=datetime.now(UTC),
            settings=settings,
        )
        try:
            await client.start_new(
                ORCHESTRATOR, operation_id, operation.model_dump(mode="json", by_alias=True)
            )
        except Exception:
            # Another delivery may have started the same operation between our read and our
            # start: if so, decide against what it started; anything else is a real failure.
            started_by_other, _ = await _load(client, operation_id)
            if started_by_other is None:
                raise
            logger.info("%s start raced with another request; re-reading", operation.log_context)
            continue
        logger.info(
            "%s started from %s for %s",
            operation.log_context,
            source,
            request.target.resource_path,
        )
        # Just started: the view of a Pending instance with no progress yet, built by the
        # one mapping the status endpoint uses (OperationView.build).
        view = OperationView.build(
            runtime_status="Pending",
            operation=operation,
            custom_status=None,
            output=None,
            last_updated_at=None,
        )
        return Submission(view=view, started=True)
    raise RuntimeError(f"could not start or find operation {operation_id}")
