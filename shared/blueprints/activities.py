"""Activities: the orchestrator's only I/O. Thin calls into shared.arm and the event binding."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared import arm
from shared.credentials import bearer_token
from shared.events import CompletionEvent
from shared.names import (
    ACTIVITY_POLL,
    ACTIVITY_PUBLISH,
    ACTIVITY_SUBMIT,
    SETTING_TOPIC_ENDPOINT,
    SETTING_TOPIC_KEY,
)
from shared.operation import ArmCall
from shared.settings import get_settings

bp = df.Blueprint()


def _call_arm(raw: dict[str, Any]) -> dict[str, Any]:
    call = ArmCall.model_validate(raw)
    settings = get_settings()
    reply = arm.send(
        call.request.method,
        call.request.url,
        # The endpoint of this process's settings, not the one captured in the input: a
        # token must only ever go where the running app is configured to send it.
        arm_endpoint=settings.arm_endpoint,
        token=lambda: bearer_token(settings.arm_scope),
        correlation_id=call.correlation_id,
        body=call.body,
        log_context=call.log_context,
    )
    return reply.model_dump(mode="json")


@bp.function_name(ACTIVITY_SUBMIT)
@bp.activity_trigger(input_name="call")
def submit_put(call: dict[str, Any]) -> dict[str, Any]:
    """PUT the interaction type; returns the ArmReply snapshot."""
    return _call_arm(call)


@bp.function_name(ACTIVITY_POLL)
@bp.activity_trigger(input_name="call")
def poll_operation(call: dict[str, Any]) -> dict[str, Any]:
    """GET an operation-status, Location or resource URL; returns the ArmReply snapshot."""
    return _call_arm(call)


@bp.function_name(ACTIVITY_PUBLISH)
@bp.activity_trigger(input_name="event")
@bp.event_grid_output(
    arg_name="completion",
    topic_endpoint_uri=SETTING_TOPIC_ENDPOINT,
    topic_key_setting=SETTING_TOPIC_KEY,
)
def publish_completion(
    event: dict[str, Any], completion: func.Out[func.EventGridOutputEvent]
) -> None:
    """Hand the completion event to the Event Grid output binding, which publishes it."""
    completion.set(CompletionEvent.model_validate(event).to_output_event())
