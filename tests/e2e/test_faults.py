"""Faults with operations in flight: no operation or event lost, duplicates only with one id.

Each test counts, per operation, the completion events the topic received: none is a lost
event, more than one with different ids a broken promise; more than one with the same id is
the at-least-once duplicate the README's delivery section explains. benchmarks/faults.py runs
the same faults with more operations and prints the counts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.devhost.support import DevhostProcess
from tests.e2e.harness import (
    Stack,
    all_polled,
    assert_nothing_lost,
    requests_for_hub,
    settle,
    start_host,
    status_reads,
    submit_many,
)
from tests.examples import envelope, operation_id_of

KILLS = 3
SECONDS_BETWEEN_KILLS = 1.5
# Status reads each ARM-restart operation needs: at the session host's polling pace (0.2 s)
# they outlast the outage, so every operation is mid-poll before, during and after it.
ARM_RESTART_POLLS = 15
ARM_DOWNTIME_SECONDS = 2.0


@pytest.mark.e2e
def test_kill_9_in_a_loop_loses_nothing(
    stack: Stack, restartable_host: DevhostProcess, settings_file: Path
) -> None:
    """SIGKILL the host KILLS times with operations in flight, restarting it on the same state."""
    own = Stack(emulators=stack.emulators, host=restartable_host)
    operation_ids = submit_many(own, "E2eFaultKill", 6)

    for _ in range(KILLS):
        time.sleep(SECONDS_BETWEEN_KILLS)
        restartable_host.kill()
        start_host(restartable_host, settings_file)

    assert_nothing_lost(own, settle(own, operation_ids, timeout=60))
    assert restartable_host.log().count("devhost serving") == KILLS + 1


@pytest.mark.e2e
def test_event_grid_outage_delays_events_but_loses_none(stack: Stack) -> None:
    """The topic answers 503 to the next publishes; the publish activity's retries get through."""
    faults = requests.post(
        f"{stack.emulators.eventgrid.url}/_emulator/faults",
        json={"status": 503, "count": 4},
        timeout=5,
    )
    assert faults.ok, faults.text
    operation_ids = submit_many(stack, "E2eFaultGrid", 3, polls=1)

    tally = settle(stack, operation_ids, timeout=60)

    assert_nothing_lost(stack, tally)
    assert tally.duplicates_same_id == 0, stack.explain(f"{tally}")


@pytest.mark.e2e
def test_azurite_restart_with_messages_queued_loses_nothing(stack: Stack) -> None:
    """Azurite stops and starts again (same data folder and ports) while queue requests wait."""
    azurite = stack.emulators.azurite
    assert azurite is not None
    operation_ids = []
    for index in range(3):
        hub = f"E2eFaultStorage{index}"
        stack.scenario(hub, mode="location", pollsUntilDone=2, retryAfter=1)
        body = envelope(hub)
        stack.send(json.dumps(body))
        operation_ids.append(operation_id_of(body))

    azurite.stop()
    time.sleep(1.0)
    azurite.start()

    assert_nothing_lost(stack, settle(stack, operation_ids, timeout=60))


@pytest.mark.e2e
def test_arm_emulator_restart_loses_nothing(stack: Stack) -> None:
    """ARM stops with operations mid-poll and comes back on its port with its state dir.

    The polls refused during the outage are retried, not failed, and each operation ends
    Succeeded after one PUT. The request journal is not kept across a restart (as in
    emulators/README.md), so requests are counted across both lives: the stopped emulator's
    journal, read in-process, plus the new one's.
    """
    hubs = [f"E2eFaultArm{index}" for index in range(3)]
    operation_ids = submit_many(stack, "E2eFaultArm", len(hubs), polls=ARM_RESTART_POLLS)
    stack.wait(lambda: all_polled(stack, hubs), what="a status read of every operation")
    log_start = len(stack.host.log())

    stopped = stack.emulators.restart_arm(downtime=ARM_DOWNTIME_SECONDS)
    tally = settle(stack, operation_ids, timeout=60)

    assert_nothing_lost(stack, tally)
    assert tally.duplicates_same_id == 0, stack.explain(f"{tally}")
    views = [stack.view(operation_id) or {} for operation_id in operation_ids]
    assert [view.get("status") for view in views] == ["Succeeded"] * len(hubs), views
    first_life, second_life = stopped.journal.entries(), stack.arm_journal()
    log = stack.host.log()[log_start:]
    for hub, operation_id in zip(hubs, operation_ids, strict=True):
        ours = requests_for_hub(first_life + second_life, hub)
        assert [e["method"] for e in ours].count("PUT") == 1, ours
        # Read before the stop and after the start: the operation was mid-poll throughout.
        before = status_reads(requests_for_hub(first_life, hub))
        assert before >= 1, ours
        assert status_reads(ours) > before, ours
        refused = [
            line
            for line in log.splitlines()
            if f"operation={operation_id} " in line and "connection failed" in line
        ]
        assert refused, stack.explain(f"no poll of {operation_id} was refused during the outage")
