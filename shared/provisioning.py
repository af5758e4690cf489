"""The provisioning orchestration: PUT, then a durable timer loop until ARM says it is done.

Deterministic by construction: no I/O, no wall clock, no randomness. Time comes from
`context.current_utc_datetime`, every decision from `shared.lro`, every call from an activity.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from shared import lro
from shared.arm_reply import ArmError, ArmReply
from shared.events import completion_event
from shared.names import ACTIVITY_POLL, ACTIVITY_PUBLISH, ACTIVITY_SUBMIT, CANCEL_EVENT
from shared.operation import (
    ArmCall,
    OperationInput,
    OperationProgress,
    OperationResult,
    OperationStatus,
)

# An activity that raised (no token, a defect) is retried a few times before the operation
# fails; HTTP-level failures never raise, lro.advance decides about them.
ARM_ACTIVITY_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3
)
# Event Grid outages delay the completion event, they must not lose it: each round retries
# with durable backoff, and rounds repeat after a pause for as long as PUBLISH_PERSISTENCE.
PUBLISH_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=5
)
PUBLISH_PAUSE = timedelta(minutes=5)
PUBLISH_PERSISTENCE = timedelta(days=7)

Orchestration = Generator[Any, Any, Any]


def provision(context: df.DurableOrchestrationContext) -> Orchestration:
    """Drive one operation to its end and announce it; see the module docstring."""
    operation = OperationInput.model_validate(context.get_input())
    state = operation.lro or lro.start(
        arm_endpoint=operation.arm_endpoint,
        resource_path=operation.target.resource_path,
        now=context.current_utc_datetime,
        time_limit=timedelta(seconds=operation.deadline_seconds),
        policy=operation.policy,
    )
    outcome = yield from _poll_until_done(context, operation, state)
    if outcome is None:
        return None  # continued as new
    finish, polls = outcome
    result = OperationResult.from_finish(
        finish,
        polls=polls,
        completed_at=context.current_utc_datetime,
        event_id=str(context.new_uuid()),
    )
    yield from _publish(context, operation, result)
    return result.model_dump(mode="json", by_alias=True)


def _poll_until_done(
    context: df.DurableOrchestrationContext, operation: OperationInput, state: lro.LroState
) -> Generator[Any, Any, tuple[lro.Finish, int] | None]:
    polls_at_start = state.polls
    # One waiter per generation, raced against every timer: the SDK completes the newest
    # waiter for an event name, and a single one keeps that question out of the loop.
    cancel = context.wait_for_external_event(CANCEL_EVENT)
    try:
        while True:
            request = state.next_request
            is_put = request.kind is lro.RequestKind.PUT_RESOURCE
            call = ArmCall(
                operation_id=operation.operation_id,
                correlation_id=operation.correlation_id,
                request=request,
                body=operation.arm_body if is_put else None,
            )
            raw = yield context.call_activity_with_retry(
                ACTIVITY_SUBMIT if is_put else ACTIVITY_POLL,
                ARM_ACTIVITY_RETRY,
                call.model_dump(mode="json", by_alias=True),
            )
            state, step = lro.advance(
                state, ArmReply.model_validate(raw), now=context.current_utc_datetime
            )
            if isinstance(step, lro.Finish):
                return step, state.polls
            _report(context, operation, state, step)
            if cancel.is_completed:
                # Raised while the activity ran: honour it now, before another wait or a new
                # generation (which would not inherit an event this one already received).
                return lro.canceled(state), state.polls
            if step.until is not None:
                timer = context.create_timer(step.until)
                winner = yield context.task_any([timer, cancel])
                if winner is cancel:
                    timer.cancel()
                    return lro.canceled(state), state.polls
            if state.polls - polls_at_start >= operation.polls_per_generation:
                # Keeps the history bounded however long ARM takes (lro-anchors §5 item 8).
                context.continue_as_new(
                    operation.model_copy(
                        update={"lro": state, "generation": operation.generation + 1}
                    ).model_dump(mode="json", by_alias=True)
                )
                return None
    except Exception as exc:
        # Whatever went wrong (an activity that kept failing, a defect), the operation must
        # still end with a result and a completion event.
        failure = lro.Finish(
            outcome=lro.Outcome.FAILED,
            provisioning_state=state.provisioning_state,
            error=ArmError(code="OperationError", message=_first_line(exc)),
        )
        return failure, state.polls


def _report(
    context: df.DurableOrchestrationContext,
    operation: OperationInput,
    state: lro.LroState,
    step: lro.Wait,
) -> None:
    progress = OperationProgress(
        status=OperationStatus.RUNNING,
        provisioning_state=state.provisioning_state,
        polls=state.polls,
        generation=operation.generation,
        next_poll_at=step.until,
        updated_at=context.current_utc_datetime,
        arm_request_id=state.request_id,
        writes_remaining=state.writes_remaining,
        reads_remaining=state.reads_remaining,
    )
    context.set_custom_status(progress.model_dump(mode="json", by_alias=True))


def _publish(
    context: df.DurableOrchestrationContext, operation: OperationInput, result: OperationResult
) -> Orchestration:
    event = completion_event(operation, result).model_dump(mode="json", by_alias=True)
    give_up_at = context.current_utc_datetime + PUBLISH_PERSISTENCE
    while True:
        try:
            yield context.call_activity_with_retry(ACTIVITY_PUBLISH, PUBLISH_RETRY, event)
            return
        except Exception:
            if context.current_utc_datetime >= give_up_at:
                raise
        yield context.create_timer(context.current_utc_datetime + PUBLISH_PAUSE)


def _first_line(exc: BaseException) -> str:
    # Activity failures arrive as "<reason> \n <details>"; the details are a traceback that
    # must not reach events or the status API.
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__
