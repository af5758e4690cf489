"""The language worker killed with SIGKILL mid-operation: the host starts another, and the
operation finishes once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.devhost.support import DevhostProcess
from tests.e2e.harness import SUCCEEDED, Stack
from tests.examples import envelope


def worker_pids(host_pid: int) -> list[int]:
    """The host's child processes that run `devhost.worker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == host_pid and b"devhost.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.e2e
def test_sigkill_of_the_worker_while_polling_ends_succeeded_with_one_put_and_one_event(
    stack: Stack, restartable_host: DevhostProcess
) -> None:
    own = Stack(emulators=stack.emulators, host=restartable_host)
    hub = "E2eWorkerKillHub"
    own.scenario(hub, mode="location", pollsUntilDone=5, retryAfter=1)
    host_pid = restartable_host.pid
    assert host_pid is not None
    (first,) = own.wait(lambda: worker_pids(host_pid) or None, what="the worker process")
    operation_id = own.submit(envelope(hub))["operationId"]

    def polling() -> bool:
        methods = [r["method"] for r in own.arm_requests(hub)]
        # The read before the PUT, the PUT, then polls.
        return methods[:2] == ["GET", "PUT"] and "GET" in methods[2:]

    own.wait(polling, what="the PUT and a first poll in the ARM journal")
    os.kill(first, signal.SIGKILL)
    assert own.events_for(operation_id) == []
    # Calls that reach the host while no worker runs fail with 500, as in Azure.
    (second,) = own.wait(
        lambda: [pid for pid in worker_pids(host_pid) if pid != first] or None,
        what="a new worker process",
        timeout=30,
    )
    own.wait(lambda: own.get_operation(operation_id).ok, what="the status answered again")

    view = own.wait_for_end(operation_id, timeout=60)
    assert view["status"] == "Succeeded", own.explain(f"view: {view}")
    events = own.events_for(operation_id)
    assert [e["eventType"] for e in events] == [SUCCEEDED], own.explain(f"events: {events}")
    assert len(own.arm_puts(hub)) == 1, own.explain(f"PUTs: {own.arm_puts(hub)}")
    assert worker_pids(host_pid) == [second]
    assert restartable_host.log().count("devhost serving") == 1  # the host itself lived on
