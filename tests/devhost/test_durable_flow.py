"""Durable functions through the host: HTTP starter, orchestrator, timer, activity, event."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.durable import DurableEngine, VirtualClock
from devhost.host import HostStartError
from tests.devhost.conftest import DURABLETASK_KEY, StartHost, start_notify_twice
from tests.devhost.support import EventGridSink, wait_until


def finished_status(status_url: str) -> dict[str, Any] | None:
    """The instance status once it is no longer running, else None."""
    response = requests.get(status_url, timeout=10)
    body: dict[str, Any] = response.json()
    return None if body["runtimeStatus"] in ("Pending", "Running") else body


class TestDurableFlow:
    def test_http_starter_runs_orchestration_to_completion(
        self, start_host: StartHost, topic: EventGridSink
    ) -> None:
        """Starter -> orchestrator -> activity -> timer -> activity, with events, to Completed."""
        host = start_host().host  # time_scale 1000: the 60 s timer takes 60 ms
        response = start_notify_twice(host.url, "flow", 60)
        assert response.status_code == 202
        management = response.json()
        status_url = management["statusQueryGetUri"]
        assert response.headers["Location"] == status_url
        assert status_url.startswith(f"{host.url}/runtime/webhooks/durabletask/instances/")
        assert f"code={DURABLETASK_KEY}" in status_url

        final = wait_until(lambda: finished_status(status_url), what="the orchestration")
        assert final is not None
        assert final["runtimeStatus"] == "Completed"
        assert final["output"] == ["notified first", "notified second"]
        steps = [(e["data"]["step"], e["data"]["tag"]) for e in topic.events()]
        assert steps == [("first", "flow"), ("second", "flow")]

    def test_status_url_needs_the_key(self, start_host: StartHost) -> None:
        """The public durable webhook refuses requests without the key."""
        host = start_host().host
        response = requests.get(
            f"{host.url}/runtime/webhooks/durabletask/instances/nobody", timeout=10
        )
        assert response.status_code == 401

    def test_virtual_clock_host_runs_when_driven(
        self, start_host: StartHost, topic: EventGridSink
    ) -> None:
        """With a VirtualClock the engine runs only through run_until_idle, jumping timers."""
        start = datetime(2026, 1, 1, tzinfo=UTC)
        thread = start_host(clock=VirtualClock(start))
        engine = thread.host.engine
        options = json.dumps({"tag": "virtual", "delay_seconds": 3600})
        thread.call(engine.start_new("notify_twice", "virtual-1", options))
        assert topic.events() == []  # nothing runs until driven
        thread.call(engine.run_until_idle())
        status = engine.get_status("virtual-1")
        assert status is not None
        assert status["runtimeStatus"] == "Completed"
        assert engine.clock.now() >= start + timedelta(hours=1)
        assert [e["data"]["step"] for e in topic.events()] == ["first", "second"]

    def test_stop_ends_activities_in_flight(self, start_host: StartHost) -> None:
        """After stop() no activity is left running to write to the closed store."""
        thread = start_host(start_listeners=False)
        engine = thread.host.engine
        instance_id = thread.call(engine.start_new("lingering", None, "30"))
        # The activity starts in the same scheduling step that records TaskScheduled.
        wait_until(lambda: "TaskScheduled" in history_types(engine, instance_id), what="it")
        thread.call(thread.host.stop())
        assert thread.call(other_tasks()) == []

    def test_second_host_on_the_same_state_dir_is_refused(
        self, start_host: StartHost, tmp_path: Path
    ) -> None:
        """Two hosts on one store would run the same work twice: the second does not start."""
        first = start_host(start_listeners=False)
        with pytest.raises(HostStartError, match=f"state dir {tmp_path / 'state'} is in use"):
            start_host(start_listeners=False)
        first.stop()
        start_host(start_listeners=False)  # the first host's lock went with it


def history_types(engine: DurableEngine, instance_id: str) -> list[str]:
    """The event types in the instance's history so far."""
    status = engine.get_status(instance_id, show_history=True)
    assert status is not None
    return [event["EventType"] for event in status["historyEvents"]]


async def other_tasks() -> list[str]:
    """Names of the tasks on the running loop besides the caller."""
    current = asyncio.current_task()
    return sorted(task.get_name() for task in asyncio.all_tasks() if task is not current)
