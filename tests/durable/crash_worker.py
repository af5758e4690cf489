"""Run `bookends` on a SQLite file until its timer is pending, say so, then wait to be killed.

The app runs in a worker of this process's own, which exits when this process dies: it loses
its stream to the host.

Usage: python -m tests.durable.crash_worker PATH
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from devhost.durable import DurableEngine, SqliteStore, VirtualClock
from tests.durable.harness import START, ActivityHost, SampleWorker

INSTANCE_ID = "killed"
PAUSED_AT = START + timedelta(minutes=30)


async def run(worker: SampleWorker, path: Path) -> None:
    """Start the instance, run it to its pending timer, report, and block."""
    engine = DurableEngine(
        worker.orchestrators,
        worker.run_orchestrator,
        ActivityHost(worker),
        SqliteStore(path),
        VirtualClock(START),
    )
    await engine.start_new("bookends", INSTANCE_ID, None)
    await engine.run_until_idle(until=PAUSED_AT)
    print("paused", flush=True)
    await asyncio.Event().wait()


def main(path: Path) -> None:
    """Start the worker beside the store, then run."""
    with SampleWorker(scratch_dir=path.parent) as worker:
        asyncio.run(run(worker, path))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
