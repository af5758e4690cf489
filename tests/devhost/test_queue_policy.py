"""Queue trigger decisions: poison, retry, polling backoff, queue names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devhost.queue_policy import (
    MIN_POLLING_INTERVAL,
    AfterFailure,
    Disposition,
    after_failure,
    next_polling_interval,
    on_receive,
    trigger_queue_name_problem,
)


class TestOnReceive:
    @pytest.mark.parametrize(
        ("decodable", "count", "expected"),
        [
            pytest.param(True, 1, Disposition.INVOKE, id="first-try"),
            pytest.param(True, 5, Disposition.INVOKE, id="last-try"),
            pytest.param(True, 6, Disposition.POISON, id="past-limit"),
            pytest.param(False, 1, Disposition.POISON, id="undecodable"),
        ],
    )
    def test_disposition(self, decodable: bool, count: int, expected: Disposition) -> None:
        """Undecodable or over-dequeued messages go to poison; others are invoked."""
        assert on_receive(decodable=decodable, dequeue_count=count, max_dequeue_count=5) is expected


class TestAfterFailure:
    @pytest.mark.parametrize(
        ("count", "expected"),
        [
            pytest.param(1, AfterFailure.RETRY, id="first"),
            pytest.param(4, AfterFailure.RETRY, id="fourth"),
            pytest.param(5, AfterFailure.POISON, id="fifth"),
        ],
    )
    def test_failed_attempts_retry_until_the_limit(
        self, count: int, expected: AfterFailure
    ) -> None:
        """The attempt that reaches maxDequeueCount is the last one."""
        assert after_failure(dequeue_count=count, max_dequeue_count=5) is expected


class TestPollingInterval:
    def test_empty_polls_double_up_to_the_maximum(self) -> None:
        """The wait doubles while the queue is empty and stops at maxPollingInterval."""
        waits = [MIN_POLLING_INTERVAL]
        for _ in range(6):
            waits.append(
                next_polling_interval(waits[-1], found_messages=False, maximum=timedelta(seconds=1))
            )
        assert [w.total_seconds() for w in waits] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]

    def test_finding_work_resets_to_the_minimum(self) -> None:
        """After a non-empty poll the next wait is the minimum again."""
        wait = next_polling_interval(
            timedelta(seconds=30), found_messages=True, maximum=timedelta(minutes=1)
        )
        assert wait == MIN_POLLING_INTERVAL


class TestTriggerQueueName:
    @pytest.mark.parametrize(
        "name",
        [pytest.param("jobs", id="short"), pytest.param("a" * 56, id="56-chars"), "my-jobs-2"],
    )
    def test_valid_names_pass(self, name: str) -> None:
        """Names Azure accepts, with room for -poison, pass."""
        assert trigger_queue_name_problem(name) is None

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            pytest.param("q", "3 to 56 characters", id="too-short"),
            pytest.param("a" * 57, "3 to 56 characters", id="no-room-for-poison"),
            pytest.param("Jobs", "lowercase", id="uppercase"),
            pytest.param("my_q", "lowercase", id="underscore"),
            pytest.param("a--b", "single", id="double-hyphen"),
        ],
    )
    def test_invalid_names_are_explained(self, name: str, message: str) -> None:
        """Names Azure would refuse get a reason before any request is made."""
        problem = trigger_queue_name_problem(name)
        assert problem is not None
        assert message in problem
