"""Decisions for the ARM PUT long-running operation, as pure functions of plain values.

The orchestrator owns the clock and the timers and the activities own HTTP; everything in
between (where to poll, how long to wait, what a reply means, when to give up) is decided
here, so the orchestrator loop stays small and deterministic:

    state = lro.start(arm_endpoint=..., resource_path=..., now=context.current_utc_datetime,
                      time_limit=timedelta(seconds=7200), policy=PollingPolicy(...))
    # after continue_as_new: state = LroState.model_validate(context.get_input()["lro"])
    while True:
        request = state.next_request          # the PUT first, then whatever advance chose
        reply = ArmReply.model_validate((yield context.call_activity(..., request ...)))
        state, step = lro.advance(state, reply, now=context.current_utc_datetime)
        if isinstance(step, lro.Finish):
            break
        if step.until is not None:            # None: send step.request at once, no timer
            ...  # race context.create_timer(step.until) with the cancel event;
            ...  # if cancel wins: step = lro.canceled(state); break
        ...  # every N polls (state.polls): continue_as_new({"lro": state.model_dump(mode="json")})

Deadline rule: a wait never ends after `state.deadline`; a wait that would is shortened so the
last poll happens at the deadline, and any reply that is still not terminal at or after the
deadline finishes as timed out. Only the immediate follow-up GET that reads the final state
(`until=None`) is sent regardless, since it reads a result rather than waiting for one.
Every `Finish` is built here: by `advance`, `timed_out`, `canceled` or `failed_in_app`.

Error rule (docs/contracts/arm-lro.md §10 and §8): no HTTP response, 408, 429, 500, 502, 503 and 504
are transient, and so is any other 4xx/5xx that names a readable wait (Retry-After,
retry-after-ms or x-ms-retry-after-ms). A transient failure sends the same request again after
the server's wait (clamped to [min_wait, max_wait]) or else a computed backoff, at most
`max_transient_failures` times in a row before the operation fails with that reply's error.
A 404 on the resource while it may not be visible yet is a poll, not an error (bounded by
`max_not_found`). Any other 4xx/5xx on the PUT, a Location poll or a resource GET fails the
operation. On the Azure-AsyncOperation status URL it means reading the status failed, not the
operation: polling switches to the resource URL for good, with the normal poll wait, and the
resource's provisioningState decides.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Final, Literal, NamedTuple
from urllib.parse import urljoin

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, model_validator

from shared import waits
from shared.arm_reply import ArmError, ArmReply, reply_error
from shared.endpoints import arm_origin, describe_origin, is_trusted_url
from shared.errors import AppCode, AppError
from shared.names import API_VERSION

# RPC Addendum "Retrying REST Calls": retry 408, 5xx and socket errors; 429 is ARM throttling.
# Any other error status is retried too when the reply names a wait (see `advance`).
TRANSIENT_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_COUNT = re.compile(r"[0-9]{1,9}")


class PollingPolicy(BaseModel):
    """Timing and patience limits for one operation; the defaults are production values."""

    model_config = ConfigDict(frozen=True)

    # RPC async-api-reference: Retry-After is 10 s to 10 min; also the floor under "0".
    min_wait: timedelta = timedelta(seconds=10)
    # RPC async-api-reference: without Retry-After the client waits 60 s.
    default_wait: timedelta = timedelta(seconds=60)
    max_wait: timedelta = timedelta(seconds=600)
    # First retry after a transient failure that named no Retry-After; doubles per failure.
    backoff_base: timedelta = timedelta(seconds=10)
    # Computed (not server-given) waits stop growing here.
    backoff_cap: timedelta = timedelta(seconds=300)
    max_transient_failures: int = Field(8, ge=0)
    # 404s tolerated while a resource created by a bare 202 is not visible yet (RPC step 7).
    max_not_found: int = Field(5, ge=0)
    max_unknown_state_sightings: int = Field(10, ge=1)
    # Below this many remaining subscription reads (x-ms-ratelimit-remaining-subscription-reads)
    # polls slow to backoff_cap; ARM's default budget is 12,000 reads an hour.
    low_read_budget: int = Field(100, ge=0)
    # Computed waits are shortened by up to this share, derived from the state (never random).
    jitter_ratio: float = Field(0.1, ge=0, le=0.5)

    @model_validator(mode="after")
    def _ordered(self) -> PollingPolicy:
        zero = timedelta(0)
        if not zero <= self.min_wait <= self.default_wait <= self.backoff_cap <= self.max_wait:
            raise ValueError(
                "waits must satisfy 0 <= min_wait <= default_wait <= backoff_cap <= max_wait"
            )
        if not zero < self.backoff_base <= self.backoff_cap:
            raise ValueError("backoff_base must be positive and at most backoff_cap")
        return self


class RequestKind(StrEnum):
    """What a request is for; it decides how its reply is read."""

    PUT_RESOURCE = "put_resource"
    POLL_OPERATION = "poll_operation"  # the Azure-AsyncOperation status resource
    POLL_LOCATION = "poll_location"
    GET_RESOURCE = "get_resource"


class ArmRequest(BaseModel):
    """The next call for the activity: an absolute URL already checked against the endpoint."""

    model_config = ConfigDict(frozen=True)

    method: Literal["PUT", "GET"]
    url: str
    kind: RequestKind


class Outcome(StrEnum):
    """How the operation ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"


