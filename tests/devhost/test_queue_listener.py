"""Queue triggers over Azurite: decoding, dequeue counts, retries and poison."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from devhost.host_thread import HostThread
from tests.devhost.conftest import StartHost
from tests.devhost.support import read_records, wait_until


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def release(record_dir: Path) -> Iterator[Callable[[], None]]:
    """Lets held sample jobs finish; at the end of the test they are let go in any case."""

    def let_go() -> None:
        (record_dir / "release").touch()

    yield let_go
    let_go()


def peek(queue: QueueClient) -> list[str]:
    """Contents of the visible messages, or [] if the queue does not exist yet."""
    try:
        return [m.content for m in queue.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


StartHeldJob = Callable[[str], HostThread]


@pytest.fixture
def start_with_a_held_job(
    start_host: StartHost,
    queues: dict[str, QueueClient],
    record_dir: Path,
    release: Callable[[], None],
) -> StartHeldJob:
    """Start a host and send it a job with the given text, returning once the sample function
    has begun it; the job then waits for `release` (let go at the latest at teardown).

    The stop tests need an invocation in flight when the host stops; the sample holds any job
    whose text contains "hold".
    """

    def start(text: str) -> HostThread:
        thread = start_host()
        queues["jobs"].send_message(b64(text))
        wait_until(lambda: read_records(record_dir, "jobs"), what="the invocation")
        return thread

    return start


class TestQueueListener:
    def test_message_is_decoded_and_deleted_after_success(
        self, start_host: StartHost, queues: dict[str, QueueClient], record_dir: Path
    ) -> None:
        """A base64 message reaches the function decoded, with dequeue_count 1, then is gone."""
        start_host()
        queues["jobs"].send_message(b64('{"job": "ünï"}'))
        (done,) = wait_until(lambda: peek(queues["done"]), what="the done message")
        assert json.loads(base64.b64decode(done)) == {"job": '{"job": "ünï"}', "dequeue_count": 1}
        (record,) = read_records(record_dir, "jobs")
        assert (record["body"], record["dequeue_count"]) == ('{"job": "ünï"}', 1)
        assert wait_until(lambda: not peek(queues["jobs"]), what="the job to be deleted")

    def test_failing_message_is_retried_then_poisoned(
        self, start_host: StartHost, queues: dict[str, QueueClient], record_dir: Path
    ) -> None:
        """A failing message runs with dequeue counts 1..maxDequeueCount, then moves to poison."""
        start_host()
        original = b64("please fail")
        queues["jobs"].send_message(original)
        assert wait_until(lambda: peek(queues["poison"]), what="the poison message") == [original]
        counts = [r["dequeue_count"] for r in read_records(record_dir, "jobs")]
        assert counts == [1, 2, 3]  # maxDequeueCount is 3 in the sample's host.json
        assert peek(queues["jobs"]) == []
        assert peek(queues["done"]) == []

    def test_invalid_base64_goes_straight_to_poison(
        self, start_host: StartHost, queues: dict[str, QueueClient], record_dir: Path
    ) -> None:
        """Text that is not base64 is poisoned without invoking the function."""
        start_host()
        queues["jobs"].send_message("not base64 at all!")
        poisoned = wait_until(lambda: peek(queues["poison"]), what="the poison message")
        assert poisoned == ["not base64 at all!"]
        assert read_records(record_dir, "jobs") == []

    def test_batch_of_messages_is_processed(
        self, start_host: StartHost, queues: dict[str, QueueClient], record_dir: Path
    ) -> None:
        """More messages than batchSize are all processed exactly once."""
        start_host()
        for number in range(6):
            queues["jobs"].send_message(b64(f"job-{number}"))
        wait_until(lambda: len(read_records(record_dir, "jobs")) >= 6, what="six invocations")
        bodies = sorted(r["body"] for r in read_records(record_dir, "jobs"))
        assert bodies == [f"job-{n}" for n in range(6)]

    def test_stop_makes_an_unfinished_message_visible_at_once(
        self, start_with_a_held_job: StartHeldJob, queues: dict[str, QueueClient]
    ) -> None:
        """A message whose function outlasts the stop grace is received again, not hidden."""
        thread = start_with_a_held_job("hold past the stop")
        thread.stop()
        assert peek(queues["jobs"]) == [b64("hold past the stop")]
        assert peek(queues["done"]) == []

    def test_stop_lets_an_invocation_finish_within_the_grace(
        self,
        start_with_a_held_job: StartHeldJob,
        queues: dict[str, QueueClient],
        release: Callable[[], None],
    ) -> None:
        """A function that finishes during the grace completes: output sent, message deleted."""
        thread = start_with_a_held_job("hold briefly")
        stopping = threading.Thread(target=thread.stop)
        stopping.start()
        time.sleep(0.5)  # the stop is under way: without a grace the invocation is gone by now
        release()
        stopping.join(timeout=30)
        (done,) = peek(queues["done"])
        assert json.loads(base64.b64decode(done))["job"] == "hold briefly"
        assert peek(queues["jobs"]) == []
