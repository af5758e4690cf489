"""The Event Grid topic emulator: what happens to each request, in order.

Publishing (`POST` to any path outside `/_emulator/`): authorize (401), injected faults (a
status, a stall or a dropped connection), content type (415), size (413), JSON and per-event
checks (400), then store the events, queue each for every subscription of the same schema whose
`includedEventTypes` filter lets it by, and answer an empty 200.

Control API under `/_emulator/`: `events` (GET with `?eventType=&subject=`, DELETE), `faults`
(POST), `subscriptions` (POST runs the validation handshake; GET lists), `deliveries` (GET);
`health` and `reset` come from the common server.
"""

from __future__ import annotations

import itertools
import threading
from typing import Final

from emulators.common.control import ControlBodyError, parse_control_body
from emulators.common.faults import FaultPlan, FaultRule, apply_fault
from emulators.common.messages import Request, Response, empty_response, json_response
from emulators.common.routing import NoRouteError, Router
from emulators.common.server import EmulatorServer
from emulators.common.tokens import TokenSigner
from emulators.eventgrid.auth import authorize
from emulators.eventgrid.delivery import Deliverer
from emulators.eventgrid.errors import (
    EventGridError,
    injected_fault,
    invalid_control_request,
    method_not_allowed,
    not_found,
)
from emulators.eventgrid.store import EventStore
from emulators.eventgrid.subscriptions import Subscription, SubscriptionRequest, handshake
from emulators.eventgrid.validation import parse_publish

DEFAULT_TOPIC_KEY: Final = "local-topic-key"
TOPIC_PATH: Final = "/api/events"
_CONTROL_PREFIX: Final = "/_emulator/"


class EventGridEmulator:
    """A custom Event Grid topic on loopback that records, and optionally pushes, events."""

    def __init__(
        self,
        *,
        signer: TokenSigner | None,
        port: int = 0,
        topic_key: str = DEFAULT_TOPIC_KEY,
        local_auth: bool = True,
    ) -> None:
        self.topic_key = topic_key
        # False is the deployed topics' `disableLocalAuth: true`: bearer tokens only.
        self.local_auth = local_auth
        self.signer = signer
        self._store = EventStore()
        self._faults: FaultPlan[FaultRule] = FaultPlan()
        self._deliverer = Deliverer()
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []
        self._subscription_ids = itertools.count(1)
        self._control = self._control_routes()
        self._server = EmulatorServer(self._handle, reset=self.reset, port=port, name="eventgrid")

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:10102`."""
        return self._server.url

    @property
    def topic_endpoint(self) -> str:
        """The full topic URL to configure as `COMPLETION_TOPIC__topicEndpointUri`."""
        return f"{self.url}{TOPIC_PATH}"

    def start(self) -> str:
        """Start serving and delivering; returns the base URL."""
        url = self._server.start()
        self._deliverer.start()
        return url

    def stop(self) -> None:
        """Stop serving and delivering."""
        self._server.stop()
        self._deliverer.stop()

    def reset(self) -> None:
        """Forget events, faults, subscriptions and deliveries."""
        self._store.clear()
        self._faults.clear()
        with self._lock:
            self._subscriptions.clear()
        self._deliverer.clear()

    def _handle(self, request: Request) -> Response:
        if request.path.startswith(_CONTROL_PREFIX):
            try:
                return self._control.dispatch(request)
            except NoRouteError as no_route:
                if no_route.allowed:
                    allowed = ", ".join(sorted(no_route.allowed))
                    return method_not_allowed(request.method, allowed).response
                return not_found(request.method, request.path).response
        if request.method != "POST":
            return method_not_allowed(request.method, "POST").response
        return self._publish(request)

    def _publish(self, request: Request) -> Response:
        refusal = authorize(
            request.headers,
            topic_key=self.topic_key,
            signer=self.signer,
            local_auth=self.local_auth,
        )
        if refusal is not None:
            return refusal.response
        fault = self._faults.take(lambda rule: rule.applies_to_method(request.method))
        injected = None if fault is None else apply_fault(fault, _fault_error)
        if injected is not None:
            return injected
        batch = parse_publish(request.header("content-type"), request.body)
        if isinstance(batch, EventGridError):
            return batch.response
        records = self._store.add(batch)
        with self._lock:
            subscribers = [sub for sub in self._subscriptions if sub.schema == batch.schema]
        for subscription in subscribers:
            for record in records:
                if subscription.wants(record):
                    self._deliverer.submit(subscription, record)
        return empty_response(200)

    def _control_routes(self) -> Router:
        router = Router()
        router.add("GET", "/_emulator/events", self._list_events)
        router.add("DELETE", "/_emulator/events", self._clear_events)
        router.add("POST", "/_emulator/faults", self._arm_faults)
        router.add("POST", "/_emulator/subscriptions", self._subscribe)
        router.add("GET", "/_emulator/subscriptions", self._list_subscriptions)
        router.add("GET", "/_emulator/deliveries", self._list_deliveries)
        return router

    def _list_events(self, request: Request) -> Response:
        events = self._store.list(
            event_type=request.query.get("eventType"), subject=request.query.get("subject")
        )
        return json_response(200, {"events": events})

    def _clear_events(self, request: Request) -> Response:
        self._store.clear()
        return empty_response(204)

    def _arm_faults(self, request: Request) -> Response:
        try:
            rule = parse_control_body(request, FaultRule)
        except ControlBodyError as error:
            return invalid_control_request(str(error)).response
        self._faults.add(rule)
        return json_response(200, rule.model_dump(mode="json", by_alias=True))

    def _subscribe(self, request: Request) -> Response:
        try:
            body = parse_control_body(request, SubscriptionRequest)
        except ControlBodyError as error:
            return invalid_control_request(str(error)).response
        subscription = Subscription.from_request(f"sub-{next(self._subscription_ids)}", body)
        failure = handshake(subscription)
        if failure is not None:
            return failure.response
        with self._lock:
            self._subscriptions.append(subscription)
        return json_response(201, subscription.as_json())

    def _list_subscriptions(self, request: Request) -> Response:
        with self._lock:
            subscriptions = [sub.as_json() for sub in self._subscriptions]
        return json_response(200, {"subscriptions": subscriptions})

    def _list_deliveries(self, request: Request) -> Response:
        return json_response(200, {"deliveries": self._deliverer.attempts()})


def _fault_error(status: int, code: str | None, message: str | None) -> Response:
    return injected_fault(status, code, message).response
