"""Detection lag: from ARM's Succeeded to our completion event, with and without Retry-After.

Runs the real app on the local host in real time (a wall clock, no speed-up) against the
emulators. The ARM emulator ends each operation `--duration` seconds after its PUT
(`durationSeconds` in emulators/arm/scenarios.py); one hub's status answers carry
`Retry-After: --interval`, the other's carry none, so the app waits its default interval
(`POLL_DEFAULT_INTERVAL_SECONDS`, set to `--interval`). The lag of one operation is the time
the Event Grid emulator received its completion event minus the moment ARM's operation turned
Succeeded (the PUT's journal time plus the duration). The target is one interval plus 0.5 s:
the poll that sees Succeeded comes at most one wait after it, and the event follows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from devhost.durable import WallClock
from devhost.host import Host
from devhost.host_thread import HostThread
from emulators.testing import EmulatorStack
from shared.settings import get_settings
from tests.examples import RESOURCE_GROUP, ROOT, SUBSCRIPTION, envelope

TARGET_SLACK_SECONDS = 0.5
VARIANTS = (("with Retry-After", "seconds"), ("without Retry-After", "none"))


def measure(
    stack: EmulatorStack, host_url: str, hub: str, form: str, args: argparse.Namespace
) -> list[float]:
    """Provision `args.operations` new types on `hub` at once; each one's lag in seconds."""
    requests.put(
        f"{stack.arm.url}/_emulator/hubs/{hub}/scenario",
        json={
            "mode": "location",
            "durationSeconds": args.duration,
            "retryAfter": args.interval,
            "retryAfterForm": form,
        },
        timeout=5,
    ).raise_for_status()
    names = {}
    for i in range(args.operations):
        answer = requests.post(
            f"{host_url}/api/interactions", json=envelope(hub, f"Lag{i}"), timeout=30
        )
        answer.raise_for_status()
        names[answer.json()["operationId"]] = f"Lag{i}"
    events = _wait_for_events(stack, set(names), timeout=args.duration + 10 * args.interval + 30)
    puts = {
        e["path"].rsplit("/", 1)[-1].lower(): _epoch(e["time"])
        for e in _arm_journal(stack)
        if e["method"] == "PUT" and f"/hubs/{hub.lower()}/" in e["path"].lower()
    }
    lags = []
    for operation_id, name in names.items():
        event = events[operation_id]
        if not event["eventType"].endswith("Succeeded"):
            raise SystemExit(f"{hub}/{name} did not succeed: {event['data']}")
        succeeded_at = puts[name.lower()] + args.duration
        lags.append(_epoch(event["_receivedAt"]) - succeeded_at)
    return lags


def _wait_for_events(
    stack: EmulatorStack, operation_ids: set[str], *, timeout: float
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = requests.get(f"{stack.eventgrid.url}/_emulator/events", timeout=5).json()
        found = {
            e["data"]["operationId"]: e
            for e in received["events"]
            if isinstance(e.get("data"), dict) and e["data"].get("operationId") in operation_ids
        }
        if len(found) == len(operation_ids):
            return found
        time.sleep(0.1)
    raise SystemExit(f"no completion event within {timeout:.0f} s")


def _arm_journal(stack: EmulatorStack) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{stack.arm.url}/_emulator/requests", timeout=5
    ).json()["requests"]
    return entries


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=5, help="operations per variant")
    parser.add_argument("--duration", type=float, default=3.0, help="ARM provisioning, seconds")
    parser.add_argument("--interval", type=int, default=1, help="Retry-After / default, s")
    args = parser.parse_args()
    target = args.interval + TARGET_SLACK_SECONDS
    with tempfile.TemporaryDirectory() as state, EmulatorStack() as stack:
        settings = {
            **stack.settings(),
            "DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION,
            "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP,
            "POLL_MIN_INTERVAL_SECONDS": "0",
            "POLL_DEFAULT_INTERVAL_SECONDS": str(args.interval),
        }
        host = Host(
            app_dir=ROOT,
            settings=settings,
            state_dir=Path(state),
            clock=WallClock(),
            start_listeners=False,
        )
        get_settings.cache_clear()
        with HostThread(host) as thread:
            print(
                f"{args.operations} operations per variant, ARM done {args.duration:g} s after "
                f"the PUT, interval {args.interval} s, target {target:g} s"
            )
            print(f"{'status answers':<22}{'median s':>9}{'max s':>7}{'min s':>7}  within")
            for label, form in VARIANTS:
                hub = "Lag" + form.replace("-", "")
                lags = measure(stack, thread.host.url, hub, form, args)
                verdict = "yes" if max(lags) <= target else "NO"
                print(
                    f"{label:<22}{statistics.median(lags):>9.2f}{max(lags):>7.2f}"
                    f"{min(lags):>7.2f}  {verdict}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
