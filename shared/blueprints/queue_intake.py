"""Queue intake: one request envelope per message on the `interaction-requests` queue."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.names import (
    REJECTED_QUEUE,
    REQUEST_QUEUE,
    SETTING_TOPIC_ENDPOINT,
    SETTING_TOPIC_KEY,
    STORAGE_CONNECTION,
)

logger = logging.getLogger(__name__)

bp = df.Blueprint()


@bp.function_name("queue_intake")
@bp.queue_trigger(arg_name="msg", queue_name=REQUEST_QUEUE, connection=STORAGE_CONNECTION)
@bp.queue_output(arg_name="rejected", queue_name=REJECTED_QUEUE, connection=STORAGE_CONNECTION)
@bp.event_grid_output(
    arg_name="completion",
    topic_endpoint_uri=SETTING_TOPIC_ENDPOINT,
    topic_key_setting=SETTING_TOPIC_KEY,
)
@bp.durable_client_input(client_name="client")
async def queue_intake(
    msg: func.QueueMessage,
    rejected: func.Out[str],
    completion: func.Out[func.EventGridOutputEvent],
    client: Any,
) -> None:
    """Start the operation; dead-letter an invalid message; let a conflicting one come back."""
    from shared.intake import ConflictError
    from shared.message_intake import Rejection, accept_message
    from shared.settings import get_settings

    raw_text = msg.get_body().decode("utf-8", errors="replace")
    try:
        outcome = await accept_message(
            client,
            None,
            raw_text=raw_text,
            message_id=msg.id or "",
            source="queue",
            settings=get_settings(),
        )
    except ConflictError as conflict:
        # Raising leaves the message on the queue; it comes back after the visibility
        # timeout and, after maxDequeueCount tries, lands in the poison queue.
        logger.warning(
            "queue message %s (dequeue %s) waits: %s", msg.id, msg.dequeue_count, conflict
        )
        raise
    if isinstance(outcome, Rejection):
        logger.warning("queue message %s rejected: %s", msg.id, outcome.record["reasons"])
        rejected.set(json.dumps(outcome.record))
        completion.set(outcome.event.to_output_event())
        return
    logger.info(
        "[operation=%s correlation=%s] queue message %s %s",
        outcome.view.operation_id,
        outcome.view.correlation_id,
        msg.id,
        "started the operation" if outcome.started else "matched the existing operation",
    )
