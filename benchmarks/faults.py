"""Faults with many operations in flight: operations lost, events lost, duplicates (same id).

Runs the app in `python -m devhost` against the emulators and Azurite, as tests/e2e does, and
injects the faults of tests/e2e/test_faults.py at a larger scale: SIGKILL of the host in a loop
(restarting it on the same state each time), one SIGKILL at the first completion event, while
the others are being published (the duplicate window of the README's delivery paragraph), an
Event Grid outage, and a restart of the ARM emulator (same port and state dir) while every
operation is mid-poll. Prints the counts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests

from emulators.testing import EmulatorStack
from tests.e2e.harness import (
    Stack,
    Tally,
    all_polled,
    devhost_process,
    make_app_copy,
    requests_for_hub,
    settle,
    start_host,
    submit_many,
    write_settings,
)


def _row(fault: str, injected: int, tally: Tally, seconds: float) -> str:
    return (
        f"{fault:<22}{injected:>9}{tally.operations:>11}{tally.lost_operations:>6}"
        f"{tally.lost_events:>8}{tally.duplicates_same_id:>10}{tally.duplicates_other_id:>11}"
        f"{seconds:>9.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=50, help="operations per fault")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of the host")
    parser.add_argument("--outage", type=int, default=20, help="publishes the topic refuses")
    parser.add_argument(
        "--arm-downtime", type=float, default=5.0, help="seconds the ARM emulator is down"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        EmulatorStack(azurite=True, state_dir=Path(scratch) / "emulators") as emulators,
    ):
        root = Path(scratch)
        settings = write_settings(root / "local.settings.json", emulators)
        host = devhost_process(
            app_dir=make_app_copy(root / "app"),
            settings=settings,
            state_dir=root / "state",
            log_path=root / "devhost.log",
            time_scale=1.0,
        )
        start_host(host, settings)
        stack = Stack(emulators=emulators, host=host)
        try:
            print(
                f"{'fault':<22}{'injected':>9}{'operations':>11}{'lost':>6}{'events':>8}"
                f"{'dup same':>10}{'dup other':>11}{'seconds':>9}"
            )
            started = time.monotonic()
            ids = submit_many(stack, "BenchKill", args.operations, polls=4)
            for _ in range(args.kills):
                time.sleep(1.5)
                host.kill()
                start_host(host, settings)
            tally = settle(stack, ids, timeout=300)
            print(_row("kill -9 of the host", args.kills, tally, time.monotonic() - started))

            # The worst moment: the first completion event is out, the others are being published.
            started = time.monotonic()
            ids = submit_many(stack, "BenchPublish", args.operations, polls=2)
            while not any(stack.events_for(operation_id) for operation_id in ids):
                time.sleep(0.01)
            host.kill()
            start_host(host, settings)
            tally = settle(stack, ids, timeout=300)
            print(_row("kill -9 at 1st event", 1, tally, time.monotonic() - started))

            started = time.monotonic()
            requests.post(
                f"{emulators.eventgrid.url}/_emulator/faults",
                json={"status": 503, "count": args.outage},
                timeout=5,
            ).raise_for_status()
            ids = submit_many(stack, "BenchGrid", args.operations, polls=1)
            tally = settle(stack, ids, timeout=300)
            print(_row("Event Grid 503s", args.outage, tally, time.monotonic() - started))

            started = time.monotonic()
            hubs = [f"BenchArm{index}" for index in range(args.operations)]
            ids = submit_many(stack, "BenchArm", args.operations, polls=8)
            while not all_polled(stack, hubs):
                time.sleep(0.1)
            stopped = emulators.restart_arm(downtime=args.arm_downtime)
            tally = settle(stack, ids, timeout=300)
            print(_row("ARM emulator restart", 1, tally, time.monotonic() - started))
            journal = stopped.journal.entries() + stack.arm_journal()
            puts = sum(
                1 for hub in hubs for e in requests_for_hub(journal, hub) if e["method"] == "PUT"
            )
        finally:
            host.stop()
    print("lost = operations without a terminal status; events = operations without an event")
    print(f"ARM emulator restart: {puts} PUTs for {len(hubs)} resources, across both lives")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
