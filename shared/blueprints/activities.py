"""Activities: the orchestrator's only I/O. Thin calls into shared.arm and the event binding."""

from __future__ import annotations

import typing
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.names import (
    ACTIVITY_POLL,
    ACTIVITY_PUBLISH,
    ACTIVITY_SUBMIT,
    COMPLETION_TOPIC_CONNECTION,
)

bp = df.Blueprint()

# The worker accepts a binding annotation only when it is a class or a `typing` generic: it
# refuses `dict[str, Any]` and, loading all or nothing, would then register no function at all
# (azure_functions_runtime/functions.py, "invalid non-type annotation").
JsonObject = typing.Dict[str, Any]  # noqa: UP006


@bp.function_name(ACTIVITY_SUBMIT)
@bp.activity_trigger(input_name="call")
def submit_put(call: JsonObject) -> dict[str, Any]:
    """PUT the interaction type; returns the ArmReply snapshot."""
    from shared.arm import call_arm

    return call_arm(call)


@bp.function_name(ACTIVITY_POLL)
@bp.activity_trigger(input_name="call")
def poll_operation(call: JsonObject) -> dict[str, Any]:
    """GET an operation-status, Location or resource URL; returns the ArmReply snapshot."""
    from shared.arm import call_arm

    return call_arm(call)


@bp.function_name(ACTIVITY_PUBLISH)
@bp.activity_trigger(input_name="event")
@bp.event_grid_output(
    arg_name="completion",
    connection=COMPLETION_TOPIC_CONNECTION,
)
def publish_completion(event: JsonObject, completion: func.Out[func.EventGridOutputEvent]) -> None:
    """Hand the completion event to the Event Grid output binding, which publishes it."""
    from shared.events import CompletionEvent

    completion.set(CompletionEvent.model_validate(event).to_output_event())
