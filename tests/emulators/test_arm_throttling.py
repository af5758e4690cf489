"""ARM's per-subscription budgets: the bucket arithmetic, and 429s over HTTP."""

from __future__ import annotations

import pytest

from emulators.arm.throttling import SubscriptionThrottle, TokenBucket
from emulators.common.tokens import DEFAULT_OBJECT_ID
from tests.emulators.conftest import SUBSCRIPTION, ArmTarget

OTHER_SUBSCRIPTION = "5e0c3f8e-6a0e-4f7e-9a43-1b2c3d4e5f60"


class FakeClock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestTokenBucket:
    def test_full_bucket_counts_down(self) -> None:
        """Each request takes a token; remaining is what is left after it."""
        bucket = TokenBucket(capacity=3, clock=FakeClock())
        assert [bucket.take().remaining for _ in range(3)] == [2, 1, 0]

    def test_empty_bucket_refuses_with_seconds_until_a_token(self) -> None:
        """At one request per hour the next token is 3600 s away, and half that halfway."""
        clock = FakeClock()
        bucket = TokenBucket(capacity=1, clock=clock)
        bucket.take()
        refused = bucket.take()
        assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 3600)
        clock.now = 1800
        assert bucket.take().retry_after == 1800

    def test_tokens_refill_with_time_up_to_capacity(self) -> None:
        """After the promised wait a request is allowed again, and refills stop at capacity."""
        clock = FakeClock()
        bucket = TokenBucket(capacity=2, clock=clock)
        bucket.take()
        bucket.take()
        clock.now = 1800
        assert bucket.take().allowed
        clock.now = 100_000
        assert bucket.take().remaining == 1

    def test_retry_after_is_at_least_one_second(self) -> None:
        """A nearly refilled token still means waiting one second."""
        clock = FakeClock()
        bucket = TokenBucket(capacity=3600, clock=clock)
        for _ in range(3600):
            bucket.take()
        clock.now = 0.999
        assert bucket.take().retry_after == 1

    def test_capacity_below_one_is_refused(self) -> None:
        """A bucket must allow at least one request per hour."""
        with pytest.raises(ValueError, match="at least 1"):
            TokenBucket(capacity=0, clock=FakeClock())


class TestSubscriptionThrottle:
    def test_reads_and_writes_have_separate_budgets_per_subscription(self) -> None:
        """Writes, reads and other subscriptions never share a bucket; case is ignored."""
        throttle = SubscriptionThrottle(writes_per_hour=1, reads_per_hour=5, clock=FakeClock())
        assert throttle.charge("SUB-A", write=True).allowed
        assert not throttle.charge("sub-a", write=True).allowed
        assert throttle.charge("sub-a", write=False).remaining == 4
        assert throttle.charge("sub-b", write=True).allowed

    def test_configure_refills_every_bucket(self) -> None:
        """New budgets start full."""
        throttle = SubscriptionThrottle(writes_per_hour=1, reads_per_hour=1, clock=FakeClock())
        throttle.charge("s", write=True)
        throttle.configure(writes_per_hour=10, reads_per_hour=10)
        assert throttle.charge("s", write=True).remaining == 9


class TestThrottlingOverHttp:
    def test_remaining_budget_headers_on_reads_and_writes(self, arm: ArmTarget) -> None:
        """Writes report remaining writes and reads remaining reads, from ARM's defaults."""
        put = arm.put()
        get = arm.get(arm.interaction_url())
        assert put.headers["x-ms-ratelimit-remaining-subscription-writes"] == "1199"
        assert get.headers["x-ms-ratelimit-remaining-subscription-reads"] == "11999"
        assert "x-ms-ratelimit-remaining-subscription-reads" not in put.headers

    def test_empty_write_bucket_gives_429_with_retry_after(self, arm: ArmTarget) -> None:
        """Once the scaled-down budget is spent, writes get ARM's SubscriptionRequestsThrottled
        naming the subscription and the caller, and when to retry."""
        arm.control("PUT", "/_emulator/throttling", {"writesPerHour": 2, "readsPerHour": 100})
        answers = [arm.put() for _ in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert [a.headers["x-ms-ratelimit-remaining-subscription-writes"] for a in answers] == [
            "1",
            "0",
            "0",
        ]
        refused = answers[2]
        retry_after = refused.headers["Retry-After"]
        assert 1 <= int(retry_after) <= 1800
        assert refused.json()["error"] == {
            "code": "SubscriptionRequestsThrottled",
            "message": f"Number of 'write' requests for subscription '{SUBSCRIPTION}' actor "
            f"'{DEFAULT_OBJECT_ID}' exceeded. Please try again after '{retry_after}' seconds "
            "after additional tokens are available. Refer to https://aka.ms/arm-throttling for "
            "additional information.",
        }
        assert arm.get(arm.interaction_url()).status_code == 200

    def test_budgets_are_per_subscription(self, arm: ArmTarget) -> None:
        """Spending one subscription's budget leaves another's untouched."""
        arm.control("PUT", "/_emulator/throttling", {"writesPerHour": 1})
        arm.put()
        assert arm.put().status_code == 429
        assert arm.put(subscription=OTHER_SUBSCRIPTION).status_code == 202

    def test_unauthenticated_requests_are_not_charged(self, arm: ArmTarget) -> None:
        """A 401 spends no budget and carries no budget header."""
        arm.control("PUT", "/_emulator/throttling", {"writesPerHour": 1})
        refused = arm.put(headers={"Authorization": "Bearer x.y.z"})
        assert "x-ms-ratelimit-remaining-subscription-writes" not in refused.headers
        assert arm.put().status_code == 202
