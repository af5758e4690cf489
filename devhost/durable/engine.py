"""The durable engine: drives orchestrations episode by episode, with activities and timers.

It plays the part of the Durable extension and DTFx for azure-functions-durable 1.x
orchestrators. Everything runs on one event loop: episodes call the SDK handle inline
(orchestrator code is replay-safe and quick), activities run as asyncio tasks. Every state
change is committed to the store before the work it enables starts, so `recover()` on a new
engine resumes from the store after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from devhost.durable import client_binding, history
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
    OrchestratorHandle,
    OrchestratorOutcome,
    build_context,
    invoke_orchestrator,
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
    from aiohttp import web

_LOG = logging.getLogger(__name__)

ActivityRunner = Callable[[str, str], Awaitable[str]]
"""async (activity name, input JSON text) -> result JSON text; raising means it failed."""

_WorkKey = tuple[str, str, int]


class DurableEngine:
    """A local durable backend speaking the SDK's JSON replay protocol."""

    def __init__(
        self,
        orchestrators: Mapping[str, OrchestratorHandle],
        run_activity: ActivityRunner,
        store: SqliteStore,
        clock: Clock,
        task_hub: str = "TestHubName",
        max_concurrent_activities: int = 4,
    ) -> None:
        """Wire the engine; call `recover()` when `store` holds work from an earlier run."""
        if max_concurrent_activities < 1:
            raise ValueError("max_concurrent_activities must be at least 1")
        self.task_hub = task_hub
        self.clock = clock
        self._orchestrators = dict(orchestrators)
        self._run_activity = run_activity
        self._store = store
        self._slots = asyncio.Semaphore(max_concurrent_activities)
        self._ready: dict[str, None] = {}  # an ordered set of instances with messages
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
                if existing.runtime_status in ACTIVE_STATUSES:
                    raise InstanceExists(
                        f"An orchestration instance with id '{instance_id}' is already "
                        f"{existing.runtime_status}."
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

    def client_binding_json(self, origin: str, *, function_key: str | None = None) -> str:
        """The `starter` JSON for a `durable_client_input` parameter of a host at `origin`."""
        return client_binding.client_binding_json(origin, self.task_hub, function_key)

    def http_app_routes(self, *, function_key: str | None = None) -> list[web.RouteDef]:
        """aiohttp routes of the durable HTTP API (RPC and public webhook paths)."""
        from devhost.durable.http_api import build_routes

        return build_routes(self, function_key=function_key)

    # Scheduling

    async def run_until_idle(self, until: datetime | None = None) -> None:
        """Run episodes and activities; when only timers remain, move time to the next one.

        Stops when nothing is pending, or before firing a timer due after `until`; with
        `until` the clock is left at `until` (a VirtualClock jumps, a WallClock waits).
        """
        while True:
            await self._drain()
            timer = self._next_timer()
            if timer is None or (until is not None and timer.fire_at > until):
                break
            await self.clock.sleep_until(timer.fire_at)
            self._fire_due_timers()
        if until is not None:
            await self.clock.sleep_until(until)

    async def run_forever(self) -> None:
        """Serve as the host's background scheduler (WallClock); cancel the task to stop."""
        clock = self.clock
        if not isinstance(clock, WallClock):
            raise TypeError(
                "run_forever needs a WallClock; drive a VirtualClock with run_until_idle"
            )
        while True:
            self._wake.clear()
            self._step()
            if self._ready:
                await asyncio.sleep(0)  # let HTTP handlers and activities have a turn
                continue
            timer = self._next_timer()
            timeout = None if timer is None else clock.real_seconds_until(timer.fire_at)
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
        """Run until no episode is runnable and no activity is in flight."""
        while True:
            self._step()
            if self._ready:
                await asyncio.sleep(0)  # stay responsive to HTTP handlers and activities
                continue
            if not self._in_flight:
                return
            await asyncio.wait(list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED)

    async def aclose(self) -> None:
        """Cancel the activities in flight and wait until they have ended.

        Call it after stopping the scheduler and before closing the store. A cancelled
        activity's work item stays in the store, so `recover()` runs it again (at least once).
        """
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _step(self) -> None:
        """One round of scheduling: fire due timers, run ready episodes, launch activities."""
        self._fire_due_timers()
        self._run_ready_episodes()
        self._launch_activities()

    def _run_ready_episodes(self) -> None:
        for instance_id in list(self._ready):
            del self._ready[instance_id]
            try:
                self._run_episode(instance_id)
            except Exception as exc:
                # A bug or a broken handle in one instance must not stop every other one.
                _LOG.exception("Engine error in an episode of orchestration %s", instance_id)
                self._fail_after_engine_error(instance_id, exc)

    # Episodes

    def _run_episode(self, instance_id: str) -> None:
        record = self._store.get_instance(instance_id)
        if record is None or record.runtime_status not in ACTIVE_STATUSES:
            return
        batch = select_batch(self._store.messages(instance_id))
        if not batch:
            return
        now = self.clock.now()
        fresh = [history.orchestrator_started(now), *(message.event for message in batch)]
        past = [history.as_played(event) for event in self._store.load_history(instance_id)]
        outcome = self._invoke(record, [*past, *fresh])
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

    def _invoke(self, record: InstanceRecord, events: list[HistoryEvent]) -> OrchestratorOutcome:
        handle = self._orchestrators.get(record.name)
        if handle is None:
            error = f"No orchestrator named '{record.name}' is registered with this engine."
            return OrchestratorOutcome(False, (), None, None, error)
        return invoke_orchestrator(handle, build_context(record.instance_id, record.input, events))

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
                for timer_id in plan.canceled_timer_ids:
                    self._store.remove_timer(instance_id, record.execution_id, timer_id)
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
        self._apply_to_queues(record, plan)
        if self._store.messages(instance_id):
            self._ready[instance_id] = None
        self._log_transition(record, updated)
        self._notify()

    def _apply_to_queues(self, record: InstanceRecord, plan: EpisodePlan) -> None:
        if not isinstance(plan.result, StillRunning):
            self._forget_work(record.instance_id)
            return
        for timer_id in plan.canceled_timer_ids:
            self._timers.pop((record.instance_id, record.execution_id, timer_id), None)
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

    def _fail_after_engine_error(self, instance_id: str, exc: Exception) -> None:
        """Commit the instance as Failed: its episode raised outside the orchestrator's code."""
        now = self.clock.now()
        with self._store.transaction():
            record = self._store.get_instance(instance_id)
            if record is None or record.runtime_status not in ACTIVE_STATUSES:
                return
            message = f"devhost durable engine error: {type(exc).__name__}: {exc}"
            status, output = _final_status(record.name, Failed(message))
            self._store.drop_pending_work(instance_id)
            self._store.append_history(
                instance_id, [history.execution_completed(status.value, output, now)]
            )
            updated = replace(record, runtime_status=status, output=output, last_updated_time=now)
            self._store.put_instance(updated)
        self._forget_work(instance_id)
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

    async def _execute(self, item: ActivityWorkItem) -> None:
        async with self._slots:
            try:
                result = await self._run_activity(item.name, item.input)
            except Exception as exc:
                reason = f"Activity function '{item.name}' failed: {type(exc).__name__}: {exc}"
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
        self._wake.set()

    def _next_timer(self) -> PendingTimer | None:
        return min(self._timers.values(), key=lambda timer: timer.fire_at, default=None)

    def _fire_due_timers(self) -> None:
        now = self.clock.now()
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
