"""A host killed with SIGKILL mid-operation finishes the operation after a restart, once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.devhost.support import DevhostProcess
from tests.e2e.harness import SUCCEEDED, Stack, start_host
from tests.examples import envelope


@pytest.mark.e2e
def test_sigkill_while_polling_then_restart_ends_succeeded_with_one_put_and_one_event(
    stack: Stack, restartable_host: DevhostProcess, settings_file: Path
) -> None:
    """Killed after its PUT while polling, the host restarted on the same state dir and port
    finishes the operation with exactly one PUT and one completion event."""
    own = Stack(emulators=stack.emulators, host=restartable_host)
    hub = "E2eKillHub"
    own.scenario(hub, mode="location", pollsUntilDone=5, retryAfter=1)
    operation_id = own.submit(envelope(hub))["operationId"]

    # Wait for a poll, not only the PUT: a poll means the PUT's result is in durable state.
    # Killed between ARM's answer and that record, the PUT would rightly be sent again.
    def polling() -> bool:
        methods = [r["method"] for r in own.arm_requests(hub)]
        # The read before the PUT, the PUT, then polls.
        return methods[:2] == ["GET", "PUT"] and "GET" in methods[2:]

    own.wait(polling, what="the PUT and a first poll in the ARM journal")
    restartable_host.kill()
    done_at_kill = [r for r in own.arm_requests(hub) if r["method"] == "GET" and r["status"] == 200]
    assert done_at_kill == [], "ARM had finished before the kill: nothing left to recover"
    assert own.events_for(operation_id) == []

    start_host(restartable_host, settings_file)

    view = own.wait_for_end(operation_id, timeout=30)
    assert view["status"] == "Succeeded", own.explain(f"view: {view}")
    events = own.events_for(operation_id)
    assert [e["eventType"] for e in events] == [SUCCEEDED], own.explain(f"events: {events}")
    puts = own.arm_puts(hub)
    assert len(puts) == 1, own.explain(f"PUTs: {puts}")
    recovered = re.findall(
        r"Recovered (\d+) instances with messages, (\d+) activities and (\d+)",
        restartable_host.log(),
    )
    assert recovered, own.explain("the restarted host did not recover anything")
    assert any(sum(int(n) for n in counts) > 0 for counts in recovered), own.explain(
        f"recovery counts: {recovered}"
    )
    assert restartable_host.log().count("devhost serving") == 2
