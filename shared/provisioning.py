"""The provisioning orchestration: read, PUT if needed, then poll until ARM says it is done.

The read first (a GET of the resource) decides whether the definition is already in effect
(shared/convergence.py); if it is, the operation ends Succeeded without a write.
Deterministic by construction: no I/O, no wall clock, no randomness. Time comes from
`context.current_utc_datetime`, every decision from `shared.lro`, every call from an activity.
Both long phases, polling ARM and delivering the completion event, continue as new now and
then, so the history stays bounded however long either takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.history import HistoryEvent, HistoryEventType

from shared import lro
from shared.arm_reply import ArmReply
from shared.convergence import Change, Verdict, read_verdict
from shared.events import completion_event
from shared.names import ACTIVITY_POLL, ACTIVITY_PUBLISH, ACTIVITY_SUBMIT, CANCEL_EVENT
from shared.operation import (
    ArmCall,
    OperationInput,
    OperationProgress,
    OperationResult,
    OperationStatus,
)

logger = logging.getLogger(__name__)

# An activity that raised (a defect, a lost worker) is retried a few times before the
# operation fails; failures to reach ARM or get a token come back as replies lro decides on.
ARM_ACTIVITY_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3
)
# Event Grid outages delay the completion event, they must not lose it: each round retries
# with durable backoff; rounds repeat, further apart each time, for PUBLISH_PERSISTENCE.
PUBLISH_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=5
)
PUBLISH_PAUSE = timedelta(minutes=1)
PUBLISH_PAUSE_CAP = timedelta(hours=1)
PUBLISH_PERSISTENCE = timedelta(days=7)

Orchestration = Generator[Any, Any, Any]


def provision(context: df.DurableOrchestrationContext) -> Orchestration:
    """Drive one operation to its end and announce it; see the module docstring."""
    operation = OperationInput.model_validate(context.get_input())
    result = operation.result
    if result is None:
        state = operation.lro or lro.start(
            arm_endpoint=operation.arm_endpoint,
            resource_path=operation.target.resource_path,
            now=context.current_utc_datetime,
            time_limit=timedelta(seconds=operation.deadline_seconds),
            policy=operation.policy,
        )
        if operation.lro is None and operation.change is None:
            verdict = yield from _read_first(context, operation, state)
            operation = operation.model_copy(
                update={"change": verdict.change, "changes": list(verdict.changes)}
            )
        if operation.change is Change.NONE:
            result = OperationResult(
                status=OperationStatus.SUCCEEDED,
                provisioning_state="Succeeded",
                completed_at=context.current_utc_datetime,
                event_id=str(context.new_uuid()),
                change=Change.NONE,
            )
        else:
            outcome = yield from _poll_until_done(context, operation, state)
            if outcome is None:
                return None  # continued as new
            finish, polls = outcome
            result = OperationResult.from_finish(
                finish,
                polls=polls,
                completed_at=context.current_utc_datetime,
                event_id=str(context.new_uuid()),
                change=operation.change,
                changes=operation.changes,
            )
    # The outcome is final from here on: the status shows it (and refuses a cancel) while
    # the completion event is still on its way.
    context.set_custom_status(
        OperationProgress.finished(result, updated_at=context.current_utc_datetime).model_dump(
            mode="json", by_alias=True
        )
    )
    delivered = yield from _publish(context, operation, result)
    if not delivered:
        if context.current_utc_datetime < result.completed_at + PUBLISH_PERSISTENCE:
            context.continue_as_new(
                operation.model_copy(
                    update={"result": result, "publish_rounds": operation.publish_rounds + 1}
                ).model_dump(mode="json", by_alias=True)
            )
            return None
        if not context.is_replaying:
            logger.error(
                "%s completion event %s not delivered after %s; giving up",
                operation.log_context,
                result.event_id,
                PUBLISH_PERSISTENCE,
            )
        result = result.model_copy(update={"event_published": False})
    return result.model_dump(mode="json", by_alias=True)


def _poll_until_done(
    context: df.DurableOrchestrationContext, operation: OperationInput, state: lro.LroState
) -> Generator[Any, Any, tuple[lro.Finish, int] | None]:
    polls_at_start = state.polls
    # One waiter per generation, raced against every timer.
    cancel = context.wait_for_external_event(CANCEL_EVENT)
    # A cancel delivered with this generation's first messages (before the PUT, or carried
    # over from the previous generation) is seen before any request goes out.
    if _cancel_in_batch(context, _is_execution_start):
        return lro.canceled(state), state.polls
    try:
        while True:
            if cancel.is_completed:
                return lro.canceled(state), state.polls
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
            if step.until is None:
                continue
            timer = context.create_timer(step.until)
            winner = yield context.task_any([timer, cancel])
            if winner is cancel:
                timer.cancel()
                return lro.canceled(state), state.polls
            if state.polls - polls_at_start >= operation.polls_per_generation:
                # A cancel that arrived together with this timer is not processed before the
                # generation ends, and would be dropped with it: look for it first.
                if _cancel_in_batch(context, _fired(timer.id)):
                    return lro.canceled(state), state.polls
                # Keeps the history bounded however long ARM takes
                # (docs/contracts/durable-protocol.md §11).
                context.continue_as_new(
                    operation.model_copy(
                        update={"lro": state, "generation": operation.generation + 1}
                    ).model_dump(mode="json", by_alias=True)
                )
                return None
    except Exception as exc:
        # Whatever went wrong (an activity that kept failing, a defect), the operation must
        # still end with a result and a completion event.
        return lro.failed_in_app(state, _first_line(exc)), state.polls


def _read_first(
    context: df.DurableOrchestrationContext, operation: OperationInput, state: lro.LroState
) -> Generator[Any, Any, Verdict]:
    """GET the resource through the poll activity (same trust rules and correlation id)."""
    call = ArmCall(
        operation_id=operation.operation_id,
        correlation_id=operation.correlation_id,
        request=lro.resource_request(state),
    )
    try:
        raw = yield context.call_activity_with_retry(
            ACTIVITY_POLL, ARM_ACTIVITY_RETRY, call.model_dump(mode="json", by_alias=True)
        )
    except Exception:
        # The read only saves a write: without it the PUT goes ahead, as it always did.
        return Verdict(Change.UPDATED, ("$",))
    verdict = read_verdict(operation.arm_body, ArmReply.model_validate(raw))
    if operation.force and verdict.change is Change.NONE:
        return Verdict(Change.UPDATED, ())
    return verdict


def _cancel_in_batch(
    context: df.DurableOrchestrationContext, is_anchor: Callable[[HistoryEvent], bool]
) -> bool:
    """Whether a cancel was delivered in the same episode as the anchor event.

    Reads the history, which is the same on every replay, so the answer is deterministic.
    """
    history = list(context.histories)
    start = next((i for i, event in enumerate(history) if is_anchor(event)), None)
    if start is None:
        return False
    for event in history[start + 1 :]:
        if event.event_type in (
            HistoryEventType.ORCHESTRATOR_STARTED,
            HistoryEventType.ORCHESTRATOR_COMPLETED,
        ):
            return False
        name: object = getattr(event, "Name", None)
        if event.event_type == HistoryEventType.EVENT_RAISED and name == CANCEL_EVENT:
            return True
    return False


def _is_execution_start(event: HistoryEvent) -> bool:
    return bool(event.event_type == HistoryEventType.EXECUTION_STARTED)


def _fired(timer_id: int) -> Callable[[HistoryEvent], bool]:
    def is_it(event: HistoryEvent) -> bool:
        fired: object = getattr(event, "TimerId", None)
        return bool(event.event_type == HistoryEventType.TIMER_FIRED) and fired == timer_id

    return is_it


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
        change=operation.change,
        changes=operation.changes,
    )
    context.set_custom_status(progress.model_dump(mode="json", by_alias=True))


def _publish(
    context: df.DurableOrchestrationContext, operation: OperationInput, result: OperationResult
) -> Generator[Any, Any, bool]:
    """One delivery round; False (after a pause) when Event Grid could not be reached."""
    event = completion_event(operation, result).model_dump(mode="json", by_alias=True)
    try:
        yield context.call_activity_with_retry(ACTIVITY_PUBLISH, PUBLISH_RETRY, event)
    except Exception:
        pause = min(PUBLISH_PAUSE * 2 ** min(operation.publish_rounds, 10), PUBLISH_PAUSE_CAP)
        yield context.create_timer(context.current_utc_datetime + pause)
        return False
    return True


def _first_line(exc: BaseException) -> str:
    # Activity failures arrive as "<reason> \n <details>"; the details are a traceback that
    # must not reach events or the status API.
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__
