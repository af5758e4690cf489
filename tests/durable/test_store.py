"""The SQLite store: transactions, round trips and what survives a new connection."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from devhost.durable import SqliteStore, history
from devhost.durable.records import (
    ActionRecord,
    ActivityWorkItem,
    InstanceRecord,
    PendingTimer,
    ReplayState,
    RetrySpec,
    RuntimeStatus,
)
from tests.durable.harness import START

RETRY = RetrySpec("flaky", '{"k": 1}', 1500, 4, 2)


def _record(instance_id: str = "i", created=START, status=RuntimeStatus.RUNNING) -> InstanceRecord:
    replay = ReplayState(3, (ActionRecord("CreateTimer", None, START, 0),
                             ActionRecord("CallActivityWithRetry", "flaky", None, 1)))  # fmt: skip
    return InstanceRecord(
        instance_id, "orch", "e1", status, '"in"', None, '{"s": 1}', created, created, replay
    )


@pytest.fixture
def store():
    """An in-memory store."""
    store = SqliteStore(":memory:")
    yield store
    store.close()


class TestTransactions:
    """Writes are grouped into commits."""

    def test_write_outside_a_transaction_is_refused(self, store):
        """Every write must be part of a transaction."""
        with pytest.raises(RuntimeError, match="inside transaction"):
            store.put_instance(_record())

    def test_failed_block_rolls_everything_back(self, store):
        """An exception inside transaction() leaves no trace of the block's writes."""

        def write_then_fail() -> None:
            with store.transaction():
                store.put_instance(_record())
                store.add_message("i", history.event_raised("go", "1", START))
                raise RuntimeError("crash inside the transaction")

        with pytest.raises(RuntimeError, match="crash inside"):
            write_then_fail()
        assert store.get_instance("i") is None
        assert store.messages("i") == []


class TestRoundTrips:
    """What goes in comes back out, also through a second connection to the file."""

    def test_state_survives_a_new_connection(self, tmp_path: Path):
        """Instances, history, messages, activities and timers are all read back intact."""
        path = tmp_path / "hub.sqlite"
        writer = SqliteStore(path)
        activity = ActivityWorkItem("i", "e1", 1, "flaky", '{"k": 1}', RETRY)
        timer = PendingTimer("i", "e1", 2, START + timedelta(seconds=1, microseconds=5), RETRY)
        with writer.transaction():
            writer.put_instance(_record())
            writer.append_history("i", [history.orchestrator_started(START)])
            writer.append_history("i", [history.orchestrator_completed(START)])
            writer.add_message("i", history.task_failed(1, "r", "d", START), RETRY)
            writer.add_activity(activity)
            writer.add_timer(timer)

        reader = SqliteStore(path)
        assert reader.get_instance("i") == _record()
        assert [e["EventType"] for e in reader.load_history("i")] == [12, 13]
        assert [m.retry for m in reader.messages("i")] == [RETRY]
        assert reader.instances_with_messages() == ["i"]
        assert reader.activities() == [activity]
        assert reader.timers() == [timer]
        writer.close()
        reader.close()

    def test_drop_pending_work_can_keep_raised_events(self, store):
        """Continue-as-new keeps raised events and drops every other kind of pending work."""
        with store.transaction():
            store.add_message("i", history.task_completed(0, "1", START))
            store.add_message("i", history.event_raised("go", "1", START))
            store.add_activity(ActivityWorkItem("i", "e1", 1, "greet", '"x"'))
            store.add_timer(PendingTimer("i", "e1", 2, START))
            store.drop_pending_work("i", keep_event_raised=True)

        assert [m.event["Name"] for m in store.messages("i")] == ["go"]
        assert store.activities() == []
        assert store.timers() == []


class TestQuery:
    """Filtering instances."""

    def test_filters_combine(self, store):
        """Status, prefix and creation range filters all apply together."""
        with store.transaction():
            store.put_instance(_record("a-1", START))
            store.put_instance(_record("a-2", START + timedelta(hours=1)))
            store.put_instance(_record("b-1", START, RuntimeStatus.COMPLETED))

        def ids(**filters) -> list[str]:
            return [r.instance_id for r in store.query_instances(**filters)]

        assert ids() == ["a-1", "b-1", "a-2"]
        assert ids(runtime_status=["Running"]) == ["a-1", "a-2"]
        assert ids(instance_id_prefix="a-") == ["a-1", "a-2"]
        assert ids(created_from=START + timedelta(minutes=1)) == ["a-2"]
        assert ids(created_to=START, runtime_status=["Completed"]) == ["b-1"]
