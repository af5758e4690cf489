"""Build the durable engine for an indexed app: its orchestrators and activities (both run in
the language worker, activities with their output bindings) and a SQLite store under the state
directory."""

from __future__ import annotations

import fcntl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from devhost.bindings import TriggerInput, activity_trigger, json_text, orchestration_trigger
from devhost.durable import (
    ActivityInvocationError,
    DurableEngine,
    OrchestratorInvocationError,
    SqliteStore,
    VirtualClock,
    WallClock,
)
from devhost.durable.protocol import OrchestratorRunner
from devhost.indexing import FunctionIndex
from devhost.invoker import FunctionInvocationError
from devhost.rpc import function_rpc_pb2 as pb

Invoke = Callable[[str, TriggerInput], Awaitable[pb.TypedData | None]]
"""Runs a function in the worker with a trigger input; its `$return` value."""


class StateDirInUse(RuntimeError):  # noqa: N818  # reads as the condition it reports
    """Another host holds the task hub's store in this state dir."""


class LockedStore(SqliteStore):
    """A store that holds an exclusive lock on its lock file until it is closed."""

    def __init__(self, path: Path, lock: BinaryIO) -> None:
        """Open the store at `path`; `lock` is the locked file, released by `close()`."""
        super().__init__(path)
        self._lock = lock

    def close(self) -> None:
        """Close the database, then release the lock."""
        try:
            super().close()
        finally:
            self._lock.close()


def open_store(state_dir: Path, task_hub: str) -> LockedStore:
    """The task hub's store; one file per hub, so hubs sharing a state dir never mix.

    Two hosts on one store would both recover and run the same work, so the first holds a
    lock beside the store and a second one is refused with StateDirInUse. The lock is an
    flock: the kernel releases it when the process dies, even by SIGKILL.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{task_hub}.sqlite3"
    lock = (state_dir / f"{task_hub}.sqlite3.lock").open("wb")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StateDirInUse(
            f"state dir {state_dir} is in use by another devhost for task hub {task_hub!r}; "
            "stop that host or pass another --state-dir"
        ) from None
    try:
        return LockedStore(path, lock)
    except BaseException:
        lock.close()
        raise


def build_engine(
    *,
    index: FunctionIndex,
    run_orchestrator: OrchestratorRunner,
    run_activity: Callable[[str, str], Awaitable[str]],
    store: SqliteStore,
    clock: VirtualClock | WallClock,
    task_hub: str,
    max_concurrent_activities: int,
) -> DurableEngine:
    """A DurableEngine over the app's orchestrationTrigger functions."""
    return DurableEngine(
        orchestrators=[f.name for f in index.of_trigger("orchestrationTrigger")],
        run_orchestrator=run_orchestrator,
        run_activity=run_activity,
        store=store,
        clock=clock,
        task_hub=task_hub,
        max_concurrent_activities=max_concurrent_activities,
    )


class DurableFunctions:
    """The engine's two runners over the host's invoke: episodes and activities in the worker.

    A function that raised is the engine's *InvocationError, so it is recorded as the Durable
    extension records it; anything else (a dead worker, a timeout) breaks the invocation.
    """

    def __init__(self, *, index: FunctionIndex, invoke: Invoke) -> None:
        self._index = index
        self._invoke = invoke

    async def run_orchestrator(self, name: str, context_json: str) -> str:
        """One episode of orchestrator `name`; the SDK's state JSON text."""
        self._require(name, "orchestrationTrigger")
        try:
            return json_text(await self._invoke(name, orchestration_trigger(context_json)))
        except FunctionInvocationError as err:
            raise OrchestratorInvocationError(str(err)) from err

    async def run_activity(self, name: str, input_json: str) -> str:
        """Activity `name` with the orchestrator's JSON input; its result as JSON text."""
        self._require(name, "activityTrigger")
        try:
            return json_text(await self._invoke(name, activity_trigger(input_json)))
        except FunctionInvocationError as err:
            raise ActivityInvocationError(str(err)) from err

    def _require(self, name: str, trigger_type: str) -> None:
        function = self._index[name]
        if function.trigger_type != trigger_type:
            raise ValueError(
                f"function {name!r} is not an {trigger_type} ({function.trigger_type})"
            )
