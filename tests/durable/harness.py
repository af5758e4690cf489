"""The sample app's handles and an activity host, shared by the fixtures and the crash worker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from devhost.durable import DurableEngine
from tests.durable import sample_app

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
