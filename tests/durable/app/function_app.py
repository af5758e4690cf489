"""A tiny Durable Functions app (Python v2 model) that exercises the engine's protocol paths.

It runs in Microsoft's Python worker (tests/durable/harness.py `SampleWorker`), never in the
test process.
"""

import os
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func

# The worker refuses builtin generics such as dict[str, Any] as binding annotations.
JsonObject = typing.Dict[str, Any]  # noqa: UP006

# The file whose existence makes `moody` sad; the test process creates and deletes it.
SAD_FILE_SETTING = "DURABLE_SAMPLE_SAD_FILE"

app = df.DFApp()

RETRY_INTERVAL_MS = 5000


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    """Two activities in sequence."""
    first = yield context.call_activity("greet", "Tokyo")
    second = yield context.call_activity("greet", "Seattle")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Several activities in parallel (WhenAll)."""
    cities = context.get_input()
    return (yield context.task_all([context.call_activity("greet", c) for c in cities]))


@app.orchestration_trigger(context_name="context")
def catch_failure(context: df.DurableOrchestrationContext):
    """An activity failure arrives in the orchestrator as an exception it can catch."""
    try:
        yield context.call_activity("explode", "boom")
    except Exception as exc:
        return {"caught": str(exc)}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def uncaught_failure(context: df.DurableOrchestrationContext):
    """An orchestrator that lets an activity failure escape."""
    yield context.call_activity("explode", "boom")


@app.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext):
    """`call_activity_with_retry` on an activity that fails a given number of times."""
    settings: JsonObject = context.get_input()
    options = df.RetryOptions(RETRY_INTERVAL_MS, settings["maxAttempts"])
    try:
        result = yield context.call_activity_with_retry("flaky", options, settings)
    except Exception as exc:
        return {"gaveUp": str(exc), "at": context.current_utc_datetime.isoformat()}
    after = yield context.call_activity("greet", "after retry")
    return {"result": result, "after": after, "at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def absurd_retry(context: df.DurableOrchestrationContext):
    """A retry interval in the wrong unit: 10**15 ms is some 31,000 years."""
    return (yield context.call_activity_with_retry("explode", df.RetryOptions(10**15, 3), "x"))


@app.orchestration_trigger(context_name="context")
def nap(context: df.DurableOrchestrationContext):
    """A durable timer, then an activity; reports the replay clock before and after."""
    started = context.current_utc_datetime
    yield context.create_timer(started + timedelta(seconds=context.get_input()))
    greeting = yield context.call_activity("greet", "after the nap")
    return {
        "started": started.isoformat(),
        "woke": context.current_utc_datetime.isoformat(),
        "greeting": greeting,
    }


@app.orchestration_trigger(context_name="context")
def cancellable(context: df.DurableOrchestrationContext):
    """Wait for a `cancel` event, or give up after an hour (task_any, then cancel the timer)."""
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    cancel = context.wait_for_external_event("cancel")
    winner = yield context.task_any([deadline, cancel])
    if winner == cancel:
        deadline.cancel()
        return {"outcome": "canceled", "data": cancel.result}
    return {"outcome": "timed out", "at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def cancel_then_wait(context: df.DurableOrchestrationContext):
    """Race `go` against an hour's timer, cancel the timer, then wait for `done`."""
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    go = context.wait_for_external_event("go")
    yield context.task_any([deadline, go])
    deadline.cancel()
    return (yield context.wait_for_external_event("done"))


@app.orchestration_trigger(context_name="context")
def status_report(context: df.DurableOrchestrationContext):
    """Set a custom status of `size` times `char`, then call an activity or raise."""
    settings: JsonObject = context.get_input()
    context.set_custom_status(settings["char"] * settings["size"])
    if settings.get("raise"):
        raise ValueError("the orchestrator gave up")
    yield context.call_activity("greet", "after the status")
    return "reported"


@app.orchestration_trigger(context_name="context")
def late_listener(context: df.DurableOrchestrationContext):
    """Asks for the `go` event only after an activity, so an early event must be buffered."""
    yield context.call_activity("greet", "first")
    return (yield context.wait_for_external_event("go"))


@app.orchestration_trigger(context_name="context")
def generations(context: df.DurableOrchestrationContext):
    """Record one step per generation, wait a minute, then continue as new until `last`."""
    state: dict[str, int] = context.get_input()
    generation = state["generation"]
    yield context.call_activity("record", f"generation {generation}")
    context.set_custom_status({"generation": generation})
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    if generation < state["last"]:
        context.continue_as_new({"generation": generation + 1, "last": state["last"]})
        return None
    return {"final": generation}


@app.orchestration_trigger(context_name="context")
def bookends(context: df.DurableOrchestrationContext):
    """An activity, an hour's timer, another activity: a crash fits in the middle."""
    opening = yield context.call_activity("greet", "start")
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    closing = yield context.call_activity("greet", "end")
    return [opening, closing]


@app.orchestration_trigger(context_name="context")
def long_nap(context: df.DurableOrchestrationContext):
    """A 10-day timer, which the SDK splits into sub-timers under the Azure Storage limits."""
    yield context.create_timer(context.current_utc_datetime + timedelta(days=10))
    return context.current_utc_datetime.isoformat()


@app.orchestration_trigger(context_name="context")
def moody(context: df.DurableOrchestrationContext):
    """Non-deterministic: branches on a file that the test creates between replays."""
    name = "record" if Path(os.environ[SAD_FILE_SETTING]).exists() else "greet"
    yield context.call_activity(name, "mood")
    yield context.call_activity("greet", "second")
    return "done"


@app.function_name("garbled")
@app.generic_trigger(arg_name="context", type="orchestrationTrigger")
def garbled(context: func.OrchestrationContext) -> str:
    """Not an SDK orchestrator: answers an episode with text that is not the SDK's state JSON."""
    return "not the SDK's state JSON"


@app.activity_trigger(input_name="city")
def greet(city: str) -> str:
    """Say hello."""
    return f"Hello {city}!"


@app.activity_trigger(input_name="payload")
def explode(payload: str) -> str:
    """Always fail."""
    raise RuntimeError(f"exploded on {payload}")


FLAKY_CALLS: dict[str, int] = {}
"""Calls of `flaky` so far in this worker process, by the caller's `key` (each test uses a key
of its own)."""


@app.activity_trigger(input_name="settings")
def flaky(settings: JsonObject) -> str:
    """Fail on the first `failures` calls for `settings["key"]`, then succeed."""
    key = settings["key"]
    FLAKY_CALLS[key] = FLAKY_CALLS.get(key, 0) + 1
    if FLAKY_CALLS[key] <= settings["failures"]:
        raise ConnectionError(f"attempt {FLAKY_CALLS[key]} failed")
    return f"succeeded on attempt {FLAKY_CALLS[key]}"


@app.activity_trigger(input_name="step")
def record(step: str) -> str:
    """Return the step; the test's activity host counts the calls."""
    return f"recorded {step}"
