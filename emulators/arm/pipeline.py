"""What happens to a request, in order (the one place to read to follow a request through).

Control requests (`/_emulator/...`) skip everything but tracing headers. API requests go:

1. scripted faults: stall, drop the connection, or answer an error;
2. authentication: a bearer token from the shared signer for an ARM audience;
3. throttling: charge the subscription's read or write bucket;
4. api-version: present and supported;
5. routing to the handler, which validates names and body and calls the store;

then every answer, a 500 for an unexpected failure included, gets `x-ms-request-id`,
`x-ms-correlation-request-id` (echoed or new), `x-ms-client-request-id` when asked for, and the
remaining-budget header; and the journal records it.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Final

from emulators.arm import errors
from emulators.arm.auth import accepted_audiences, authenticate
from emulators.arm.constants import SUPPORTED_API_VERSIONS
from emulators.arm.faults import ArmFault
from emulators.arm.routes import CONTROL_PREFIX
from emulators.arm.store import InteractionStore
from emulators.arm.throttling import SubscriptionThrottle
from emulators.common import (
    FaultPlan,
    HttpError,
    NoRouteError,
    Request,
    RequestJournal,
    Response,
    Router,
    TokenSigner,
    apply_fault,
)

_LOG = logging.getLogger(__name__)

_SUBSCRIPTION: Final = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
_HUB: Final = re.compile(r"/hubs/([^/]+)", re.IGNORECASE)
_OPERATION: Final = re.compile(r"/operation(?:Results|Statuses)/([^/]+)", re.IGNORECASE)
_WRITE_METHODS: Final = frozenset({"PUT", "POST", "PATCH", "DELETE"})


class ArmPipeline:
    """The request handler the ARM emulator's server runs."""

    def __init__(
        self,
        *,
        signer: TokenSigner,
        api: Router,
        control: Router,
        store: InteractionStore,
        faults: FaultPlan[ArmFault],
        throttle: SubscriptionThrottle,
        journal: RequestJournal,
    ) -> None:
        self._signer = signer
        self._api = api
        self._control = control
        self._store = store
        self._faults = faults
        self._throttle = throttle
        self._journal = journal

    def __call__(self, request: Request) -> Response:
        headers = _tracing_headers(request)
        control = request.path.startswith(CONTROL_PREFIX)
        try:
            response = (
                _answer(self._control, request) if control else self._serve_api(request, headers)
            )
        except Exception:
            # Caught here rather than by the server, so the 500 is ARM's, traced and journaled.
            _LOG.exception("ARM emulator failed on %s %s", request.method, request.path)
            response = errors.internal_server_error(
                headers["x-ms-request-id"], headers["x-ms-correlation-request-id"]
            ).response
        if not control:
            self._journal.record(request, response)
        return response if response.drop else response.with_headers(headers)

    def _serve_api(self, request: Request, headers: dict[str, str]) -> Response:
        try:
            self._apply_fault(request)
            claims = authenticate(
                request.header("authorization"),
                self._signer,
                accepted_audiences(request.base_url),
            )
            self._charge(request, claims.object_id, headers)
            _check_api_version(request)
        except HttpError as err:
            return err.response
        return _answer(self._api, request)

    def _apply_fault(self, request: Request) -> None:
        hub = self._hub_of(request)

        def matches(rule: ArmFault) -> bool:
            wanted_hub = rule.hub is None or rule.hub.lower() == hub
            return wanted_hub and rule.applies_to_method(request.method)

        fault = self._faults.take(matches)
        response = None if fault is None else apply_fault(fault, _fault_error)
        if response is not None:
            raise HttpError(response)

    def _charge(self, request: Request, actor: str, headers: dict[str, str]) -> None:
        subscription = _SUBSCRIPTION.match(request.path)
        if subscription is None:
            return
        write = request.method in _WRITE_METHODS
        charge = self._throttle.charge(subscription.group(1), write=write)
        kind = "write" if write else "read"
        headers[f"x-ms-ratelimit-remaining-subscription-{kind}s"] = str(charge.remaining)
        if not charge.allowed:
            raise errors.subscription_requests_throttled(
                kind, subscription.group(1), actor, charge.retry_after
            )

    def _hub_of(self, request: Request) -> str | None:
        hub = _HUB.search(request.path)
        if hub is not None:
            return hub.group(1).lower()
        operation = _OPERATION.search(request.path)
        return None if operation is None else self._store.hub_of_operation(operation.group(1))


def _answer(router: Router, request: Request) -> Response:
    try:
        return router.dispatch(request)
    except HttpError as err:
        return err.response
    except NoRouteError as err:
        if err.allowed:
            return errors.method_not_allowed(err.method, err.path, err.allowed).response
        return errors.path_not_found(err.method, err.path).response


def _fault_error(status: int, code: str | None, message: str | None) -> Response:
    return errors.injected_fault(status, code, message).response


def _check_api_version(request: Request) -> None:
    api_version = request.query.get("api-version")
    if not api_version:
        raise errors.missing_api_version()
    if api_version not in SUPPORTED_API_VERSIONS:
        raise errors.invalid_api_version(api_version)


def _tracing_headers(request: Request) -> dict[str, str]:
    headers = {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-correlation-request-id": request.header("x-ms-correlation-request-id")
        or str(uuid.uuid4()),
    }
    client_request_id = request.header("x-ms-client-request-id")
    wants_echo = (request.header("x-ms-return-client-request-id") or "").lower() == "true"
    if client_request_id and wants_echo:
        headers["x-ms-client-request-id"] = client_request_id
    return headers
