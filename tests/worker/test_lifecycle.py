"""The worker as a process: what the host does when it dies, hangs, or runs many calls."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from devhost.host import Host
from devhost.host_thread import HostThread
from emulators.testing import wait_until

APP = Path(__file__).parent / "apps" / "lifecycle"


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostThread]:
    thread = HostThread(
        Host(app_dir=APP, settings={}, state_dir=tmp_path / "state", start_listeners=False)
    )
    yield thread
    thread.stop()


def whoami(thread: HostThread, hold: float = 0) -> requests.Response:
    return requests.get(f"{thread.host.url}/api/whoami", params={"hold": hold}, timeout=30)


def test_functions_run_in_the_worker_process(host: HostThread) -> None:
    pid = int(whoami(host).text.split()[0])
    assert pid == host.host.worker.pid
    assert pid != os.getpid()


def test_call_in_flight_when_the_worker_dies_is_a_500_and_a_new_worker_takes_over(
    host: HostThread,
) -> None:
    first = host.host.worker.pid
    assert first is not None
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(whoami, host, 1.5)
        wait_until(lambda: host.host.worker.starts == 1, timeout=5, what="worker running")
        os.kill(first, signal.SIGKILL)
        response = in_flight.result(timeout=30)
    assert response.status_code == 500
    assert response.text == ""
    wait_until(lambda: whoami(host).status_code == 200, timeout=30, what="a new worker")
    assert host.host.worker.pid != first
    assert host.host.worker.starts == 2


def test_function_timeout_fails_the_call_and_replaces_the_worker(
    host: HostThread, caplog: pytest.LogCaptureFixture
) -> None:
    """host.json's functionTimeout (2 s here) ends the call; the host recycles the worker."""
    first = host.host.worker.pid
    response = whoami(host, hold=10)
    assert response.status_code == 500
    assert "Timeout value of 00:00:02 was exceeded by function: Functions.whoami" in caplog.text
    wait_until(lambda: host.host.worker.pid not in (None, first), timeout=30, what="new worker")
    assert whoami(host).status_code == 200
    assert host.host.worker.failure is None  # a timeout is not a worker error


def test_sync_functions_share_the_workers_default_thread_pool(host: HostThread) -> None:
    """Without PYTHON_THREADPOOL_THREAD_COUNT the pool has min(32, cpus + 4) threads."""
    expected = min(32, (os.process_cpu_count() or 1) + 4)
    calls = expected * 3
    with ThreadPoolExecutor(calls) as pool:
        answers = list(pool.map(lambda _: whoami(host, hold=0.3), range(calls)))
    threads = {answer.text.split()[1] for answer in answers}
    assert len(threads) == expected
