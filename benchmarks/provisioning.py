"""What one provisioning costs: ARM calls and local host time per operation.

Runs the real app on the local host with a virtual durable clock against the emulators, for
each ARM long-running style, N operations at once. Virtual time means the numbers measure our
code and the durable replay, not ARM's Retry-After.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from devhost.durable import VirtualClock
from devhost.host import Host
from devhost.host_thread import HostThread
from emulators.testing import EmulatorStack
from shared.settings import get_settings
from tests.examples import RESOURCE_GROUP, ROOT, SUBSCRIPTION, envelope
from tests.orchestration.harness import AppUnderTest

MODES = ("location", "async-operation", "provisioning-state", "sync")


def run_mode(app: AppUnderTest, mode: str, count: int, polls: int) -> dict[str, float]:
    """Provision `count` interaction types on one hub in `mode`; return per-operation costs."""
    hub = "Bench" + mode.replace("-", "")
    app.scenario(hub, mode=mode, pollsUntilDone=polls, retryAfter=10)
    started = time.perf_counter()
    virtual_start = app.now()
    ids = [app.submit(envelope(hub, f"Type{i}"))["operationId"] for i in range(count)]
    submitted = time.perf_counter()
    app.run()
    finished = time.perf_counter()
    views = [app.view(operation_id) for operation_id in ids]
    failed = [v for v in views if v["status"] != "Succeeded"]
    if failed:
        raise SystemExit(f"{mode}: {len(failed)} operations did not succeed: {failed[0]}")
    calls = len(app.arm_requests(hub))
    return {
        "submit_ms": (submitted - started) * 1000 / count,
        "run_ms": (finished - submitted) * 1000 / count,
        "arm_calls": calls / count,
        "virtual_s": (app.now() - virtual_start).total_seconds(),
    }


def run_converge(app: AppUnderTest, count: int) -> list[tuple[str, float, float]]:
    """ARM writes and reads per operation: first submission, the same again, then a change."""
    hub = "BenchConverge"
    app.scenario(hub, mode="location", pollsUntilDone=1, retryAfter=10)
    rows = []
    for label, changes in (
        ("new definition", {}),
        ("unchanged", {}),
        ("changed", {"apiEntitySetName": "Changed"}),
    ):
        before = _journal(app, hub)
        for i in range(count):
            app.submit(envelope(hub, f"Type{i}", **changes))
        app.run()
        seen = _journal(app, hub)[len(before) :]
        writes = sum(1 for r in seen if r["method"] == "PUT")
        rows.append((label, writes / count, (len(seen) - writes) / count))
    return rows


def _journal(app: AppUnderTest, hub: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{app.stack.arm.url}/_emulator/requests", timeout=5
    ).json()["requests"]
    # Operation-status URLs do not name the hub; in this run only this hub is busy.
    return [
        e for e in entries if "/hubs/" not in e["path"].lower() or hub.lower() in e["path"].lower()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=20, help="operations per mode")
    parser.add_argument("--polls", type=int, default=3, help="status reads until ARM is done")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, EmulatorStack() as stack:
        settings = {
            **stack.settings(),
            "DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION,
            "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP,
        }
        clock = VirtualClock(datetime.now(UTC))
        host = Host(
            app_dir=ROOT,
            settings=settings,
            state_dir=Path(state),
            clock=clock,
            start_listeners=False,
        )
        get_settings.cache_clear()
        with HostThread(host) as thread:
            app = AppUnderTest(thread=thread, stack=stack, clock=clock)
            print(
                f"{args.operations} operations per mode, ARM done after {args.polls} status reads"
            )
            print(
                f"{'mode':<20}{'ARM calls/op':>13}"
                f"{'submit ms/op':>14}{'run ms/op':>11}{'virtual s':>11}"
            )
            for mode in MODES:
                row = run_mode(app, mode, args.operations, args.polls)
                print(
                    f"{mode:<20}{row['arm_calls']:>13.1f}"
                    f"{row['submit_ms']:>14.1f}{row['run_ms']:>11.1f}{row['virtual_s']:>11.0f}"
                )
            print(f"\n{'submission':<20}{'ARM writes/op':>14}{'ARM reads/op':>13}")
            for label, writes, reads in run_converge(app, args.operations):
                print(f"{label:<20}{writes:>14.1f}{reads:>13.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