class Wait(BaseModel):
    """Send `request` at `until` (orchestration time); `until=None` means send it now."""

    model_config = ConfigDict(frozen=True)

    request: ArmRequest
    until: AwareDatetime | None


# The error an operation ends with: the app's own when its code is an AppCode, else ARM's.
# Tried in that order, so a stored error reads back as the type it was written as.
OutcomeError = Annotated[AppError | ArmError, Field(union_mode="left_to_right")]


class Finish(BaseModel):
    """The end of the operation: outcome, last provisioningState, error and final resource."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    provisioning_state: str | None
    error: OutcomeError | None
    resource: JsonValue = None


Step = Wait | Finish


class LroState(BaseModel):
    """Everything needed to resume polling, including after continue_as_new (JSON-safe)."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    arm_endpoint: str
    resource_url: str
    policy: PollingPolicy
    deadline: AwareDatetime
    next_request: ArmRequest
    polls: int = 0
    transient_failures: int = 0
    last_retry_after: timedelta | None = None
    not_found_tolerated: bool = False
    not_found_polls: int = 0
    unknown_state: str | None = None
    unknown_state_sightings: int = 0
    provisioning_state: str | None = None
    request_id: str | None = None
    writes_remaining: int | None = None
    reads_remaining: int | None = None


class _Meaning(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    NEEDS_HUMAN = "needs_human"
    IN_PROGRESS = "in_progress"


# provisioningState -> meaning for Microsoft.CustomerInsights/hubs/interactions, keyed
# case-insensitively. The enum is modelAsString, so other values can appear: they count as in
# progress, and the same one seen max_unknown_state_sightings times in a row fails the operation.
# An absent provisioningState means Succeeded (RPC async-api-reference, "ProvisioningState
# property").
PROVISIONING_STATES: Final = MappingProxyType(
    {
        # CI enum (swagger definition ProvisioningState); ARM-terminal success (RPC).
        "succeeded": _Meaning.SUCCEEDED,
        # CI enum; ARM-terminal failure (RPC); the error, if any, comes from the body.
        "failed": _Meaning.FAILED,
        # Not in CI's enum, but ARM-terminal (RPC), so it must stop the loop.
        "canceled": _Meaning.CANCELED,
        # CI enum; not ARM-terminal, but it means manual action and never clears by itself
        # (docs/contracts/arm-lro.md §4, an inference): stop instead of polling until the deadline.
        "humanintervention": _Meaning.NEEDS_HUMAN,
        # CI enum; the PUT 200 example (InteractionsCreateOrUpdate.json) returns it.
        "provisioning": _Meaning.IN_PROGRESS,
        # CI enum; non-terminal by the ARM rule (only Succeeded/Failed/Canceled are terminal).
        "expiring": _Meaning.IN_PROGRESS,
        # CI enum; non-terminal by the ARM rule.
        "deleting": _Meaning.IN_PROGRESS,
    }
)


class _Next(NamedTuple):
    request: ArmRequest
    wait: timedelta | None  # None: immediately, no timer


_Decision = tuple[LroState, Finish | _Next]


def start(
    *,
    arm_endpoint: str,
    resource_path: str,
    now: datetime,
    time_limit: timedelta,
    policy: PollingPolicy,
) -> LroState:
    """The state before the PUT; the deadline is `now` (orchestration time) plus `time_limit`."""
    try:
        endpoint = arm_origin(arm_endpoint)
    except ValueError as error:
        raise ValueError(f"arm_endpoint {error}: {arm_endpoint!r}") from None
    if not resource_path.startswith("/") or any(c in resource_path for c in "?# \t\r\n"):
        raise ValueError(
            f"resource_path must be an absolute path without a query: {resource_path!r}"
        )
    if time_limit <= timedelta(0):
        raise ValueError("time_limit must be positive")
    resource_url = f"{endpoint}{resource_path}?api-version={API_VERSION}"
    return LroState(
        arm_endpoint=endpoint,
        resource_url=resource_url,
        policy=policy,
        deadline=_utc(now) + time_limit,
        next_request=ArmRequest(method="PUT", url=resource_url, kind=RequestKind.PUT_RESOURCE),
    )


def advance(state: LroState, reply: ArmReply, *, now: datetime) -> tuple[LroState, Step]:
    """Read the reply to `state.next_request` and decide the next step."""
    now = _utc(now)
    state = _observe(state, reply)
    status = reply.status
    hint = waits.requested_wait(reply, now)
    if status is None or status in TRANSIENT_STATUSES:
        return _retry(state, reply, hint, now)
    kind = state.next_request.kind
    hidden = status == 404 and kind is RequestKind.GET_RESOURCE and state.not_found_tolerated
    error = status >= 400 and not hidden
    if error and hint is not None:
        # RPC Addendum: retry any response carrying Retry-After, whatever its status.
        return _retry(state, reply, hint, now)
    state = state.model_copy(update={"transient_failures": 0})
    if hint is not None:
        state = state.model_copy(update={"last_retry_after": _clamp(hint, state.policy)})
    if error and kind is RequestKind.POLL_OPERATION:
        return _schedule(*_status_unreadable(state), now)
    if error:
        return state, _finish(state, Outcome.FAILED, _reply_error(reply))
    return _schedule(*_READERS[kind](state, reply, status), now)


def timed_out(state: LroState) -> Finish:
    """The Finish for a deadline passed before ARM reported a terminal state."""
    return _finish(
        state,
        Outcome.TIMED_OUT,
        AppError(
            code=AppCode.DEADLINE_EXCEEDED,
            message=f"ARM reported no terminal state by the deadline "
            f"{state.deadline.isoformat()}; last provisioningState: "
            f"{state.provisioning_state or 'not seen'}.",
        ),
    )


def canceled(state: LroState) -> Finish:
    """The Finish for a cancel request that arrived while waiting."""
    return _finish(
        state,
        Outcome.CANCELED,
        AppError(
            code=AppCode.CANCELED_BY_REQUEST,
            message="Polling stopped on a cancel request before ARM reported a terminal state; "
            "ARM may still complete the change (interaction types cannot be deleted).",
        ),
    )


def failed_in_app(state: LroState, message: str) -> Finish:
    """The Finish for an error the orchestrator caught itself (not one ARM reported)."""
    return _finish(state, Outcome.FAILED, AppError(code=AppCode.OPERATION_ERROR, message=message))


# Reading one reply, by request kind. Each returns the new state and a Finish or the next call.


def _read_put(state: LroState, reply: ArmReply, status: int) -> _Decision:
    if status in (200, 201) and isinstance(reply.body, dict):
        state, finish = _judge_resource(state, reply)
        if finish is not None:
            return state, finish
        follow = _poll_request(state, reply, "azure-asyncoperation", RequestKind.POLL_OPERATION)
        if isinstance(follow, Finish):
            return state, follow
        return state, _Next(follow or resource_request(state), _poll_wait(state))
    if status in (200, 201, 204):
        return state, _Next(resource_request(state), None)
    if status == 202:
        return _read_accepted(state, reply)
    return state, _unexpected(state, reply, status)


def _read_accepted(state: LroState, reply: ArmReply) -> _Decision:
    # ARM's precedence: Azure-AsyncOperation, then Location, then the resource itself.
    for header, kind in (
        ("azure-asyncoperation", RequestKind.POLL_OPERATION),
        ("location", RequestKind.POLL_LOCATION),
    ):
        follow = _poll_request(state, reply, header, kind)
        if isinstance(follow, Finish):
            return state, follow
        if follow is not None:
            return state, _Next(follow, _poll_wait(state))
    # A resource created by a bare 202 may 404 until it is done (RPC async-api-reference).
    state = state.model_copy(update={"not_found_tolerated": True})
    return state, _Next(resource_request(state), _poll_wait(state))


def _read_operation(state: LroState, reply: ArmReply, status: int) -> _Decision:
    if status == 202:
        return state, _Next(state.next_request, _poll_wait(state))
    if status != 200:
        return state, _unexpected(state, reply, status)
    body = reply.body
    raw = body.get("status") if isinstance(body, dict) else None
    if not isinstance(raw, str):
        invalid = AppError(
            code=AppCode.INVALID_OPERATION_STATUS,
            message=f"The operation status at {reply.url} has no status field.",
            status=status,
        )
        return state, _finish(state, Outcome.FAILED, invalid)
    verdict = raw.lower()
    if verdict == "succeeded":
        # No final-state-via in the swagger: AutoRest's PUT default is original-uri, a final GET.
        return state, _Next(resource_request(state), None)
    if verdict == "failed":
        error = _reply_error(
            reply, AppCode.PROVISIONING_FAILED, "ARM reports the operation Failed."
        )
        return state, _finish(state, Outcome.FAILED, error)
    if verdict == "canceled":
        error = _reply_error(
            reply, AppCode.PROVISIONING_CANCELED, "ARM reports the operation Canceled."
        )
        return state, _finish(state, Outcome.CANCELED, error)
    return state, _Next(state.next_request, _poll_wait(state))


def _status_unreadable(state: LroState) -> _Decision:
    # docs/contracts/arm-lro.md §8: an error on the status GET is about reading the status, not the
    # operation, so the resource decides from now on (no reply to a resource GET leads back).
    # A resource not seen yet may have been created by a 202 and 404 until it is done
    # (docs/contracts/arm-lro.md §7), so its 404s are tolerated as after a bare 202; one already
    # seen must not vanish.
    state = state.model_copy(update={"not_found_tolerated": state.provisioning_state is None})
    return state, _Next(resource_request(state), _poll_wait(state))


def _read_location(state: LroState, reply: ArmReply, status: int) -> _Decision:
    if status == 202:
        follow = _poll_request(state, reply, "location", RequestKind.POLL_LOCATION)
        if isinstance(follow, Finish):
            return state, follow
        return state, _Next(follow or state.next_request, _poll_wait(state))
    if status in (200, 201) and isinstance(reply.body, dict):
        # Done: the body is the resource, but it can still say Provisioning.
        state, finish = _judge_resource(state, reply)
        if finish is not None:
            return state, finish
        return state, _Next(resource_request(state), _poll_wait(state))
    if status in (200, 201, 204):
        return state, _Next(resource_request(state), None)
    return state, _unexpected(state, reply, status)


def _read_resource(state: LroState, reply: ArmReply, status: int) -> _Decision:
    if status == 404:  # advance lets a 404 through only while it is tolerated
        count = state.not_found_polls + 1
        state = state.model_copy(update={"not_found_polls": count})
        if count > state.policy.max_not_found:
            return state, _finish(state, Outcome.FAILED, _reply_error(reply))
        return state, _Next(state.next_request, _poll_wait(state))
    if status == 202:
        return state, _Next(state.next_request, _poll_wait(state))
    if status == 200 and isinstance(reply.body, dict):
        state = state.model_copy(update={"not_found_tolerated": False})
        state, finish = _judge_resource(state, reply)
        if finish is not None:
            return state, finish
        return state, _Next(state.next_request, _poll_wait(state))
    return state, _unexpected(state, reply, status)


_READERS: Final = MappingProxyType(
    {
        RequestKind.PUT_RESOURCE: _read_put,
        RequestKind.POLL_OPERATION: _read_operation,
        RequestKind.POLL_LOCATION: _read_location,
        RequestKind.GET_RESOURCE: _read_resource,
    }
)


def _judge_resource(state: LroState, reply: ArmReply) -> tuple[LroState, Finish | None]:
    """Apply the provisioningState table to a resource body; None means still in progress."""
    raw = _provisioning_state(reply.body)
    if raw is None:
        state = state.model_copy(update={"provisioning_state": "Succeeded"})
        return state, _finish(state, Outcome.SUCCEEDED, None, reply.body)
    state = state.model_copy(update={"provisioning_state": raw})
    meaning = PROVISIONING_STATES.get(raw.lower())
    if meaning is None:
        seen = state.unknown_state_sightings + 1 if state.unknown_state == raw else 1
        state = state.model_copy(update={"unknown_state": raw, "unknown_state_sightings": seen})
        if seen < state.policy.max_unknown_state_sightings:
            return state, None
        error: ArmError | AppError = AppError(
            code=AppCode.UNKNOWN_PROVISIONING_STATE,
            message=f"ARM reported the unknown provisioningState {raw!r} {seen} times in a row; "
            "polling stopped.",
        )
        return state, _finish(state, Outcome.FAILED, error, reply.body)
    state = state.model_copy(update={"unknown_state": None, "unknown_state_sightings": 0})
    if meaning is _Meaning.IN_PROGRESS:
        return state, None
    if meaning is _Meaning.SUCCEEDED:
        return state, _finish(state, Outcome.SUCCEEDED, None, reply.body)
    if meaning is _Meaning.NEEDS_HUMAN:
        error = AppError(
            code=AppCode.HUMAN_INTERVENTION_REQUIRED,
            message=f"Customer Insights reports provisioningState {raw}: manual action is "
            "needed in the hub before this interaction type can finish; polling stopped.",
        )
        return state, _finish(state, Outcome.FAILED, error, reply.body)
    if meaning is _Meaning.CANCELED:
        error = _reply_error(
            reply, AppCode.PROVISIONING_CANCELED, f"ARM reports provisioningState {raw}."
        )
        return state, _finish(state, Outcome.CANCELED, error, reply.body)
    error = _reply_error(
        reply, AppCode.PROVISIONING_FAILED, f"ARM reports provisioningState {raw}."
    )
    return state, _finish(state, Outcome.FAILED, error, reply.body)


def _provisioning_state(body: JsonValue) -> str | None:
    # Wrapped (swagger) bodies nest it under properties; flat bodies are accepted too.
    if not isinstance(body, dict):
        return None
    properties = body.get("properties")
    holder = properties if isinstance(properties, dict) else {}
    value = holder.get("provisioningState", body.get("provisioningState"))
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


# Waits, retries and the deadline.


def _schedule(state: LroState, decision: Finish | _Next, now: datetime) -> tuple[LroState, Step]:
    if isinstance(decision, Finish):
        return state, decision
    state = state.model_copy(update={"next_request": decision.request})
    if decision.wait is None:
        return state, Wait(request=decision.request, until=None)
    if now >= state.deadline:
        return state, timed_out(state)
    return state, Wait(request=decision.request, until=min(now + decision.wait, state.deadline))


def _retry(
    state: LroState, reply: ArmReply, hint: timedelta | None, now: datetime
) -> tuple[LroState, Step]:
    """The same request again after `hint` (the reply's own wait) or a computed backoff."""
    count = state.transient_failures + 1
    state = state.model_copy(update={"transient_failures": count})
    if count > state.policy.max_transient_failures:
        return state, _finish(state, Outcome.FAILED, _reply_error(reply))
    if hint is not None:
        wait = _clamp(hint, state.policy)
    else:
        wait = _backoff(state, state.policy.backoff_base, count - 1)
    return _schedule(state, _Next(state.next_request, wait), now)


def _poll_wait(state: LroState) -> timedelta:
    # The last server-given interval wins, even when this reply named none (ARM often sends
    # Retry-After only on the first 202). Without one, the configured interval holds steady:
    # doubling cost minutes of detection lag on long provisionings, and the read budget is
    # guarded below, not by stretching every operation's waits.
    if state.last_retry_after is not None:
        wait = state.last_retry_after
    else:
        wait = _backoff(state, state.policy.default_wait, 0)
    reads = state.reads_remaining
    if reads is not None and reads < state.policy.low_read_budget:
        # The read budget is the subscription's, shared by every operation polling it: when
        # it runs low each of them slows to the backoff cap, which paces them all without
        # coordination and leaves reads for the subscription's other clients
        # (docs/contracts/arm-lro.md §13).
        wait = max(wait, state.policy.backoff_cap)
    return wait


def _backoff(state: LroState, first: timedelta, step: int) -> timedelta:
    policy = state.policy
    # Seeded by the operation and its progress, so replays compute the same wait.
    seed = f"{state.resource_url}|{state.polls}|{state.transient_failures}"
    jitter = policy.jitter_ratio * waits.jitter_fraction(seed)
    return _clamp(waits.backoff(first, step, cap=policy.backoff_cap, jitter=jitter), policy)


def _clamp(wait: timedelta, policy: PollingPolicy) -> timedelta:
    return waits.clamp(wait, policy.min_wait, policy.max_wait)


# Poll URLs.


def _poll_request(
    state: LroState, reply: ArmReply, header: str, kind: RequestKind
) -> ArmRequest | Finish | None:
    """The poll request a header names; a Finish if it points off the ARM endpoint."""
    value = reply.header(header)
    if value is None or not value.strip():
        return None
    # Resolved against the URL actually requested (the reply's URL is redacted).
    url = urljoin(state.next_request.url, value.strip())
    if is_trusted_url(url, state.arm_endpoint):
        return ArmRequest(method="GET", url=url, kind=kind)
    error = AppError(
        code=AppCode.UNTRUSTED_POLL_URL,
        message=f"ARM's {header} header points at {describe_origin(url)}, which is not the "
        f"configured ARM endpoint {state.arm_endpoint}; it was not requested.",
    )
    return _finish(state, Outcome.FAILED, error)


def resource_request(state: LroState) -> ArmRequest:
    """The GET of the resource itself: the final read, and the read before the PUT."""
    return ArmRequest(method="GET", url=state.resource_url, kind=RequestKind.GET_RESOURCE)


# Building results.


def _finish(
    state: LroState, outcome: Outcome, error: ArmError | AppError | None, resource: JsonValue = None
) -> Finish:
    return Finish(
        outcome=outcome,
        provisioning_state=state.provisioning_state,
        error=error,
        resource=resource,
    )


def _reply_error(
    reply: ArmReply,
    code: AppCode = AppCode.UNEXPECTED_RESPONSE,
    message: str = "ARM reported a failure.",
) -> ArmError | AppError:
    """The error the reply reports, else one with the given code and message."""
    return reply_error(reply) or AppError(code=code, message=message, status=reply.status)


def _unexpected(state: LroState, reply: ArmReply, status: int) -> Finish:
    error = AppError(
        code=AppCode.UNEXPECTED_RESPONSE,
        message=f"ARM answered {reply.method} {reply.url} with HTTP {status}, which is not a "
        f"valid reply to a {state.next_request.kind.value.replace('_', ' ')} request.",
        status=status,
    )
    return _finish(state, Outcome.FAILED, error)


def _observe(state: LroState, reply: ArmReply) -> LroState:
    """Count the poll and keep the request id and throttling budget the status view shows."""
    update: dict[str, object] = {}
    if state.next_request.kind is not RequestKind.PUT_RESOURCE:
        update["polls"] = state.polls + 1
    request_id = reply.header("x-ms-request-id")
    if request_id:
        update["request_id"] = request_id
    for header, field in (
        ("x-ms-ratelimit-remaining-subscription-writes", "writes_remaining"),
        ("x-ms-ratelimit-remaining-subscription-reads", "reads_remaining"),
    ):
        value = reply.header(header)
        if value is not None and _COUNT.fullmatch(value.strip()):
            update[field] = int(value)
    return state.model_copy(update=update)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware (use context.current_utc_datetime)")
    return moment.astimezone(UTC)
