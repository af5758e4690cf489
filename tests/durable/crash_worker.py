"""Run `bookends` on a SQLite file until its timer is pending, say so, then wait to be killed.

Usage: python -m tests.durable.crash_worker PATH
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from devhost.durable import DurableEngine, SqliteStore, VirtualClock
from tests.durable.harness import ORCHESTRATORS, START, ActivityHost, in_process_runner

INSTANCE_ID = "killed"
PAUSED_AT = START + timedelta(minutes=30)


async def main(path: str) -> None:
    """Start the instance, run it to its pending timer, report, and block."""
    engine = DurableEngine(
        ORCHESTRATORS.keys(),
        in_process_runner(ORCHESTRATORS),
        ActivityHost(),
        SqliteStore(path),
        VirtualClock(START),
    )
    await engine.start_new("bookends", INSTANCE_ID, None)
    await engine.run_until_idle(until=PAUSED_AT)
    print("paused", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
