"""SQLite persistence for the durable engine: instances, history and pending work, one file.

Writes happen only inside `transaction()`, so each state change lands as one commit before
the engine starts the side effect it enables. The store is used from the event loop's
thread only; `check_same_thread` is off because the loop may not be the creating thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from devhost.durable.history import EventType
from devhost.durable.records import (
    ActionRecord,
    ActivityWorkItem,
    HistoryEvent,
    InboxMessage,
    InstanceRecord,
    PendingTimer,
    ReplayState,
    RetrySpec,
    RuntimeStatus,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_time TEXT NOT NULL,
    last_updated_time TEXT NOT NULL,
    replay TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, position)
);
CREATE TABLE IF NOT EXISTS inbox (
    message_id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    event TEXT NOT NULL,
    retry TEXT
);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, message_id);
CREATE TABLE IF NOT EXISTS activities (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT NOT NULL,
    retry TEXT,
    PRIMARY KEY (instance_id, execution_id, task_id)
);
CREATE TABLE IF NOT EXISTS timers (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    timer_id INTEGER NOT NULL,
    fire_at TEXT NOT NULL,
    retry TEXT,
    PRIMARY KEY (instance_id, execution_id, timer_id)
);
"""

_SELECT_INSTANCES = (
    "SELECT instance_id, name, execution_id, runtime_status, input, output, custom_status, "
    "created_time, last_updated_time, replay FROM instances"
)
_PUT_INSTANCE = (
    "INSERT OR REPLACE INTO instances (instance_id, name, execution_id, runtime_status, "
    "input, output, custom_status, created_time, last_updated_time, replay) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SqliteStore:
    """The engine's state in one SQLite database (a file path, or ":memory:")."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open or create the database and its tables."""
        self._conn = sqlite3.connect(os.fspath(path), isolation_level=None, check_same_thread=False)
        if os.fspath(path) != ":memory:":
            # WAL: a commit survives the process being killed right after it.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit; rolls back if the block raises."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if not self._conn.in_transaction:
            raise RuntimeError("SqliteStore writes must happen inside transaction()")
        return self._conn.execute(sql, params)

    # Instances

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance with this id, if any."""
        row = self._conn.execute(
            _SELECT_INSTANCES + " WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        return None if row is None else _instance_from_row(row)

    def put_instance(self, record: InstanceRecord) -> None:
        """Insert or replace an instance."""
        self._write(
            _PUT_INSTANCE,
            (
                record.instance_id,
                record.name,
                record.execution_id,
                record.runtime_status.value,
                record.input,
                record.output,
                record.custom_status,
                _time_text(record.created_time),
                _time_text(record.last_updated_time),
                _replay_text(record.replay),
            ),
        )

    def delete_instance(self, instance_id: str) -> bool:
        """Delete an instance with its history and pending work; False if it did not exist."""
        self.drop_pending_work(instance_id)
        self.clear_history(instance_id)
        cursor = self._write("DELETE FROM instances WHERE instance_id = ?", (instance_id,))
        return cursor.rowcount > 0

    def query_instances(
        self,
        *,
        runtime_status: Iterable[str] | None = None,
        instance_id_prefix: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> list[InstanceRecord]:
        """Instances matching every given filter, oldest first."""
        clauses: list[str] = []
        params: list[Any] = []
        if runtime_status is not None:
            statuses = list(runtime_status)
            clauses.append(f"runtime_status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if instance_id_prefix:
            clauses.append("substr(instance_id, 1, ?) = ?")
            params.extend([len(instance_id_prefix), instance_id_prefix])
        if created_from is not None:
            clauses.append("created_time >= ?")
            params.append(_time_text(created_from))
        if created_to is not None:
            clauses.append("created_time <= ?")
            params.append(_time_text(created_to))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        # The clauses are fixed fragments; every value is a bound parameter.
        sql = _SELECT_INSTANCES + where + " ORDER BY created_time, instance_id"
        rows = self._conn.execute(sql, params).fetchall()
        return [_instance_from_row(row) for row in rows]

    def latest_update(self) -> datetime | None:
        """The latest orchestration time at which any instance changed; None when empty."""
        row = self._conn.execute("SELECT MAX(last_updated_time) FROM instances").fetchone()
        return None if row is None or row[0] is None else _time_from(row[0])

    # History

    def load_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history, in order."""
        rows = self._conn.execute(
            "SELECT event FROM history WHERE instance_id = ? ORDER BY position", (instance_id,)
        ).fetchall()
        return [json.loads(event) for (event,) in rows]

    def append_history(self, instance_id: str, events: Iterable[HistoryEvent]) -> None:
        """Append events after the existing history."""
        (start,) = self._conn.execute(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM history WHERE instance_id = ?",
            (instance_id,),
        ).fetchone()
        for offset, event in enumerate(events):
            self._write(
                "INSERT INTO history (instance_id, position, event) VALUES (?, ?, ?)",
                (instance_id, start + offset, json.dumps(event)),
            )

    def clear_history(self, instance_id: str) -> None:
        """Forget the history, e.g. when an execution continues as new."""
        self._write("DELETE FROM history WHERE instance_id = ?", (instance_id,))

    # Inbox

    def add_message(
        self, instance_id: str, event: HistoryEvent, retry: RetrySpec | None = None
    ) -> None:
        """Queue a history event for the instance's next episode."""
        self._write(
            "INSERT INTO inbox (instance_id, event, retry) VALUES (?, ?, ?)",
            (instance_id, json.dumps(event), _retry_text(retry)),
        )

    def messages(self, instance_id: str) -> list[InboxMessage]:
        """The instance's unprocessed messages, oldest first."""
        rows = self._conn.execute(
            "SELECT message_id, instance_id, event, retry FROM inbox "
            "WHERE instance_id = ? ORDER BY message_id",
            (instance_id,),
        ).fetchall()
        return [_message_from_row(row) for row in rows]

    def delete_messages(self, message_ids: Iterable[int]) -> None:
        """Remove processed messages."""
        for message_id in message_ids:
            self._write("DELETE FROM inbox WHERE message_id = ?", (message_id,))

    def instances_with_messages(self) -> list[str]:
        """Ids of instances that have unprocessed messages."""
        rows = self._conn.execute(
            "SELECT instance_id FROM inbox GROUP BY instance_id ORDER BY MIN(message_id)"
        ).fetchall()
        return [instance_id for (instance_id,) in rows]

    # Pending work

    def add_activity(self, item: ActivityWorkItem) -> None:
        """Record an activity that must run (again, after a crash) until its outcome is in."""
        self._write(
            "INSERT INTO activities (instance_id, execution_id, task_id, name, input, retry) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                item.instance_id,
                item.execution_id,
                item.task_id,
                item.name,
                item.input,
                _retry_text(item.retry),
            ),
        )

    def remove_activity(self, item: ActivityWorkItem) -> bool:
        """Remove an activity; False if it was already dropped (terminated, purged, ...)."""
        cursor = self._write(
            "DELETE FROM activities WHERE instance_id = ? AND execution_id = ? AND task_id = ?",
            (item.instance_id, item.execution_id, item.task_id),
        )
        return cursor.rowcount > 0

    def activities(self) -> list[ActivityWorkItem]:
        """Every activity whose outcome is not recorded yet."""
        rows = self._conn.execute(
            "SELECT instance_id, execution_id, task_id, name, input, retry FROM activities "
            "ORDER BY rowid"
        ).fetchall()
        return [
            ActivityWorkItem(row[0], row[1], row[2], row[3], row[4], _retry_from(row[5]))
            for row in rows
        ]

    def add_timer(self, timer: PendingTimer) -> None:
        """Record a timer that has not fired."""
        self._write(
            "INSERT INTO timers (instance_id, execution_id, timer_id, fire_at, retry) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                timer.instance_id,
                timer.execution_id,
                timer.timer_id,
                _time_text(timer.fire_at),
                _retry_text(timer.retry),
            ),
        )

    def remove_timer(self, instance_id: str, execution_id: str, timer_id: int) -> bool:
        """Remove a timer; False if it was already gone."""
        cursor = self._write(
            "DELETE FROM timers WHERE instance_id = ? AND execution_id = ? AND timer_id = ?",
            (instance_id, execution_id, timer_id),
        )
        return cursor.rowcount > 0

    def timers(self) -> list[PendingTimer]:
        """Every timer that has not fired."""
        rows = self._conn.execute(
            "SELECT instance_id, execution_id, timer_id, fire_at, retry FROM timers "
            "ORDER BY fire_at"
        ).fetchall()
        return [
            PendingTimer(row[0], row[1], row[2], _time_from(row[3]), _retry_from(row[4]))
            for row in rows
        ]

    def drop_pending_work(self, instance_id: str, *, keep_event_raised: bool = False) -> None:
        """Drop the instance's activities, timers and messages (raised events kept on request)."""
        self._write("DELETE FROM activities WHERE instance_id = ?", (instance_id,))
        self._write("DELETE FROM timers WHERE instance_id = ?", (instance_id,))
        for message in self.messages(instance_id):
            if not (keep_event_raised and message.event["EventType"] == EventType.EventRaised):
                self._write("DELETE FROM inbox WHERE message_id = ?", (message.message_id,))


