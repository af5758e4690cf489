"""Queue intake: one request envelope per message on the `interaction-requests` queue."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.names import (
    COMPLETION_TOPIC_CONNECTION,
    QUEUE_INTAKE,
    REJECTED_QUEUE,
    REQUEST_QUEUE,
    STORAGE_CONNECTION,
)

bp = df.Blueprint()


@bp.function_name(QUEUE_INTAKE)
@bp.queue_trigger(arg_name="msg", queue_name=REQUEST_QUEUE, connection=STORAGE_CONNECTION)
@bp.queue_output(arg_name="rejected", queue_name=REJECTED_QUEUE, connection=STORAGE_CONNECTION)
@bp.event_grid_output(
    arg_name="completion",
    connection=COMPLETION_TOPIC_CONNECTION,
)
@bp.durable_client_input(client_name="client")
async def queue_intake(
    msg: func.QueueMessage,
    rejected: func.Out[str],
    completion: func.Out[func.EventGridOutputEvent],
    client: Any,
) -> None:
    """Start the operation; dead-letter an invalid message; let a conflicting one come back.

    A conflict raises, which leaves the message on the queue: it comes back after the
    visibility timeout and, after maxDequeueCount tries, lands in the poison queue.
    """
    from shared.message_intake import handle_message

    await handle_message(
        client,
        None,
        raw_text=msg.get_body().decode("utf-8", errors="replace"),
        message_id=msg.id or "",
        source="queue",
        rejected=rejected,
        completion=completion,
    )
