"""Fixtures for the local host's tests: Azurite, an Event Grid topic sink, hosts on threads."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from azure.storage.queue import QueueClient

from devhost.host import Host
from devhost.host_thread import HostThread
from devhost.keys import HostKeys
from emulators.azurite import Azurite
from emulators.testing import azurite_fixture
from tests.devhost.support import SAMPLE_APP, TOPIC_KEY, EventGridSink

FUNCTION_KEY = "sample-function-key"
MASTER_KEY = "sample-master-key"
EVENTGRID_KEY = "sample-eventgrid-key"
DURABLETASK_KEY = "sample-durabletask-key"
KEYS = HostKeys(
    function=FUNCTION_KEY,
    master=MASTER_KEY,
    eventgrid_extension=EVENTGRID_KEY,
    durabletask_extension=DURABLETASK_KEY,
)


# One Azurite for the session on free ports; tests isolate themselves by queue name.
azurite = azurite_fixture(scope="session")


@pytest.fixture
def topic() -> Iterator[EventGridSink]:
    """A custom topic stand-in that records what it receives."""
    sink = EventGridSink()
    yield sink
    sink.stop()


@pytest.fixture
def record_dir(tmp_path: Path) -> Path:
    """Where the sample app records what its functions received."""
    path = tmp_path / "records"
    path.mkdir()
    return path


@pytest.fixture
def sample_settings(azurite: Azurite, topic: EventGridSink, record_dir: Path) -> dict[str, str]:
    """App settings for the sample app, with queue names unique to the test."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "SAMPLE_JOBS_QUEUE": f"jobs-{suffix}",
        "SAMPLE_DONE_QUEUE": f"done-{suffix}",
        "SAMPLE_TOPIC_ENDPOINT": topic.url,
        "SAMPLE_TOPIC_KEY": TOPIC_KEY,
        "SAMPLE_RECORD_DIR": str(record_dir),
    }


StartHost = Callable[..., HostThread]


@pytest.fixture
def start_host(sample_settings: dict[str, str], tmp_path: Path) -> Iterator[StartHost]:
    """Start a Host on its own thread (sample app and settings unless overridden); stops all."""
    started: list[HostThread] = []

    def start(**overrides: object) -> HostThread:
        options: dict[str, object] = {
            "app_dir": SAMPLE_APP,
            "settings": sample_settings,
            "state_dir": tmp_path / "state",
            "keys": KEYS,
            "time_scale": 1000.0,
        }
        options.update(overrides)
        thread = HostThread(Host(**options))  # type: ignore[arg-type]
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture
def queues(sample_settings: dict[str, str]) -> dict[str, QueueClient]:
    """Plain SDK clients for the sample's jobs, done and poison queues."""
    connection = sample_settings["AzureWebJobsStorage"]
    jobs = sample_settings["SAMPLE_JOBS_QUEUE"]
    names = {"jobs": jobs, "done": sample_settings["SAMPLE_DONE_QUEUE"], "poison": f"{jobs}-poison"}
    return {k: QueueClient.from_connection_string(connection, n) for k, n in names.items()}


def start_notify_twice(base_url: str, tag: str, delay_seconds: float) -> requests.Response:
    """POST the sample's HTTP starter for `notify_twice` (activity, timer, activity) with the
    function key; the answer is the starter's 202 with the management URLs."""
    return requests.post(
        f"{base_url}/api/orchestrators/notify_twice",
        params={"code": FUNCTION_KEY},
        json={"tag": tag, "delay_seconds": delay_seconds},
        timeout=10,
    )
