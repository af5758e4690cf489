"""The wait arithmetic: what a reply asks for, backoff, jitter and clamping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import waits
from shared.arm_reply import ArmReply

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
S = timedelta


def reply(**headers: str) -> ArmReply:
    return ArmReply(method="GET", url="https://arm.example/x", status=202, headers=headers)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "7"}, S(seconds=7), id="seconds"),
        pytest.param({"retry-after": "2.5"}, S(seconds=2.5), id="fraction"),
        pytest.param({"retry-after-ms": "1500", "retry-after": "9"}, S(seconds=1.5), id="ms-first"),
        pytest.param({"x-ms-retry-after-ms": "250"}, S(milliseconds=250), id="x-ms"),
        pytest.param(
            {"retry-after": "Sat, 01 Mar 2025 12:00:20 GMT"}, S(seconds=20), id="http-date"
        ),
        pytest.param(
            {
                "retry-after": "Sat, 01 Mar 2025 12:00:20 GMT",
                "date": "Sat, 01 Mar 2025 12:00:15 GMT",
            },
            S(seconds=5),
            id="http-date-from-date-header",
        ),
        pytest.param({"retry-after": "Sat, 01 Mar 2025 11:00:00 GMT"}, S(0), id="date-in-past"),
        pytest.param({"retry-after": "1" * 10}, timedelta.max, id="absurd-means-longest"),
        pytest.param({"retry-after": "soon"}, None, id="garbage"),
        pytest.param({"retry-after": "-3"}, None, id="negative"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_requested_wait(headers: dict[str, str], expected: timedelta | None) -> None:
    """The reply's own wait, in the order and forms of docs/contracts/arm-lro.md §9."""
    assert waits.requested_wait(reply(**headers), NOW) == expected


@pytest.mark.parametrize(
    ("step", "jitter", "expected"),
    [
        pytest.param(0, 0.0, S(10), id="first"),
        pytest.param(3, 0.0, S(80), id="doubles"),
        pytest.param(10, 0.0, S(300), id="capped"),
        pytest.param(10**9, 0.0, S(300), id="huge-step-no-overflow"),
        pytest.param(-1, 0.0, S(10), id="negative-step-is-first"),
        pytest.param(1, 0.1, S(18), id="jitter-shortens"),
    ],
)
def test_backoff(step: int, jitter: float, expected: timedelta) -> None:
    """From 10 s, doubling, capped at 300 s, then shortened by the jitter share."""
    assert waits.backoff(S(10), step, cap=S(300), jitter=jitter) == expected


def test_jitter_fraction_is_stable_and_in_range() -> None:
    """The same seed gives the same fraction (replay); different seeds spread over [0, 1)."""
    fractions = [waits.jitter_fraction(f"op|{n}") for n in range(200)]
    assert fractions == [waits.jitter_fraction(f"op|{n}") for n in range(200)]
    assert all(0 <= f < 1 for f in fractions)
    assert len(set(fractions)) == 200
    assert min(fractions) < 0.1
    assert max(fractions) > 0.9


@pytest.mark.parametrize(
    ("wait", "expected"),
    [(S(0), S(10)), (S(42), S(42)), (timedelta.max, S(600))],
    ids=["floor", "inside", "ceiling"],
)
def test_clamp(wait: timedelta, expected: timedelta) -> None:
    assert waits.clamp(wait, S(10), S(600)) == expected
