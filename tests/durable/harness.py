"""The sample app's handles, the one in-process orchestrator runner and an activity host.

Shared by the fixtures and the crash worker.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from devhost.durable import DurableEngine, OrchestratorInvocationError, OrchestratorRunner
from tests.durable import sample_app

OrchestratorHandle = Callable[..., str]
"""The SDK's `handle`, called as `handle(context=func.OrchestrationContext(json_text))`."""

START = datetime(2024, 1, 1, tzinfo=UTC)
"""Where every virtual clock in these tests starts."""

# get_functions() may be called only once per app: a second call fails on duplicate names.
_FUNCTIONS = sample_app.app.get_functions()
ORCHESTRATORS = {
    f.get_function_name(): f.get_user_function()
    for f in _FUNCTIONS
    if f.get_trigger().get_binding_name() == "orchestrationTrigger"
}
_ACTIVITIES = {
    f.get_function_name(): (f.get_user_function(), f.get_trigger().name)
    for f in _FUNCTIONS
    if f.get_trigger().get_binding_name() == "activityTrigger"
}


def in_process_runner(handles: Mapping[str, OrchestratorHandle]) -> OrchestratorRunner:
    """Run orchestrators in this process, reporting as the Python worker does.

    The worker calls the handle by binding name with an OrchestrationContext and returns its
    string; a raised exception reaches the host as "<type>: <message>"
    (azure_functions_runtime/utils/tracing.py, serialize_exception).
    """

    async def run(name: str, context_json: str) -> str:
        handle = handles[name]
        try:
            state_json: str = handle(context=func.OrchestrationContext(context_json))
        except Exception as exc:
            raise OrchestratorInvocationError(f"{type(exc).__name__}: {exc}") from exc
        return state_json

    return run


class ActivityHost:
    """Runs the sample app's activities as a Functions host would, and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def __call__(self, name: str, input_json: str) -> str:
        function, parameter = _ACTIVITIES[name]
        value = json.loads(input_json)
        self.calls.append((name, value))
        result = await asyncio.to_thread(function, **{parameter: value})
        return json.dumps(result)

    def count(self, name: str) -> int:
        """How many times the activity ran."""
        return sum(1 for called, _ in self.calls if called == name)


def status_of(engine: DurableEngine, instance_id: str, **options: bool) -> dict[str, Any]:
    """The instance's status; fails the test when the instance does not exist."""
    status = engine.get_status(instance_id, **options)
    assert status is not None, f"no instance {instance_id}"
    return status
