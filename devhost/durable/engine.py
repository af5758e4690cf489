"""The durable engine: drives orchestrations episode by episode, with activities and timers.

It plays the part of the Durable extension and DTFx for azure-functions-durable 1.x
orchestrators. Everything runs on one event loop: episodes and activities are asyncio tasks
awaiting their runners, at most one episode per instance at a time. Every state change is
committed to the store before the work it enables starts, so `recover()` on a new engine
resumes from the store after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from devhost.durable import history
from devhost.durable.clocks import Clock, WallClock
from devhost.durable.episode import (
    Completed,
    ContinuedAsNew,
    EpisodePlan,
    Failed,
    StillRunning,
    plan_episode,
    select_batch,
)
from devhost.durable.errors import (
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    InstanceStillRunning,
    UnknownOrchestrator,
)
from devhost.durable.protocol import (
    ActivityInvocationError,
    OrchestratorInvocationError,
    OrchestratorOutcome,
    OrchestratorRunner,
    build_context,
    parse_failure,
    parse_state,
)
from devhost.durable.records import (
    ACTIVE_STATUSES,
    ActivityWorkItem,
    HistoryEvent,
    InboxMessage,
    InstanceRecord,
    PendingTimer,
    ReplayState,
    RuntimeStatus,
)
from devhost.durable.status import status_payload
from devhost.durable.store import SqliteStore

if TYPE_CHECKING:
    pass

_LOG = logging.getLogger(__name__)

ActivityRunner = Callable[[str, str], Awaitable[str]]
"""async (activity name, input JSON text) -> result JSON text; raising means it failed."""

_WorkKey = tuple[str, str, int]

# When an invocation breaks (not the function: the worker), the extension throws
# SessionAbortedException ("This will abort the execution and cause the message to go back
# onto the queue for re-processing": DurableTaskExtension.OrchestrationMiddleware and
# OutOfProcMiddleware.CallOrchestratorAsync in Azure/azure-functions-durable-extension,
# src/WebJobs.Extensions.DurableTask/). DTFx's WorkItemDispatcher.ProcessWorkItemAsync then
# abandons the work item, and Azure Storage hides its messages for 2^DequeueCount seconds, at
# most 600 (Azure/durabletask, src/DurableTask.Core/WorkItemDispatcher.cs and
# src/DurableTask.AzureStorage/Messaging/TaskHubQueue.cs AbandonMessageAsync).
_MAX_ABANDON_DELAY_S = 600


class DurableEngine:
    """A local durable backend speaking the SDK's JSON replay protocol."""

    def __init__(
        self,
        orchestrators: Collection[str],
        run_orchestrator: OrchestratorRunner,
        run_activity: ActivityRunner,
        store: SqliteStore,
        clock: Clock,
        task_hub: str = "TestHubName",
        max_concurrent_activities: int = 4,
    ) -> None:
        """Wire the engine; call `recover()` when `store` holds work from an earlier run.

        `orchestrators` names the orchestrator functions `run_orchestrator` can run.
        """
        if max_concurrent_activities < 1:
            raise ValueError("max_concurrent_activities must be at least 1")
        self.task_hub = task_hub
        self.clock = clock
        self._orchestrators = frozenset(orchestrators)
        self._run_orchestrator = run_orchestrator
        self._run_activity = run_activity
        self._store = store
        self._slots = asyncio.Semaphore(max_concurrent_activities)
        self._ready: dict[str, None] = {}  # an ordered set of instances with messages
        self._episodes: dict[str, asyncio.Task[None]] = {}
        self._abandoned: dict[str, int] = {}  # consecutive broken invocations per instance
        self._retry_at: dict[str, datetime] = {}  # when an abandoned episode runs again
        self._queued: dict[_WorkKey, ActivityWorkItem] = {}
        self._in_flight: dict[_WorkKey, asyncio.Task[None]] = {}
        self._timers: dict[_WorkKey, PendingTimer] = {}
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()

    # Client operations

    async def start_new(
        self, name: str, instance_id: str | None = None, input_json: str | None = None
    ) -> str:
        """Schedule a new instance; a finished instance with the same id is replaced."""
        if name not in self._orchestrators:
            raise UnknownOrchestrator(
                f"The function '{name}' doesn't exist, is disabled, or is not an "
                "orchestrator function."
            )
        _require_json_text("input", input_json)
        instance_id = instance_id or uuid.uuid4().hex
        now = self.clock.now()
        with self._store.transaction():
            existing = self._store.get_instance(instance_id)
            if existing is not None:
                # OverridableExistingInstanceStates defaults to NonRunningStates; the text is
                # Azure Storage's (AzureStorageOrchestrationService.CreateTaskOrchestrationAsync).
                if existing.runtime_status in ACTIVE_STATUSES:
                    raise InstanceExists(
                        f"An Orchestration instance with the status {existing.runtime_status} "
                        "already exists."
                    )
                self._store.delete_instance(instance_id)
            self._store.put_instance(
                InstanceRecord(
                    instance_id=instance_id,
                    name=name,
                    execution_id=uuid.uuid4().hex,
                    runtime_status=RuntimeStatus.PENDING,
                    input=input_json,
                    output=None,
                    custom_status=None,
                    created_time=now,
                    last_updated_time=now,
                    replay=ReplayState(),
                )
            )
            self._store.add_message(instance_id, history.execution_started(name, input_json, now))
        self._forget_work(instance_id)
        self._ready[instance_id] = None
        _LOG.info("Orchestration %s (%s) started", instance_id, name)
        self._notify()
        return instance_id

    async def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> None:
        """Deliver an external event; it waits in history until the orchestrator asks for it."""
        if not event_name:
            raise ValueError("The event name must be a non-empty string.")
        _require_json_text("event data", data_json)
        now = self.clock.now()
        with self._store.transaction():
            self._active_record(instance_id)
            data = "null" if data_json is None else data_json
            self._store.add_message(instance_id, history.event_raised(event_name, data, now))
        self._ready[instance_id] = None
        self._notify()

    async def terminate(self, instance_id: str, reason: str) -> None:
        """Stop an active instance: status Terminated, output = reason, pending work dropped."""
        now = self.clock.now()
        with self._store.transaction():
            record = self._active_record(instance_id)
            self._store.drop_pending_work(instance_id)
            self._store.append_history(instance_id, [history.execution_terminated(reason, now)])
            self._store.put_instance(
                replace(
                    record,
                    runtime_status=RuntimeStatus.TERMINATED,
                    output=json.dumps(reason),
                    last_updated_time=now,
                )
            )
        self._forget_work(instance_id)
        _LOG.info("Orchestration %s (%s) terminated: %s", instance_id, record.name, reason)
        self._notify()

    async def purge(self, instance_id: str) -> int:
        """Delete a finished instance and its history; returns how many were deleted (0 or 1)."""
        with self._store.transaction():
            record = self._store.get_instance(instance_id)
            if record is None:
                return 0
            if record.runtime_status in ACTIVE_STATUSES:
                raise InstanceStillRunning(
                    f"Only finished instances can be purged; '{instance_id}' is "
                    f"{record.runtime_status}."
                )
            self._store.delete_instance(instance_id)
        self._notify()
        return 1

    async def purge_by(
        self,
        *,
        created_from: datetime,
        created_to: datetime | None = None,
        runtime_status: Sequence[str] | None = None,
    ) -> int:
        """Delete the finished instances matching the filters; returns how many."""
        finished = {s.value for s in RuntimeStatus} - {s.value for s in ACTIVE_STATUSES}
        statuses = finished if runtime_status is None else finished & set(runtime_status)
        with self._store.transaction():
            records = self._store.query_instances(
                runtime_status=sorted(statuses), created_from=created_from, created_to=created_to
            )
            for record in records:
                self._store.delete_instance(record.instance_id)
        self._notify()
        return len(records)

    def get_status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        """The extension-shaped status JSON, or None for an unknown instance."""
        record = self._store.get_instance(instance_id)
        if record is None:
            return None
        events = self._store.load_history(instance_id) if show_history else None
        return status_payload(
            record, events, show_history_output=show_history_output, show_input=show_input
        )

    def query(
        self,
        *,
        runtime_status: Sequence[str] | None = None,
        instance_id_prefix: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        show_input: bool = True,
    ) -> list[dict[str, Any]]:
        """Status JSON of every instance matching all the given filters."""
        records = self._store.query_instances(
            runtime_status=runtime_status,
            instance_id_prefix=instance_id_prefix,
            created_from=created_from,
            created_to=created_to,
        )
        return [status_payload(record, show_input=show_input) for record in records]

    async def wait_for_completion(self, instance_id: str) -> dict[str, Any]:
        """Wait until the instance is Completed, Failed or Terminated; returns its status.

        Someone else must drive the engine meanwhile (`run_forever`, or `run_until_idle`
        in another task); bound the wait with `asyncio.timeout`.
        """
        while True:
            changed = self._changed
            status = self.get_status(instance_id)
            if status is not None and status["runtimeStatus"] not in ACTIVE_STATUSES:
                return status
            await changed.wait()

    # Scheduling

    async def run_until_idle(self, until: datetime | None = None) -> None:
        """Run episodes and activities; when only timers remain, move time to the next one.

        Stops when nothing is pending, or before firing a timer (or retrying an abandoned
        episode) due after `until`; with `until` the clock is left at `until` (a VirtualClock
        jumps, a WallClock waits).
        """
        while True:
            await self._drain()
            due = self._next_due()
            if due is None or (until is not None and due > until):
                break
            await self.clock.sleep_until(due)
            self._release_due_work()
        if until is not None:
            await self.clock.sleep_until(until)

    async def run_forever(self) -> None:
        """Serve as the host's background scheduler (WallClock); cancel the task to stop.

        Episodes and activities it started keep running until `aclose()`.
        """
        clock = self.clock
        if not isinstance(clock, WallClock):
            raise TypeError(
                "run_forever needs a WallClock; drive a VirtualClock with run_until_idle"
            )
        while True:
            self._wake.clear()
            self._step()
            due = self._next_due()
            timeout = None if due is None else clock.real_seconds_until(due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def recover(self) -> None:
        """Queue the work a previous engine left in the store: messages, activities, timers."""
        latest = self._store.latest_update()
        if latest is not None and isinstance(self.clock, WallClock):
            self.clock.resume_from(latest)
        for instance_id in self._store.instances_with_messages():
            self._ready[instance_id] = None
        activities = self._store.activities()
        for item in activities:
            key = _activity_key(item)
            if key not in self._in_flight:
                self._queued[key] = item
        timers = self._store.timers()
        for timer in timers:
            self._timers[_timer_key(timer)] = timer
        _LOG.info(
            "Recovered %d instances with messages, %d activities and %d timers",
            len(self._ready),
            len(activities),
            len(timers),
        )
        self._wake.set()

    async def _drain(self) -> None:
        """Run until no episode can start and no episode or activity is in flight."""
        while True:
            self._wake.clear()
            self._step()
            if not self._episodes and not self._in_flight:
                return
            await self._wake.wait()  # set when a task ends or a client adds work

    async def aclose(self) -> None:
        """Cancel the episodes and activities in flight and wait until they have ended.

        Call it after stopping the scheduler and before closing the store. A cancelled
        episode commits nothing and a cancelled activity's work item stays in the store, so
        `recover()` runs them again (activities at least once).
        """
        tasks = [*self._episodes.values(), *self._in_flight.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _step(self) -> None:
        """One round of scheduling: release due work, start episodes, launch activities."""
        self._release_due_work()
        self._launch_episodes()
        self._launch_activities()

    def _launch_episodes(self) -> None:
        for instance_id in list(self._ready):
            # One episode per instance; messages that arrive meanwhile wait for the next.
            if instance_id in self._episodes or instance_id in self._retry_at:
                continue
            del self._ready[instance_id]
            task = asyncio.create_task(self._episode(instance_id), name=f"episode {instance_id}")
            self._episodes[instance_id] = task
            task.add_done_callback(functools.partial(self._episode_done, instance_id))

    def _episode_done(self, instance_id: str, _task: asyncio.Task[None]) -> None:
        del self._episodes[instance_id]
        self._wake.set()

    # Episodes

    async def _episode(self, instance_id: str) -> None:
        record = self._store.get_instance(instance_id)
        if record is None or record.runtime_status not in ACTIVE_STATUSES:
            return
        batch = select_batch(self._store.messages(instance_id))
        if not batch:
            return
        try:
            await self._run_episode(record, batch)
        except Exception as exc:
            # A bug or a broken orchestrator state in one instance must not stop the others.
            _LOG.exception("Engine error in an episode of orchestration %s", instance_id)
            self._fail_after_engine_error(record, exc)

    async def _run_episode(self, record: InstanceRecord, batch: list[InboxMessage]) -> None:
        instance_id = record.instance_id
        now = self.clock.now()
        fresh = [history.orchestrator_started(now), *(message.event for message in batch)]
        past = [history.as_played(event) for event in self._store.load_history(instance_id)]
        context_json = build_context(instance_id, record.input, [*past, *fresh])
        if record.name not in self._orchestrators:
            error = f"No orchestrator named '{record.name}' is registered with this engine."
            outcome = OrchestratorOutcome(False, (), None, None, error)
        else:
            try:
                state_json = await self._run_orchestrator(record.name, context_json)
            except OrchestratorInvocationError as exc:
                outcome = parse_failure(exc.message)
            except Exception as exc:
                self._abandon(record, exc)
                return
            else:
                outcome = parse_state(state_json)
        plan = plan_episode(
            instance_id=instance_id,
            execution_id=record.execution_id,
            replay=record.replay,
            outcome=outcome,
            batch=batch,
            now=now,
        )
        _LOG.debug(
            "Episode of %s: %d messages, %d actions, %d new events -> %s",
            instance_id,
            len(batch),
            len(outcome.actions),
            len(plan.new_events),
            type(plan.result).__name__,
        )
        self._commit_episode(record, batch, fresh, plan, now)

    def _abandon(self, record: InstanceRecord, exc: Exception) -> None:
        """Leave the batch in the inbox and run the episode again after a backoff."""
        instance_id = record.instance_id
        if self._store.get_instance(instance_id) != record:
            return  # ended or started afresh meanwhile: the batch is gone or not its to retry
        attempts = self._abandoned.get(instance_id, 0) + 1
        self._abandoned[instance_id] = attempts
        delay = min(2**attempts, _MAX_ABANDON_DELAY_S)
        self._retry_at[instance_id] = self.clock.now() + timedelta(seconds=delay)
        _LOG.warning(
            "Episode of orchestration %s abandoned (the orchestrator invocation broke: "
            "%s: %s); retrying in %d s",
            instance_id,
            type(exc).__name__,
            exc,
            delay,
        )

    def _commit_episode(
        self,
        record: InstanceRecord,
        batch: list[InboxMessage],
        fresh: list[HistoryEvent],
        plan: EpisodePlan,
        now: datetime,
    ) -> None:
        instance_id = record.instance_id
        result = plan.result
        events = [*fresh, *plan.new_events, history.orchestrator_completed(now)]
        updated = replace(
            record,
            runtime_status=RuntimeStatus.RUNNING,
            # The SDK leaves out a falsy custom status, so absence means "unchanged".
            custom_status=(
                record.custom_status if plan.custom_status is None else plan.custom_status
            ),
            last_updated_time=now,
            replay=plan.replay,
        )
        with self._store.transaction():
            if self._store.get_instance(instance_id) != record:
                # Terminated, purged or started afresh while the episode ran: its result
                # belongs to an execution that is over.
                _LOG.info("Orchestration %s changed during an episode; result dropped", instance_id)
                return
            self._store.delete_messages(message.message_id for message in batch)
            if isinstance(result, ContinuedAsNew):
                # Events raised meanwhile belong to the new execution; nothing else does.
                self._store.drop_pending_work(instance_id, keep_event_raised=True)
                self._store.clear_history(instance_id)
                self._store.add_message(
                    instance_id, history.execution_started(record.name, result.input, now)
                )
                updated = replace(
                    updated,
                    execution_id=uuid.uuid4().hex,
                    input=result.input,
                    replay=ReplayState(),
                )
            elif isinstance(result, StillRunning):
                self._store.append_history(instance_id, events)
                for item in plan.activities:
                    self._store.add_activity(item)
                for timer in plan.timers:
                    self._store.add_timer(timer)
            else:
                status, output = _final_status(record.name, result)
                events.append(history.execution_completed(status.value, output, now))
                self._store.append_history(instance_id, events)
                self._store.drop_pending_work(instance_id)
                updated = replace(updated, runtime_status=status, output=output)
            self._store.put_instance(updated)
        self._abandoned.pop(instance_id, None)
        self._apply_to_queues(record, plan)
        if self._store.messages(instance_id):
            self._ready[instance_id] = None
        self._log_transition(record, updated)
        self._notify()

    def _apply_to_queues(self, record: InstanceRecord, plan: EpisodePlan) -> None:
        if not isinstance(plan.result, StillRunning):
            self._forget_work(record.instance_id)
            return
        for item in plan.activities:
            self._queued[_activity_key(item)] = item
        for timer in plan.timers:
            self._timers[_timer_key(timer)] = timer

    @staticmethod
    def _log_transition(before: InstanceRecord, after: InstanceRecord) -> None:
        if after.execution_id != before.execution_id:
            _LOG.info("Orchestration %s (%s) continued as new", after.instance_id, after.name)
        elif after.runtime_status == RuntimeStatus.COMPLETED:
            _LOG.info("Orchestration %s (%s) completed", after.instance_id, after.name)
        elif after.runtime_status == RuntimeStatus.FAILED:
            _LOG.info(
                "Orchestration %s (%s) failed: %s", after.instance_id, after.name, after.output
            )

    def _fail_after_engine_error(self, record: InstanceRecord, exc: Exception) -> None:
        """Commit the instance as Failed: its episode raised outside the orchestrator's code."""
        now = self.clock.now()
        with self._store.transaction():
            if self._store.get_instance(record.instance_id) != record:
                return  # the execution ended or changed meanwhile; nothing to fail
            message = f"devhost durable engine error: {type(exc).__name__}: {exc}"
            status, output = _final_status(record.name, Failed(message))
            self._store.drop_pending_work(record.instance_id)
            self._store.append_history(
                record.instance_id, [history.execution_completed(status.value, output, now)]
            )
            updated = replace(record, runtime_status=status, output=output, last_updated_time=now)
            self._store.put_instance(updated)
        self._forget_work(record.instance_id)
        self._log_transition(record, updated)
        self._notify()

    # Activities and timers

    def _launch_activities(self) -> None:
        for key, item in list(self._queued.items()):
            del self._queued[key]
            task = asyncio.create_task(self._execute(item), name=f"activity {item.name} {key}")
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._activity_done, key))

    def _activity_done(self, key: _WorkKey, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        self._wake.set()

    async def _execute(self, item: ActivityWorkItem) -> None:
        async with self._slots:
            try:
                result = await self._run_activity(item.name, item.input)
            except Exception as exc:
                raised = exc.message if isinstance(exc, ActivityInvocationError) else None
                reason = f"Activity function '{item.name}' failed: " + (
                    raised or f"{type(exc).__name__}: {exc}"
                )
                event = history.task_failed(
                    item.task_id, reason, traceback.format_exc(), self.clock.now()
                )
            else:
                event = _completion_event(item, result, self.clock.now())
        with self._store.transaction():
            if not self._store.remove_activity(item):
                return  # the instance finished, moved on or was purged meanwhile
            failed = event["EventType"] == history.EventType.TaskFailed
            self._store.add_message(item.instance_id, event, item.retry if failed else None)
        self._ready[item.instance_id] = None

    def _next_due(self) -> datetime | None:
        """When the next timer fires or the next abandoned episode may run again."""
        fire_times = (timer.fire_at for timer in self._timers.values())
        return min([*fire_times, *self._retry_at.values()], default=None)

    def _release_due_work(self) -> None:
        """Fire the due timers and let abandoned episodes whose backoff is over run again."""
        now = self.clock.now()
        for instance_id, retry_at in list(self._retry_at.items()):
            if retry_at <= now:
                del self._retry_at[instance_id]
                self._ready[instance_id] = None
        due = sorted(
            (timer for timer in self._timers.values() if timer.fire_at <= now),
            key=lambda timer: timer.fire_at,
        )
        if not due:
            return
        with self._store.transaction():
            for timer in due:
                if self._store.remove_timer(timer.instance_id, timer.execution_id, timer.timer_id):
                    event = history.timer_fired(timer.timer_id, timer.fire_at, now)
                    self._store.add_message(timer.instance_id, event, timer.retry)
        for timer in due:
            del self._timers[_timer_key(timer)]
            self._ready[timer.instance_id] = None

    # Helpers

    def _active_record(self, instance_id: str) -> InstanceRecord:
        record = self._store.get_instance(instance_id)
        if record is None:
            raise InstanceNotFound(f"No instance with ID '{instance_id}' found.")
        if record.runtime_status not in ACTIVE_STATUSES:
            raise InstanceNotRunning(
                f"Instance '{instance_id}' is {record.runtime_status}, not running."
            )
        return record

    def _forget_work(self, instance_id: str) -> None:
        """Drop queued work of an instance that finished, restarted or was purged."""
        self._ready.pop(instance_id, None)
        self._abandoned.pop(instance_id, None)
        self._retry_at.pop(instance_id, None)
        for key in [key for key in self._queued if key[0] == instance_id]:
            del self._queued[key]
        for key in [key for key in self._timers if key[0] == instance_id]:
            del self._timers[key]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        self._wake.set()


def _final_status(name: str, result: Completed | Failed) -> tuple[RuntimeStatus, str | None]:
    if isinstance(result, Completed):
        return RuntimeStatus.COMPLETED, result.output
    if result.unprefixed:
        return RuntimeStatus.FAILED, json.dumps(result.message)
    return RuntimeStatus.FAILED, json.dumps(
        f"Orchestrator function '{name}' failed: {result.message}"
    )


def _completion_event(item: ActivityWorkItem, result: str, now: datetime) -> HistoryEvent:
    try:
        json.loads(result)
    except (TypeError, json.JSONDecodeError) as exc:
        # The SDK would crash outside its error path on non-JSON text (pitfall 6).
        reason = (
            f"Activity function '{item.name}' returned a result that is not JSON text: "
            f"{result!r} ({exc})"
        )
        return history.task_failed(item.task_id, reason, "", now)
    return history.task_completed(item.task_id, result, now)


def _require_json_text(what: str, text: str | None) -> None:
    if text is None:
        return
    try:
        json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"The {what} must be JSON text; got {text!r} ({exc}).") from exc


def _activity_key(item: ActivityWorkItem) -> _WorkKey:
    return (item.instance_id, item.execution_id, item.task_id)


def _timer_key(timer: PendingTimer) -> _WorkKey:
    return (timer.instance_id, timer.execution_id, timer.timer_id)
