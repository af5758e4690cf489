"""Build the durable engine for an indexed app: its orchestrators, its activities (run through
the invoker so their output bindings work) and a SQLite store under the state directory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from devhost.durable import DurableEngine, SqliteStore, VirtualClock, WallClock
from devhost.indexing import FunctionIndex
from devhost.logs import logged_invocation


def open_store(state_dir: Path, task_hub: str) -> SqliteStore:
    """The task hub's store; one file per hub, so hubs sharing a state dir never mix."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(state_dir / f"{task_hub}.sqlite3")


def build_engine(
    *,
    index: FunctionIndex,
    run_activity: Callable[[str, str], Awaitable[str]],
    store: SqliteStore,
    clock: VirtualClock | WallClock,
    task_hub: str,
    max_concurrent_activities: int,
) -> DurableEngine:
    """A DurableEngine over the app's orchestrationTrigger functions."""
    orchestrators = {
        f.name: _logged(f.name, f.user_function) for f in index.of_trigger("orchestrationTrigger")
    }
    return DurableEngine(
        orchestrators=orchestrators,
        run_activity=run_activity,
        store=store,
        clock=clock,
        task_hub=task_hub,
        max_concurrent_activities=max_concurrent_activities,
    )


def _logged(name: str, handle: Callable[..., str]) -> Callable[..., str]:
    """The orchestrator handle, writing the invocation log line for each episode."""

    def episode(context: Any) -> str:
        with logged_invocation(name, "orchestrationTrigger"):
            return handle(context=context)

    return episode
