"""The long-running-operation decisions, driven by scripted ARM replies (no HTTP)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from pydantic import ValidationError

from shared import lro
from shared.arm_reply import ArmError, ArmReply
from shared.errors import AppError
from shared.lro import ArmRequest, Finish, LroState, Outcome, PollingPolicy, RequestKind

ARM = "https://management.azure.com"
PATH = (
    "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.CustomerInsights"
    "/hubs/hub1/interactions/WebVisit"
)
RESOURCE = f"{ARM}{PATH}?api-version=2017-04-26"
OPERATION = (
    f"{ARM}/subscriptions/sub1/providers/Microsoft.CustomerInsights/locations/westus"
    "/operationStatuses/op1?api-version=2017-04-26"
)
LOCATION = (
    f"{ARM}/subscriptions/sub1/providers/Microsoft.CustomerInsights/locations/westus"
    "/operationResults/op1?api-version=2017-04-26"
)
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

# Small, unjittered timings so every expected wait can be written down exactly.
FAST = PollingPolicy(
    min_wait=timedelta(seconds=1),
    default_wait=timedelta(seconds=5),
    backoff_base=timedelta(seconds=2),
    backoff_cap=timedelta(seconds=40),
    max_wait=timedelta(seconds=60),
    max_transient_failures=3,
    max_not_found=2,
    max_unknown_state_sightings=3,
    jitter_ratio=0,
)

# Call labels: "<request kind> <which URL>".
PUT = "put_resource resource"
OP = "poll_operation operation"
LOC = "poll_location location"
RES = "get_resource resource"
_URL_NAMES = {RESOURCE: "resource", OPERATION: "operation", LOCATION: "location"}


def S(seconds: float) -> timedelta:
    """Shorthand for a wait in seconds."""
    return timedelta(seconds=seconds)


def resource(state: str | None) -> dict[str, Any]:
    """A wrapped interaction body with the given provisioningState (None: absent)."""
    properties: dict[str, Any] = {"apiEntitySetName": "WebVisit"}
    if state is not None:
        properties["provisioningState"] = state
    return {"id": PATH, "name": "hub1/WebVisit", "properties": properties}


def arm_error(code: str, message: str = "from ARM") -> dict[str, Any]:
    """ARM's error envelope."""
    return {"error": {"code": code, "message": message}}


class Answer(NamedTuple):
    """One scripted ARM reply: status (None for a transport failure), body, headers."""

    status: int | None
    body: Any = None
    headers: dict[str, str] = {}
    transport: str = ""


