"""Event Grid intake: the event's `data` is the request envelope (either event schema)."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.names import (
    REJECTED_QUEUE,
    SETTING_TOPIC_ENDPOINT,
    SETTING_TOPIC_KEY,
    STORAGE_CONNECTION,
)

logger = logging.getLogger(__name__)

bp = df.Blueprint()


@bp.function_name("eventgrid_intake")
@bp.event_grid_trigger(arg_name="event")
@bp.queue_output(arg_name="rejected", queue_name=REJECTED_QUEUE, connection=STORAGE_CONNECTION)
@bp.event_grid_output(
    arg_name="completion",
    topic_endpoint_uri=SETTING_TOPIC_ENDPOINT,
    topic_key_setting=SETTING_TOPIC_KEY,
)
@bp.durable_client_input(client_name="client")
async def eventgrid_intake(
    event: func.EventGridEvent,
    rejected: func.Out[str],
    completion: func.Out[func.EventGridOutputEvent],
    client: Any,
) -> None:
    """Start the operation; dead-letter an invalid event; let a conflicting one be redelivered."""
    from shared.intake import ConflictError
    from shared.message_intake import Rejection, accept_message
    from shared.settings import get_settings

    data = event.get_json()
    # Some publishers send the envelope as a JSON string rather than an object.
    payload = None if isinstance(data, str) else data
    raw_text = data if isinstance(data, str) else json.dumps(data)
    try:
        outcome = await accept_message(
            client,
            payload,
            raw_text=raw_text,
            message_id=event.id,
            source="eventgrid",
            settings=get_settings(),
        )
    except ConflictError as conflict:
        # A failed delivery is retried by the Event Grid subscription's retry policy.
        logger.warning("event %s waits: %s", event.id, conflict)
        raise
    if isinstance(outcome, Rejection):
        logger.warning("event %s rejected: %s", event.id, outcome.record["reasons"])
        rejected.set(json.dumps(outcome.record))
        completion.set(outcome.event.to_output_event())
        return
    logger.info(
        "[operation=%s correlation=%s] event %s %s",
        outcome.view.operation_id,
        outcome.view.correlation_id,
        event.id,
        "started the operation" if outcome.started else "matched the existing operation",
    )
