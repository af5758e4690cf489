"""Intake of queue messages and Event Grid events: start the operation, or reject the message.

A message that can never be provisioned is not retried: the caller writes `Rejection.record`
to the dead-letter queue (REJECTED_QUEUE, interaction-requests-rejected; the record is built by
shared/problems.py) and publishes `Rejection.event`. The platform's `-poison` queue is another
thing: where a message goes after maxDequeueCount failed tries. A message that conflicts with a
running operation raises `ConflictError`, so the platform redelivers it later.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.errors import ConflictError, InvalidRequest, ProblemCode
from shared.events import CompletionEvent, rejection_event, rejection_event_id
from shared.operation import Source, log_context
from shared.problems import Problem, dead_letter_record, fit_to_queue
from shared.scopes import out_of_scope
from shared.settings import Settings, get_settings
from shared.submission import Submission, submit
from shared.validation import decode_json, parse_envelope, salvage_target

# whatIf answers the caller at once; a queue message or event has no caller waiting.
WHAT_IF_HTTP_ONLY = Problem(
    path="$.whatIf",
    code=ProblemCode.WHAT_IF_HTTP_ONLY,
    message="whatIf is answered over HTTP only (POST /api/interactions or the PUT route); "
    "a queue message or event cannot ask for it",
)

if TYPE_CHECKING:
    import azure.functions as func

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejection:
    """A message refused for good: what to dead-letter and what to announce."""

    record: dict[str, Any]
    event: CompletionEvent


async def accept_message(
    client: Any,
    payload: object,
    *,
    raw_text: str,
    message_id: str,
    source: Source,
    settings: Settings,
) -> Submission | Rejection:
    """Validate an envelope and start (or find) its operation; reject it if it is invalid.

    `payload` is the decoded JSON when the transport already decoded it, else `raw_text`
    is decoded here. Raises ConflictError for a conflict with a running operation.
    """
    try:
        data = decode_json(raw_text, f"{source} message") if payload is None else payload
        request = parse_envelope(
            data,
            default_subscription_id=settings.default_subscription_id,
            default_resource_group=settings.default_resource_group,
        )
        refusal = out_of_scope(request.target, settings.write_scopes)
        if refusal is not None:
            raise InvalidRequest([refusal])
        if request.what_if:
            raise InvalidRequest([WHAT_IF_HTTP_ONLY])
        return await submit(
            client, request, source=source, settings=settings, delivery_id=f"{source}:{message_id}"
        )
    except InvalidRequest as invalid:
        received_at = datetime.now(UTC)
        target, request_id = salvage_target(
            payload if payload is not None else raw_text,
            default_subscription_id=settings.default_subscription_id,
            default_resource_group=settings.default_resource_group,
        )
        record = dead_letter_record(raw_text, invalid.problems, source=source)
        record["messageId"] = message_id
        record["rejectedAt"] = received_at.isoformat()
        event = rejection_event(
            event_id=rejection_event_id(source, message_id, raw_text),
            problems=invalid.problems,
            source=source,
            received_at=received_at,
            target=target,
            request_id=request_id,
        )
        return Rejection(record=fit_to_queue(record), event=event)


async def handle_message(
    client: Any,
    payload: object,
    *,
    raw_text: str,
    message_id: str,
    source: Source,
    rejected: func.Out[str],
    completion: func.Out[func.EventGridOutputEvent],
) -> None:
    """The queue and Event Grid triggers' body: start, or dead-letter and announce, or raise.

    A ConflictError propagates, so the platform redelivers the message later.
    """
    try:
        outcome = await accept_message(
            client,
            payload,
            raw_text=raw_text,
            message_id=message_id,
            source=source,
            settings=get_settings(),
        )
    except ConflictError as conflict:
        logger.warning(
            "%s message %s waits for a running operation: %s", source, message_id, conflict
        )
        raise
    if isinstance(outcome, Rejection):
        logger.warning("%s message %s rejected: %s", source, message_id, outcome.record["reasons"])
        rejected.set(json.dumps(outcome.record))
        completion.set(outcome.event.to_output_event())
        return
    logger.info(
        "%s %s message %s %s",
        log_context(outcome.view.operation_id, outcome.view.correlation_id),
        source,
        message_id,
        "started the operation" if outcome.started else "matched the existing operation",
    )