def answer(status: int, body: Any = None, **headers: str) -> Answer:
    """A reply; header keywords use underscores for hyphens (retry_after=...)."""
    return Answer(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def no_response(kind: str = "timeout") -> Answer:
    """A call that got no HTTP response."""
    return Answer(None, transport=kind)


@dataclass
class Run:
    """What a scripted run asked for and how it ended."""

    state: LroState
    calls: list[str] = field(default_factory=list)
    requests: list[ArmRequest] = field(default_factory=list)
    waits: list[timedelta | None] = field(default_factory=list)
    finish: Finish | None = None
    ended_at: datetime = T0


def drive(
    answers: list[Answer],
    *,
    policy: PollingPolicy = FAST,
    time_limit: timedelta = timedelta(hours=1),
    now: datetime = T0,
    state: LroState | None = None,
) -> Run:
    """Feed replies to `advance` in order, moving the clock to each Wait's end."""
    if state is None:
        state = lro.start(
            arm_endpoint=ARM, resource_path=PATH, now=now, time_limit=time_limit, policy=policy
        )
    run = Run(state=state)
    for index, scripted in enumerate(answers):
        request = state.next_request
        run.requests.append(request)
        run.calls.append(f"{request.kind.value} {_URL_NAMES.get(request.url, request.url)}")
        if scripted.status is None:
            reply = ArmReply.transport_failure(request.method, request.url, scripted.transport)
        else:
            raw = b"" if scripted.body is None else json.dumps(scripted.body).encode()
            reply = ArmReply.from_parts(
                request.method, request.url, scripted.status, scripted.headers, raw
            )
        state, step = lro.advance(state, reply, now=now)
        run.state = state
        if isinstance(step, Finish):
            assert index == len(answers) - 1, (
                f"finished with {len(answers) - index - 1} replies left"
            )
            run.finish, run.ended_at = step, now
            return run
        assert step.request == state.next_request
        run.waits.append(None if step.until is None else step.until - now)
        now = step.until or now
    run.ended_at = now
    return run


def expect_run(
    answers: list[Answer],
    calls: list[str],
    waits: list[timedelta | None],
    result: tuple[Outcome, str | None, str | None] | None,
) -> None:
    """Drive the script and check the requests made, the waits between them and the end.

    A `result` of None means the script ends with the operation still running, so only the
    requests and waits are checked.
    """
    run = drive(answers)
    assert run.calls == calls
    assert run.waits == waits
    if result is not None:
        assert summary(run) == result


def summary(run: Run) -> tuple[Outcome, str | None, str | None]:
    """Outcome, final provisioningState and error code of a finished run."""
    assert run.finish is not None, f"still running after {run.calls}"
    code = run.finish.error.code if run.finish.error else None
    return run.finish.outcome, run.finish.provisioning_state, code


def error_of(run: Run) -> ArmError | AppError:
    """The error a finished run ended with."""
    assert run.finish is not None, f"still running after {run.calls}"
    assert run.finish.error is not None, f"finished {run.finish.outcome} without an error"
    return run.finish.error


class TestScenarios:
    @pytest.mark.parametrize(
        ("answers", "calls", "waits", "result"),
        [
            pytest.param(
                [
                    answer(202, location=LOCATION),
                    answer(202),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, LOC, LOC],
                [S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="202-location-202-200-succeeded",
            ),
            pytest.param(
                [answer(202, location=LOCATION), answer(200), answer(200, resource("Succeeded"))],
                [PUT, LOC, RES],
                [S(5), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="location-200-empty-then-resource-get",
            ),
            pytest.param(
                [answer(202, location=LOCATION), answer(204), answer(200, resource("Succeeded"))],
                [PUT, LOC, RES],
                [S(5), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="location-204-then-resource-get",
            ),
            pytest.param(
                [
                    answer(202, location=LOCATION),
                    answer(200, resource("Provisioning")),
                    answer(200, resource("Provisioning")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, LOC, RES, RES],
                [S(5), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="location-200-still-provisioning-polls-resource",
            ),
            pytest.param(
                [
                    answer(201, resource("Provisioning")),
                    answer(200, resource("Provisioning")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, RES, RES],
                [S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="201-provisioning-then-resource-gets",
            ),
            pytest.param(
                [answer(200, resource("Provisioning")), answer(200, resource("Succeeded"))],
                [PUT, RES],
                [S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="200-provisioning-is-not-done",
            ),
            pytest.param(
                [answer(201, resource("Succeeded"))],
                [PUT],
                [],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="201-succeeded-needs-no-poll",
            ),
            pytest.param(
                [answer(200, resource(None))],
                [PUT],
                [],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="absent-state-means-succeeded",
            ),
            pytest.param(
                [
                    answer(200, {"provisioningState": "Provisioning"}),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, RES],
                [S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="flat-body-state-is-read",
            ),
            pytest.param(
                [answer(204), answer(200, resource("SUCCEEDED"))],
                [PUT, RES],
                [None],
                (Outcome.SUCCEEDED, "SUCCEEDED", None),
                id="put-204-then-resource-get-case-insensitive",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION, location=LOCATION),
                    answer(200, {"status": "InProgress"}),
                    answer(200, {"status": "Succeeded"}),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, OP, RES],
                [S(5), S(5), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="async-operation-wins-over-location-then-final-get",
            ),
            pytest.param(
                [
                    answer(201, resource("Provisioning"), azure_asyncoperation=OPERATION),
                    answer(200, {"status": "succeeded"}),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, RES],
                [S(5), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="201-provisioning-with-async-operation",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(200, {"status": "Failed", "error": {"code": "Bad", "message": "no"}}),
                ],
                [PUT, OP],
                [S(5)],
                (Outcome.FAILED, None, "Bad"),
                id="async-operation-failed-with-error",
            ),
            pytest.param(
                [answer(202, azure_asyncoperation=OPERATION), answer(200, {"status": "Failed"})],
                [PUT, OP],
                [S(5)],
                (Outcome.FAILED, None, "ProvisioningFailed"),
                id="async-operation-failed-without-error",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(200, {"status": "Canceled", "error": arm_error("Stopped")["error"]}),
                ],
                [PUT, OP],
                [S(5)],
                (Outcome.CANCELED, None, "Stopped"),
                id="async-operation-canceled",
            ),
            pytest.param(
                [answer(202, azure_asyncoperation=OPERATION), answer(200, {"percent": 5})],
                [PUT, OP],
                [S(5)],
                (Outcome.FAILED, None, "InvalidOperationStatus"),
                id="async-operation-without-status",
            ),
            pytest.param(
                [
                    answer(202),
                    answer(404, arm_error("ResourceNotFound")),
                    answer(404, arm_error("ResourceNotFound")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, RES, RES, RES],
                [S(5), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="bare-202-resource-404-twice-then-200",
            ),
            pytest.param(
                [
                    answer(202),
                    answer(404, arm_error("ResourceNotFound")),
                    answer(404, arm_error("ResourceNotFound")),
                    answer(404, arm_error("ResourceNotFound")),
                ],
                [PUT, RES, RES, RES],
                [S(5), S(5), S(5)],
                (Outcome.FAILED, None, "ResourceNotFound"),
                id="404-bound-exceeded",
            ),
            pytest.param(
                [
                    answer(202),
                    answer(200, resource("Provisioning")),
                    answer(404, arm_error("ResourceNotFound")),
                ],
                [PUT, RES, RES],
                [S(5), S(5)],
                (Outcome.FAILED, "Provisioning", "ResourceNotFound"),
                id="404-after-the-resource-was-seen-fails",
            ),
            pytest.param(
                [answer(201, resource("Provisioning")), answer(404, arm_error("ResourceNotFound"))],
                [PUT, RES],
                [S(5)],
                (Outcome.FAILED, "Provisioning", "ResourceNotFound"),
                id="404-after-201-fails",
            ),
            pytest.param(
                [answer(201, resource("Provisioning")), answer(200, resource("HumanIntervention"))],
                [PUT, RES],
                [S(5)],
                (Outcome.FAILED, "HumanIntervention", "HumanInterventionRequired"),
                id="human-intervention-stops",
            ),
            pytest.param(
                [answer(200, resource("Failed"))],
                [PUT],
                [],
                (Outcome.FAILED, "Failed", "ProvisioningFailed"),
                id="failed-state",
            ),
            pytest.param(
                [answer(200, {**resource("Failed"), **arm_error("HubLocked")})],
                [PUT],
                [],
                (Outcome.FAILED, "Failed", "HubLocked"),
                id="failed-state-with-arm-error",
            ),
            pytest.param(
                [answer(202, location=LOCATION), answer(200, resource("Canceled"))],
                [PUT, LOC],
                [S(5)],
                (Outcome.CANCELED, "Canceled", "ProvisioningCanceled"),
                id="canceled-state-is-terminal",
            ),
            pytest.param(
                [
                    answer(200, resource("Expiring")),
                    answer(200, resource("Deleting")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, RES, RES],
                [S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="expiring-and-deleting-keep-polling",
            ),
        ],
    )
    def test_reply_sequence_gives_calls_waits_and_outcome(
        self,
        answers: list[Answer],
        calls: list[str],
        waits: list[timedelta | None],
        result: tuple[Outcome, str | None, str | None] | None,
    ) -> None:
        """Each ARM reply sequence leads to exactly these requests, waits and outcome."""
        expect_run(answers, calls, waits, result)

    def test_succeeded_finish_carries_the_final_resource(self) -> None:
        """The Finish of a success holds the resource body ARM returned last."""
        body = resource("Succeeded")
        run = drive([answer(202, location=LOCATION), answer(200), answer(200, body)])
        assert run.finish is not None
        assert run.finish.resource == body

    def test_unknown_state_fails_after_n_sightings_with_its_name(self) -> None:
        """The same unknown provisioningState seen N times in a row stops with its name."""
        run = drive([answer(200, resource("Accepted")), *[answer(200, resource("Accepted"))] * 2])
        assert summary(run) == (Outcome.FAILED, "Accepted", "UnknownProvisioningState")
        assert "'Accepted' 3 times in a row" in error_of(run).message

    @pytest.mark.parametrize(
        "middle",
        [
            pytest.param("Provisioning", id="known-state-resets"),
            pytest.param("Updating", id="other-unknown-state-restarts-count"),
        ],
    )
    def test_unknown_state_count_is_consecutive(self, middle: str) -> None:
        """A different state between sightings restarts the count, so polling continues."""
        run = drive(
            [answer(200, resource(s)) for s in ("Accepted", "Accepted", middle, "Accepted")]
        )
        assert run.finish is None
        assert run.calls == [PUT, RES, RES, RES]

    def test_new_location_on_202_replaces_the_poll_url(self) -> None:
        """A Location header on a 202 poll reply is followed by the next poll."""
        moved = LOCATION.replace("op1", "op2")
        run = drive(
            [
                answer(202, location=LOCATION),
                answer(202, location=moved),
                answer(200, resource("Succeeded")),
            ]
        )
        assert [r.url for r in run.requests] == [RESOURCE, LOCATION, moved]
        assert summary(run)[0] is Outcome.SUCCEEDED


class TestWaits:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            pytest.param({"retry_after": "7"}, S(7), id="seconds"),
            pytest.param({"retry_after": " 7 "}, S(7), id="seconds-with-spaces"),
            pytest.param({"retry_after": "2.5"}, S(2.5), id="decimal-seconds"),
            pytest.param(
                {"retry_after": "Sat, 01 Mar 2025 12:00:20 GMT"}, S(20), id="http-date-vs-now"
            ),
            pytest.param(
                {
                    "retry_after": "Fri, 28 Feb 2025 08:00:30 GMT",
                    "date": "Fri, 28 Feb 2025 08:00:00 GMT",
                },
                S(30),
                id="http-date-vs-date-header",
            ),
            pytest.param(
                {"retry_after": "Sat, 01 Mar 2025 12:00:20 GMT", "date": "garbage"},
                S(20),
                id="http-date-unreadable-date-header-uses-now",
            ),
            pytest.param({"retry_after_ms": "2500"}, S(2.5), id="retry-after-ms"),
            pytest.param({"x_ms_retry_after_ms": "1500"}, S(1.5), id="x-ms-retry-after-ms"),
            pytest.param(
                {"retry_after_ms": "3000", "retry_after": "9"}, S(3), id="ms-wins-over-seconds"
            ),
            pytest.param(
                {"retry_after_ms": "soon", "retry_after": "9"}, S(9), id="garbage-ms-falls-through"
            ),
            pytest.param({"retry_after": "0"}, S(1), id="zero-is-real-but-floored"),
            pytest.param({"retry_after": "120"}, S(60), id="long-clamped-to-max"),
            pytest.param({"retry_after": "9" * 40}, S(60), id="huge-number-clamped"),
            pytest.param({"retry_after_ms": "9" * 5000}, S(60), id="enormous-digits-clamped"),
            pytest.param(
                {"retry_after": "Fri, 31 Dec 9999 23:59:59 GMT"}, S(60), id="far-date-clamped"
            ),
            pytest.param(
                {"retry_after": "Sat, 01 Mar 2025 11:00:00 GMT"}, S(1), id="past-date-floored"
            ),
            pytest.param({"retry_after": "soon"}, S(5), id="garbage-uses-default"),
            pytest.param({"retry_after": "-3"}, S(5), id="negative-uses-default"),
            pytest.param({"retry_after": ""}, S(5), id="empty-uses-default"),
            pytest.param({}, S(5), id="absent-uses-default"),
        ],
    )
    def test_first_wait_after_202_follows_the_headers(
        self, headers: dict[str, str], expected: timedelta
    ) -> None:
        """The initial 202's retry headers set the wait before the first poll, clamped."""
        run = drive([answer(202, location=LOCATION, **headers)])
        assert run.waits == [expected]
        assert run.ended_at == T0 + expected

    def test_http_date_delay_is_rounded_up(self) -> None:
        """An HTTP-date delay measured from a sub-second clock rounds up to whole seconds."""
        now = T0 + timedelta(milliseconds=400)
        run = drive(
            [answer(202, location=LOCATION, retry_after="Sat, 01 Mar 2025 12:00:20 GMT")], now=now
        )
        assert run.waits == [S(20)]

    def test_last_server_wait_is_remembered_when_later_replies_omit_it(self) -> None:
        """A Retry-After given once keeps applying to polls whose replies have none."""
        run = drive([answer(202, location=LOCATION, retry_after="7"), answer(202), answer(202)])
        assert run.waits == [S(7), S(7), S(7)]

    def test_newer_server_wait_replaces_the_remembered_one(self) -> None:
        """A later Retry-After wins over the remembered one."""
        run = drive(
            [
                answer(202, location=LOCATION, retry_after="7"),
                answer(202, retry_after="3"),
                answer(202),
            ]
        )
        assert run.waits == [S(7), S(3), S(3)]

    def test_default_wait_holds_steady_without_retry_after(self) -> None:
        """Without any server wait, every poll waits the configured default; no doubling."""
        run = drive([answer(202, location=LOCATION), *[answer(202)] * 5])
        assert run.waits == [S(5)] * 6

    def test_low_read_budget_slows_polls_to_the_backoff_cap(self) -> None:
        """When ARM reports few subscription reads left, polls slow down, then recover."""
        budget = "x_ms_ratelimit_remaining_subscription_reads"
        run = drive(
            [
                answer(202, location=LOCATION, retry_after="7"),
                answer(202, **{budget: "99"}),
                answer(202, **{budget: "5000"}),
            ]
        )
        assert run.waits == [S(7), S(40), S(7)]

    def test_read_budget_at_the_threshold_does_not_slow_polls(self) -> None:
        """Exactly low_read_budget reads left is still enough."""
        budget = "x_ms_ratelimit_remaining_subscription_reads"
        run = drive(
            [answer(202, location=LOCATION, retry_after="7"), answer(202, **{budget: "100"})]
        )
        assert run.waits == [S(7), S(7)]

    def test_jitter_only_shortens_computed_waits_and_is_deterministic(self) -> None:
        """Jitter derives from the state, stays within its share, and spares server waits."""
        policy = FAST.model_copy(update={"jitter_ratio": 0.5})
        script = [answer(202, location=LOCATION), *[answer(202)] * 3, answer(202, retry_after="7")]
        first, second = drive(script, policy=policy), drive(script, policy=policy)
        assert first.waits == second.waits
        nominal = [S(5), S(5), S(5), S(5)]
        for wait, full in zip(first.waits[:4], nominal, strict=True):
            assert wait is not None
            assert full * 0.5 <= wait <= full
        assert first.waits[:4] != nominal
        assert first.waits[4] == S(7)


class TestTransientFailures:
    @pytest.mark.parametrize(
        "failure",
        [
            pytest.param(answer(408), id="408"),
            pytest.param(answer(429, arm_error("TooManyRequests")), id="429"),
            pytest.param(answer(500), id="500"),
            pytest.param(answer(502), id="502"),
            pytest.param(answer(503), id="503"),
            pytest.param(answer(504), id="504"),
            pytest.param(no_response("timeout"), id="transport-timeout"),
            pytest.param(no_response("connection"), id="transport-connection"),
        ],
    )
    def test_transient_failure_on_the_put_retries_the_put(self, failure: Answer) -> None:
        """The same PUT is sent again after the backoff, and success then counts."""
        run = drive([failure, answer(201, resource("Succeeded"))])
        assert run.calls == [PUT, PUT]
        assert run.waits == [S(2)]
        assert summary(run) == (Outcome.SUCCEEDED, "Succeeded", None)

    def test_transient_failure_while_polling_retries_the_same_poll(self) -> None:
        """A 503 or a dropped connection during polling repeats that poll, not the PUT."""
        run = drive(
            [
                answer(202, location=LOCATION),
                answer(503),
                no_response("connection"),
                answer(200, resource("Succeeded")),
            ]
        )
        assert run.calls == [PUT, LOC, LOC, LOC]
        assert run.waits == [S(5), S(2), S(4)]
        assert summary(run)[0] is Outcome.SUCCEEDED

    def test_429_storm_is_bounded_and_fails_with_arms_error(self) -> None:
        """Throttling beyond max_transient_failures ends failed with ARM's 429 error."""
        throttled = answer(429, arm_error("TooManyRequests", "slow down"), retry_after="3")
        run = drive([throttled] * 4)
        assert run.calls == [PUT] * 4
        assert run.waits == [S(3)] * 3
        assert summary(run) == (Outcome.FAILED, None, "TooManyRequests")
        assert (error_of(run).message, error_of(run).status) == ("slow down", 429)

    def test_transport_failures_beyond_the_bound_fail_with_a_transport_error(self) -> None:
        """Consecutive transport failures past the bound give TransportError."""
        run = drive([no_response()] * 4)
        assert summary(run) == (Outcome.FAILED, None, "TransportError")

    def test_backoff_without_retry_after_doubles(self) -> None:
        """Transient retries without a server wait double from backoff_base."""
        run = drive([answer(500), answer(500), answer(500), answer(201, resource("Succeeded"))])
        assert run.waits == [S(2), S(4), S(8)]

    def test_zero_retry_after_on_a_failure_is_floored_not_replaced(self) -> None:
        """Retry-After: 0 on a 503 means the floor, not the computed backoff."""
        run = drive([answer(503, retry_after="0"), answer(201, resource("Succeeded"))])
        assert run.waits == [S(1)]

    def test_success_resets_the_consecutive_failure_count(self) -> None:
        """Only consecutive transient failures count towards the bound."""
        run = drive(
            [
                *[answer(503)] * 3,
                answer(202, location=LOCATION),
                *[answer(503)] * 3,
                answer(200, resource("Succeeded")),
            ]
        )
        assert summary(run)[0] is Outcome.SUCCEEDED
        assert run.state.transient_failures == 0

    def test_throttling_retry_after_is_not_remembered_for_polls(self) -> None:
        """A 429's Retry-After paces that retry only, not later status polls."""
        run = drive([answer(429, retry_after="30"), answer(202, location=LOCATION), answer(202)])
        assert run.waits == [S(30), S(5), S(5)]

    def test_request_ids_and_rate_limits_are_recorded(self) -> None:
        """The latest x-ms-request-id and the remaining write/read budgets land in the state."""
        run = drive(
            [
                answer(
                    202,
                    location=LOCATION,
                    x_ms_request_id="rid-put",
                    x_ms_correlation_request_id="corr",
                    x_ms_ratelimit_remaining_subscription_writes="1199",
                ),
                answer(
                    202,
                    x_ms_request_id="rid-get",
                    x_ms_ratelimit_remaining_subscription_reads="11999",
                ),
                answer(202, x_ms_ratelimit_remaining_subscription_reads="lots"),
            ]
        )
        state = run.state
        assert state.request_id == "rid-get"
        assert "correlation_request_id" not in LroState.model_fields
        assert (state.writes_remaining, state.reads_remaining) == (1199, 11999)
        assert state.polls == 2


class TestPermanentFailures:
    @pytest.mark.parametrize(
        ("status", "code"),
        [
            pytest.param(400, "InvalidInteractionDefinition", id="400"),
            pytest.param(401, "InvalidAuthenticationToken", id="401"),
            pytest.param(403, "AuthorizationFailed", id="403"),
            pytest.param(404, "ResourceGroupNotFound", id="404-on-put"),
            pytest.param(409, "Conflict", id="409"),
            pytest.param(501, "NotImplemented", id="501-is-not-transient"),
        ],
    )
    def test_error_on_the_put_fails_with_arms_code_and_message(self, status: int, code: str):
        """A permanent error ends the operation at once with ARM's own error."""
        run = drive([answer(status, arm_error(code, "ARM says no"))])
        assert summary(run) == (Outcome.FAILED, None, code)
        assert (error_of(run).message, error_of(run).status) == ("ARM says no", status)

    @pytest.mark.parametrize(
        "reply",
        [
            pytest.param(answer(302, location=LOCATION), id="redirect"),
            pytest.param(answer(203, resource("Succeeded")), id="non-authoritative"),
        ],
    )
    def test_unexpected_status_fails_with_a_clear_error(self, reply: Answer) -> None:
        """A status the contract never gives ends as UnexpectedResponse naming it."""
        run = drive([reply])
        assert summary(run) == (Outcome.FAILED, None, "UnexpectedResponse")
        assert f"HTTP {reply.status}" in error_of(run).message


class TestStatusUrlErrors:
    @pytest.mark.parametrize(
        ("status", "code"),
        [
            pytest.param(400, "BadRequest", id="400"),
            pytest.param(401, "InvalidAuthenticationToken", id="401"),
            pytest.param(403, "AuthorizationFailed", id="403"),
            pytest.param(404, "OperationNotFound", id="404"),
            pytest.param(409, "Conflict", id="409"),
            pytest.param(410, "Gone", id="410"),
            pytest.param(501, "NotImplemented", id="501"),
        ],
    )
    def test_error_reading_the_status_falls_back_to_the_resource(
        self, status: int, code: str
    ) -> None:
        """An error on the status GET is not the operation's: the resource is polled instead."""
        run = drive(
            [
                answer(202, azure_asyncoperation=OPERATION),
                answer(status, arm_error(code)),
                answer(200, resource("Provisioning")),
                answer(200, resource("Succeeded")),
            ]
        )
        assert run.calls == [PUT, OP, RES, RES]
        assert run.waits == [S(5), S(5), S(5)]
        assert summary(run) == (Outcome.SUCCEEDED, "Succeeded", None)

    @pytest.mark.parametrize(
        ("answers", "calls", "waits", "result"),
        [
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(200, resource("Failed")),
                ],
                [PUT, OP, RES],
                [S(5), S(5)],
                (Outcome.FAILED, "Failed", "ProvisioningFailed"),
                id="resource-failed-decides",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(200, resource("HumanIntervention")),
                ],
                [PUT, OP, RES],
                [S(5), S(5)],
                (Outcome.FAILED, "HumanIntervention", "HumanInterventionRequired"),
                id="resource-human-intervention-decides",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(200, {"status": "InProgress"}),
                    answer(410, arm_error("Gone")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, OP, RES],
                [S(5), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="fallback-after-status-was-read",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION, retry_after="7"),
                    answer(404, arm_error("OperationNotFound")),
                    answer(200, resource("Provisioning")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, RES, RES],
                [S(7), S(7), S(7)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="remembered-retry-after-paces-resource-polls",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(200, resource("Provisioning"), azure_asyncoperation=OPERATION),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, RES, RES],
                [S(5), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="resource-polling-is-for-good",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(404, arm_error("ResourceNotFound")),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, RES, RES],
                [S(5), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="unseen-resource-may-404-after-202",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    *[answer(404, arm_error("ResourceNotFound"))] * 3,
                ],
                [PUT, OP, RES, RES, RES],
                [S(5), S(5), S(5), S(5)],
                (Outcome.FAILED, None, "ResourceNotFound"),
                id="unseen-resource-404-bound-still-holds",
            ),
            pytest.param(
                [
                    answer(201, resource("Provisioning"), azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(404, arm_error("ResourceNotFound")),
                ],
                [PUT, OP, RES],
                [S(5), S(5)],
                (Outcome.FAILED, "Provisioning", "ResourceNotFound"),
                id="seen-resource-404-fails",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(403, arm_error("AuthorizationFailed")),
                    answer(403, arm_error("AuthorizationFailed", "no read")),
                ],
                [PUT, OP, RES],
                [S(5), S(5)],
                (Outcome.FAILED, None, "AuthorizationFailed"),
                id="permanent-error-on-resource-get-fails",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(200, {"status": "Succeeded"}),
                    answer(403, arm_error("AuthorizationFailed")),
                ],
                [PUT, OP, RES],
                [S(5), None],
                (Outcome.FAILED, None, "AuthorizationFailed"),
                id="permanent-error-on-final-get-fails",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(408),
                    answer(429, retry_after="3"),
                    answer(200, {"status": "Succeeded"}),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, OP, OP, RES],
                [S(5), S(2), S(3), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="transient-status-error-retries-the-status-url",
            ),
            pytest.param(
                [answer(202, azure_asyncoperation=OPERATION), answer(204)],
                [PUT, OP],
                [S(5)],
                (Outcome.FAILED, None, "UnexpectedResponse"),
                id="non-error-unexpected-status-still-fails",
            ),
        ],
    )
    def test_after_the_fallback_the_resource_decides(
        self,
        answers: list[Answer],
        calls: list[str],
        waits: list[timedelta | None],
        result: tuple[Outcome, str | None, str | None],
    ) -> None:
        """Once the status URL failed, the resource's provisioningState and errors decide."""
        expect_run(answers, calls, waits, result)


class TestRetryAfterOnErrors:
    @pytest.mark.parametrize(
        ("status", "headers", "wait"),
        [
            pytest.param(409, {"retry_after": "3"}, S(3), id="409-seconds"),
            pytest.param(400, {"retry_after": "3"}, S(3), id="400-seconds"),
            pytest.param(403, {"retry_after_ms": "2500"}, S(2.5), id="403-retry-after-ms"),
            pytest.param(404, {"x_ms_retry_after_ms": "1500"}, S(1.5), id="404-x-ms-ms"),
            pytest.param(
                409, {"retry_after": "Sat, 01 Mar 2025 12:00:20 GMT"}, S(20), id="409-http-date"
            ),
            pytest.param(409, {"retry_after": "0"}, S(1), id="zero-floored"),
            pytest.param(409, {"retry_after": "120"}, S(60), id="long-clamped"),
            pytest.param(501, {"retry_after": "4"}, S(4), id="501-with-retry-after"),
        ],
    )
    def test_error_carrying_a_retry_wait_is_retried_after_it(
        self, status: int, headers: dict[str, str], wait: timedelta
    ) -> None:
        """An error reply that names a retry wait is retried after that wait, clamped."""
        run = drive(
            [answer(status, arm_error("Conflict"), **headers), answer(201, resource("Succeeded"))]
        )
        assert run.calls == [PUT, PUT]
        assert run.waits == [wait]
        assert summary(run) == (Outcome.SUCCEEDED, "Succeeded", None)

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({"retry_after": "soon"}, id="garbage"),
            pytest.param({"retry_after": ""}, id="empty"),
            pytest.param({"retry_after_ms": "-1"}, id="negative-ms"),
            pytest.param({}, id="absent"),
        ],
    )
    def test_error_without_a_readable_retry_wait_stays_permanent(
        self, headers: dict[str, str]
    ) -> None:
        """A Retry-After that names no wait does not turn a 409 into a retry."""
        run = drive([answer(409, arm_error("Conflict"), **headers)])
        assert summary(run) == (Outcome.FAILED, None, "Conflict")

    @pytest.mark.parametrize(
        ("answers", "calls", "waits", "result"),
        [
            pytest.param(
                [answer(409, arm_error("Conflict", "busy"), retry_after="3")] * 4,
                [PUT] * 4,
                [S(3)] * 3,
                (Outcome.FAILED, None, "Conflict"),
                id="bounded-like-transient-failures",
            ),
            pytest.param(
                [
                    answer(503),
                    answer(409, retry_after="3"),
                    answer(503),
                    answer(409, arm_error("Conflict"), retry_after="3"),
                ],
                [PUT] * 4,
                [S(2), S(3), S(8)],
                (Outcome.FAILED, None, "Conflict"),
                id="shares-the-count-with-5xx",
            ),
            pytest.param(
                [
                    answer(201, resource("Provisioning")),
                    answer(409, retry_after="3"),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, RES, RES],
                [S(5), S(3)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="on-resource-get",
            ),
            pytest.param(
                [
                    answer(202, location=LOCATION),
                    answer(409, retry_after="3"),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, LOC, LOC],
                [S(5), S(3)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="on-location-poll",
            ),
            pytest.param(
                [
                    answer(202, azure_asyncoperation=OPERATION),
                    answer(409, retry_after="3"),
                    answer(200, {"status": "Succeeded"}),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, OP, OP, RES],
                [S(5), S(3), None],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="on-status-url-retries-it",
            ),
            pytest.param(
                [
                    answer(409, retry_after="30"),
                    answer(202, location=LOCATION),
                    answer(202),
                    answer(200, resource("Succeeded")),
                ],
                [PUT, PUT, LOC, LOC],
                [S(30), S(5), S(5)],
                (Outcome.SUCCEEDED, "Succeeded", None),
                id="not-remembered-for-polls",
            ),
            pytest.param(
                [answer(202), *[answer(404, arm_error("ResourceNotFound"), retry_after="3")] * 3],
                [PUT, RES, RES, RES],
                [S(5), S(3), S(3)],
                (Outcome.FAILED, None, "ResourceNotFound"),
                id="tolerated-404-stays-a-not-found-poll",
            ),
        ],
    )
    def test_retried_error_sequences(
        self,
        answers: list[Answer],
        calls: list[str],
        waits: list[timedelta | None],
        result: tuple[Outcome, str | None, str | None],
    ) -> None:
        """Retried error replies repeat the same request, share the bound, pace only retries."""
        expect_run(answers, calls, waits, result)


class TestPollUrlTrust:
    @pytest.mark.parametrize(
        ("header", "url", "shown"),
        [
            pytest.param(
                "location",
                "https://evil.example/op?sig=SECRET",
                "https://evil.example",
                id="other-host",
            ),
            pytest.param(
                "location",
                "https://management.azure.com:8443/op?sig=SECRET",
                "https://management.azure.com:8443",
                id="other-port",
            ),
            pytest.param(
                "location",
                "http://management.azure.com/op?sig=SECRET",
                "http://management.azure.com",
                id="other-scheme",
            ),
            pytest.param(
                "location",
                "https://management.azure.com@evil.example/op?sig=SECRET",
                "https://evil.example",
                id="userinfo-trick",
            ),
            pytest.param(
                "location",
                "//evil.example/op?sig=SECRET",
                "https://evil.example",
                id="scheme-relative",
            ),
            pytest.param(
                "azure_asyncoperation",
                "https://evil.example/status?sig=SECRET",
                "https://evil.example",
                id="async-operation-other-host",
            ),
        ],
    )
    def test_foreign_poll_url_is_never_requested(self, header: str, url: str, shown: str) -> None:
        """A poll URL off the ARM endpoint ends the operation before any request goes there."""
        run = drive([answer(202, **{header: url})])
        assert run.calls == [PUT]
        assert summary(run) == (Outcome.FAILED, None, "UntrustedPollUrl")
        message = error_of(run).message
        assert f"points at {shown}," in message
        assert "SECRET" not in message
        assert "?" not in message

    def test_foreign_replacement_location_is_never_requested(self) -> None:
        """A later 202 that moves the poll URL off the endpoint stops polling."""
        run = drive(
            [answer(202, location=LOCATION), answer(202, location="https://evil.example/x")]
        )
        assert run.calls == [PUT, LOC]
        assert summary(run)[2] == "UntrustedPollUrl"

    def test_foreign_async_operation_on_201_is_never_requested(self) -> None:
        """A 201 still provisioning with a foreign Azure-AsyncOperation stops at once."""
        run = drive(
            [answer(201, resource("Provisioning"), azure_asyncoperation="https://evil.example/s")]
        )
        assert summary(run) == (Outcome.FAILED, "Provisioning", "UntrustedPollUrl")

    def test_relative_location_is_resolved_against_the_request_url(self) -> None:
        """A relative Location becomes an absolute URL on the endpoint and is polled."""
        relative = LOCATION.removeprefix(ARM)
        run = drive([answer(202, location=relative), answer(200, resource("Succeeded"))])
        assert run.calls == [PUT, LOC]
        assert run.requests[1].url == LOCATION


class TestDeadline:
    def test_wait_is_shortened_and_a_running_reply_at_the_deadline_times_out(self) -> None:
        """The last poll happens at the deadline; still running then means timed out."""
        run = drive(
            [answer(202, location=LOCATION, retry_after="5"), answer(202), answer(202)],
            time_limit=S(8),
        )
        assert run.waits == [S(5), S(3)]
        assert run.ended_at == T0 + S(8)
        assert summary(run) == (Outcome.TIMED_OUT, None, "DeadlineExceeded")

    def test_terminal_reply_at_the_deadline_still_counts(self) -> None:
        """A Succeeded read at the deadline is a success, not a timeout."""
        run = drive(
            [answer(202, location=LOCATION, retry_after="10"), answer(200, resource("Succeeded"))],
            time_limit=S(8),
        )
        assert summary(run)[0] is Outcome.SUCCEEDED

    def test_final_get_after_operation_success_is_sent_at_the_deadline(self) -> None:
        """Reading the final state is immediate and not cut off by the deadline."""
        run = drive(
            [
                answer(202, azure_asyncoperation=OPERATION, retry_after="10"),
                answer(200, {"status": "Succeeded"}),
                answer(200, resource("Succeeded")),
            ],
            time_limit=S(8),
        )
        assert run.calls == [PUT, OP, RES]
        assert summary(run)[0] is Outcome.SUCCEEDED

    def test_transient_retries_stop_at_the_deadline(self) -> None:
        """Retrying a failing PUT never runs past the deadline."""
        run = drive([answer(503, retry_after="5")] * 3, time_limit=S(8))
        assert run.waits == [S(5), S(3)]
        assert summary(run) == (Outcome.TIMED_OUT, None, "DeadlineExceeded")

    def test_timed_out_and_canceled_keep_the_last_provisioning_state(self) -> None:
        """The orchestrator's own endings carry the last state ARM reported."""
        state = drive([answer(201, resource("Provisioning"))]).state
        timed, canceled = lro.timed_out(state), lro.canceled(state)
        assert (timed.outcome, timed.provisioning_state) == (Outcome.TIMED_OUT, "Provisioning")
        assert timed.error is not None
        assert "last provisioningState: Provisioning" in timed.error.message
        assert (canceled.outcome, canceled.provisioning_state) == (Outcome.CANCELED, "Provisioning")
        assert canceled.error is not None
        assert canceled.error.code == "CanceledByRequest"
        # The app decided these, not ARM: its own type, with the same wire shape.
        assert isinstance(timed.error, AppError)
        assert isinstance(canceled.error, AppError)

    def test_an_error_the_orchestrator_caught_fails_through_the_decision_module(self) -> None:
        """failed_in_app keeps the last state and carries OperationError as the app's error."""
        state = drive([answer(201, resource("Provisioning"))]).state
        failed = lro.failed_in_app(state, "activity kept failing")
        assert (failed.outcome, failed.provisioning_state) == (Outcome.FAILED, "Provisioning")
        assert isinstance(failed.error, AppError)
        assert failed.model_dump(mode="json")["error"] == {
            "code": "OperationError",
            "message": "activity kept failing",
            "target": None,
            "details": [],
            "status": None,
        }

    def test_naive_time_is_rejected(self) -> None:
        """A time without a zone is a clear error, never a silent wrong comparison."""
        state = drive([]).state
        reply = ArmReply.from_parts("PUT", RESOURCE, 202, {}, b"")
        with pytest.raises(ValueError, match="timezone-aware"):
            lro.advance(state, reply, now=datetime(2025, 3, 1, 12, 0))


class TestStart:
    def test_start_builds_the_put_to_the_resource_url(self) -> None:
        """The first request is a PUT of the resource URL with the API version."""
        state = lro.start(
            arm_endpoint=f"{ARM}/", resource_path=PATH, now=T0, time_limit=S(7200), policy=FAST
        )
        assert state.next_request == ArmRequest(
            method="PUT", url=RESOURCE, kind=RequestKind.PUT_RESOURCE
        )
        assert state.deadline == T0 + S(7200)
        assert state.arm_endpoint == ARM

    @pytest.mark.parametrize(
        ("endpoint", "path", "limit", "message"),
        [
            pytest.param("management.azure.com", PATH, S(60), "arm_endpoint", id="no-scheme"),
            pytest.param(f"{ARM}/prefix", PATH, S(60), "arm_endpoint", id="endpoint-path"),
            pytest.param(ARM, "subscriptions/x", S(60), "resource_path", id="relative-path"),
            pytest.param(ARM, f"{PATH}?x=1", S(60), "resource_path", id="path-with-query"),
            pytest.param(ARM, PATH, S(0), "time_limit", id="zero-time-limit"),
        ],
    )
    def test_bad_start_input_is_a_clear_error(
        self, endpoint: str, path: str, limit: timedelta, message: str
    ) -> None:
        """Malformed inputs raise ValueError naming the bad argument."""
        with pytest.raises(ValueError, match=message):
            lro.start(
                arm_endpoint=endpoint, resource_path=path, now=T0, time_limit=limit, policy=FAST
            )

    @pytest.mark.parametrize(
        "fields",
        [
            pytest.param({"min_wait": S(100)}, id="min-above-default"),
            pytest.param({"backoff_cap": S(1000)}, id="cap-above-max"),
            pytest.param({"backoff_base": S(0)}, id="zero-backoff-base"),
            pytest.param({"max_transient_failures": -1}, id="negative-count"),
            pytest.param({"jitter_ratio": 0.9}, id="jitter-too-large"),
        ],
    )
    def test_inconsistent_policy_is_rejected(self, fields: dict[str, Any]) -> None:
        """A policy whose limits contradict each other fails validation."""
        with pytest.raises(ValidationError):
            PollingPolicy(**fields)

    def test_production_defaults_follow_the_arm_rpc(self) -> None:
        """Defaults: 10 s floor, 60 s default, 10 min ceiling."""
        policy = PollingPolicy()
        assert (policy.min_wait, policy.default_wait, policy.max_wait) == (S(10), S(60), S(600))


class TestLroStateRoundTrip:
    SCRIPT = [
        answer(
            202,
            retry_after="4",
            x_ms_request_id="r1",
            x_ms_ratelimit_remaining_subscription_writes="7",
        ),
        answer(404, arm_error("ResourceNotFound")),
        answer(200, resource("Accepted")),
        answer(503),
    ]

    def test_state_round_trips_through_json_unchanged(self) -> None:
        """A mid-operation state survives model_dump(mode="json") / model_validate."""
        state = drive(self.SCRIPT).state
        assert (state.not_found_polls, state.unknown_state_sightings, state.transient_failures) == (
            1,
            1,
            1,
        )
        text = json.dumps(state.model_dump(mode="json"))
        assert LroState.model_validate(json.loads(text)) == state

    def test_resumed_state_continues_as_if_never_interrupted(self) -> None:
        """Driving the rest from a JSON-restored state gives the same requests and outcome."""
        rest = [answer(200, resource("Accepted")), answer(200, resource("Accepted"))]
        paused = drive(self.SCRIPT)
        restored = LroState.model_validate(
            json.loads(json.dumps(paused.state.model_dump(mode="json")))
        )
        straight = drive(self.SCRIPT + rest)
        resumed = drive(rest, state=restored, now=paused.ended_at)
        assert resumed.calls == straight.calls[len(self.SCRIPT) :]
        assert resumed.finish == straight.finish
        assert summary(resumed) == (Outcome.FAILED, "Accepted", "UnknownProvisioningState")

    def test_unknown_schema_version_is_rejected(self) -> None:
        """A state written by a future schema is refused rather than misread."""
        data = drive([]).state.model_dump(mode="json") | {"schema_version": 2}
        with pytest.raises(ValidationError, match="schema_version"):
            LroState.model_validate(data)

    def test_finish_round_trips_through_json(self) -> None:
        """A Finish crosses the activity boundary unchanged."""
        run = drive([answer(400, arm_error("Bad", "no"))])
        assert run.finish is not None
        again = Finish.model_validate(json.loads(json.dumps(run.finish.model_dump(mode="json"))))
        assert again == run.finish
