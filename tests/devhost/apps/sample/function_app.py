"""Sample app for the local host's tests: one function per trigger and binding kind it serves.

Functions record what they received as JSON lines under the SAMPLE_RECORD_DIR setting, so tests
can see every attempt, failed ones included, whether the host runs in-process or as a process.
"""

import asyncio
import json
import os
import time
import typing
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from sample_blueprint import bp  # type: ignore[import-not-found]  # found via the app dir

FAIL_MARKER = "fail"
HOLD_MARKER = "hold"  # the job waits until the test creates `release` in the record dir

# The worker refuses builtin generics such as dict[str, Any] as binding annotations.
JsonObject = typing.Dict[str, Any]  # noqa: UP006

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(bp)


def _record(kind: str, entry: dict[str, Any]) -> None:
    with (Path(os.environ["SAMPLE_RECORD_DIR"]) / f"{kind}.jsonl").open("a") as file:
        file.write(json.dumps(entry) + "\n")


def _wait_for_release() -> None:
    # The path is read first: the settings leave os.environ when the host stops.
    release = Path(os.environ["SAMPLE_RECORD_DIR"]) / "release"
    deadline = time.monotonic() + 60
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@app.route(route="hello/{name}", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """Echo what the request carried."""
    echo = {
        "name": req.route_params["name"],
        "method": req.method,
        "query": dict(req.params),
        "header": req.headers.get("x-sample"),
        "body": req.get_body().decode(),
        "pid": os.getpid(),
    }
    return func.HttpResponse(json.dumps(echo), mimetype="application/json", headers={"x-ok": "1"})


@app.queue_trigger(
    arg_name="msg", queue_name="%SAMPLE_JOBS_QUEUE%", connection="AzureWebJobsStorage"
)
@app.queue_output(
    arg_name="done", queue_name="%SAMPLE_DONE_QUEUE%", connection="AzureWebJobsStorage"
)
def record_job(msg: func.QueueMessage, done: func.Out[str]) -> None:
    """Record each attempt; fail on the marker; otherwise report the job on the done queue."""
    body = msg.get_body().decode()
    _record("jobs", {"id": msg.id, "body": body, "dequeue_count": msg.dequeue_count})
    if FAIL_MARKER in body:
        raise RuntimeError("marker: failing on purpose")
    if HOLD_MARKER in body:
        _wait_for_release()
    done.set(json.dumps({"job": body, "dequeue_count": msg.dequeue_count}))


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    """Record each delivered event with the type the worker built for it."""
    data = event.get_json()
    _record("events", {"type": type(event).__name__, "id": event.id, "data": data})
    if isinstance(data, dict) and data.get(FAIL_MARKER):
        raise RuntimeError("marker: failing on purpose")


@app.activity_trigger(input_name="payload")
@app.event_grid_output(
    arg_name="completion",
    topic_endpoint_uri="SAMPLE_TOPIC_ENDPOINT",
    topic_key_setting="SAMPLE_TOPIC_KEY",
)
def notify(payload: JsonObject, completion: func.Out[func.EventGridOutputEvent]) -> str:
    """Publish one event for the step named in the payload."""
    completion.set(
        func.EventGridOutputEvent(
            id=str(uuid.uuid4()),
            data=payload,
            subject=f"sample/{payload['step']}",
            event_type="Sample.StepDone",
            event_time=datetime.now(UTC),
            data_version="1.0",
        )
    )
    return f"notified {payload['step']}"


@app.orchestration_trigger(context_name="context")
def notify_twice(context: df.DurableOrchestrationContext):
    """Notify, wait on a durable timer, notify again."""
    options = context.get_input()
    first = yield context.call_activity("notify", {"step": "first", "tag": options["tag"]})
    context.set_custom_status("waiting")
    fire_at = context.current_utc_datetime + timedelta(seconds=options["delay_seconds"])
    yield context.create_timer(fire_at)
    second = yield context.call_activity("notify", {"step": "second", "tag": options["tag"]})
    return [first, second]


@app.activity_trigger(input_name="seconds")
async def linger(seconds: float) -> str:
    """Take `seconds` of real time on the host's event loop, as async activities do."""
    await asyncio.sleep(seconds)
    return f"lingered {seconds} s"


@app.orchestration_trigger(context_name="context")
def lingering(context: df.DurableOrchestrationContext):
    """One activity that takes as many seconds as the input says."""
    return (yield context.call_activity("linger", context.get_input()))


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    """Start the named orchestrator with the JSON body as input."""
    instance_id = await client.start_new(req.route_params["name"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)