def _time_text(when: datetime) -> str:
    # Fixed width and UTC, so SQL can compare the text.
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time_from(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _retry_text(retry: RetrySpec | None) -> str | None:
    if retry is None:
        return None
    return json.dumps(
        {
            "name": retry.name,
            "input": retry.input,
            "firstIntervalMs": retry.first_interval_ms,
            "maxAttempts": retry.max_attempts,
            "attempt": retry.attempt,
        }
    )


def _retry_from(text: str | None) -> RetrySpec | None:
    if text is None:
        return None
    data = json.loads(text)
    return RetrySpec(
        data["name"], data["input"], data["firstIntervalMs"], data["maxAttempts"], data["attempt"]
    )


def _replay_text(replay: ReplayState) -> str:
    return json.dumps(
        {
            "nextSeq": replay.next_seq,
            "actions": [
                {
                    "kind": action.kind,
                    "name": action.name,
                    "fireAt": None if action.fire_at is None else _time_text(action.fire_at),
                    "taskId": action.task_id,
                }
                for action in replay.actions
            ],
        }
    )


def _replay_from(text: str) -> ReplayState:
    data = json.loads(text)
    return ReplayState(
        data["nextSeq"],
        tuple(
            ActionRecord(
                a["kind"],
                a["name"],
                None if a["fireAt"] is None else _time_from(a["fireAt"]),
                a["taskId"],
            )
            for a in data["actions"]
        ),
    )


def _instance_from_row(row: Sequence[Any]) -> InstanceRecord:
    return InstanceRecord(
        instance_id=row[0],
        name=row[1],
        execution_id=row[2],
        runtime_status=RuntimeStatus(row[3]),
        input=row[4],
        output=row[5],
        custom_status=row[6],
        created_time=_time_from(row[7]),
        last_updated_time=_time_from(row[8]),
        replay=_replay_from(row[9]),
    )


def _message_from_row(row: Sequence[Any]) -> InboxMessage:
    return InboxMessage(row[0], row[1], json.loads(row[2]), _retry_from(row[3]))
