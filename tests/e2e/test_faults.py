"""Faults with operations in flight: no operation or event lost, duplicates only with one id.

Each test counts, per operation, the completion events the topic received: none is a lost
event, more than one with different ids a broken promise; more than one with the same id is
the at-least-once duplicate the README's delivery section explains. benchmarks/faults.py runs
the same faults with more operations and prints the counts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.devhost.support import DevhostProcess
from tests.e2e.harness import TERMINAL, Stack, start_host
from tests.examples import envelope, operation_id_of

KILLS = 3
SECONDS_BETWEEN_KILLS = 1.5


@dataclass(frozen=True)
class Tally:
    """What the topic received for a set of operations."""

    operations: int
    lost_operations: int
    lost_events: int
    duplicates_same_id: int
    duplicates_other_id: int


def submit_many(stack: Stack, prefix: str, count: int, *, polls: int = 4) -> list[str]:
    """Start `count` operations, one hub each, that need `polls` status reads to finish."""
    ids = []
    for index in range(count):
        hub = f"{prefix}{index}"
        stack.scenario(hub, mode="location", pollsUntilDone=polls, retryAfter=1)
        ids.append(stack.submit(envelope(hub))["operationId"])
    return ids


def settle(stack: Stack, operation_ids: list[str], *, timeout: float) -> Tally:
    """Wait until every operation has ended and announced it (or `timeout`), then count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_ended(stack, op) and stack.events_for(op) for op in operation_ids):
            break
        time.sleep(0.5)
    lost_operations = sum(1 for op in operation_ids if not _ended(stack, op))
    events = {op: stack.events_for(op) for op in operation_ids}
    return Tally(
        operations=len(operation_ids),
        lost_operations=lost_operations,
        lost_events=sum(1 for found in events.values() if not found),
        duplicates_same_id=sum(
            len(found) - 1 for found in events.values() if len({e["id"] for e in found}) == 1
        ),
        duplicates_other_id=sum(
            1 for found in events.values() if len({e["id"] for e in found}) > 1
        ),
    )


def _ended(stack: Stack, operation_id: str) -> bool:
    view = stack.view(operation_id)
    return view is not None and view["status"] in TERMINAL


def assert_nothing_lost(stack: Stack, tally: Tally) -> None:
    """0 lost operations, 0 lost events, every duplicate with its operation's one id."""
    message = stack.explain(f"after the faults: {tally}")
    assert tally.lost_operations == 0, message
    assert tally.lost_events == 0, message
    assert tally.duplicates_other_id == 0, message


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
