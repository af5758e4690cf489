"""Event Grid intake: the event's `data` is the request envelope (either event schema)."""

from __future__ import annotations

import json
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.names import (
    COMPLETION_TOPIC_CONNECTION,
    EVENTGRID_INTAKE,
    REJECTED_QUEUE,
    STORAGE_CONNECTION,
)

bp = df.Blueprint()


@bp.function_name(EVENTGRID_INTAKE)
@bp.event_grid_trigger(arg_name="event")
@bp.queue_output(arg_name="rejected", queue_name=REJECTED_QUEUE, connection=STORAGE_CONNECTION)
@bp.event_grid_output(
    arg_name="completion",
    connection=COMPLETION_TOPIC_CONNECTION,
)
@bp.durable_client_input(client_name="client")
async def eventgrid_intake(
    event: func.EventGridEvent,
    rejected: func.Out[str],
    completion: func.Out[func.EventGridOutputEvent],
    client: Any,
) -> None:
    """Start the operation; dead-letter an invalid event; let a conflicting one be redelivered.

    A conflict raises; the Event Grid subscription's retry policy delivers the event again.
    """
    from shared.message_intake import handle_message

    data = event.get_json()
    # Some publishers send the envelope as a JSON string rather than an object.
    await handle_message(
        client,
        None if isinstance(data, str) else data,
        raw_text=data if isinstance(data, str) else json.dumps(data),
        message_id=event.id,
        source="eventgrid",
        rejected=rejected,
        completion=completion,
    )
