"""A loopback Event Grid subscriber for the emulator's delivery tests, with its fixtures and the
publish step those tests start with."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from emulators.common.messages import Request, Response, empty_response, json_response
from emulators.common.server import EmulatorServer
from emulators.eventgrid import DEFAULT_TOPIC_KEY, EventGridEmulator


class Webhook:
    """A loopback subscriber that answers handshakes as told and records every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server = EmulatorServer(self._answer, reset=self.behave, name="webhook")
        self.behave()

    def behave(
        self,
        *,
        validation: str = "echo",
        allowed_origin: str | None = "eventgrid.azure.net",
        statuses: tuple[int, ...] = (),
    ) -> None:
        """How to answer: validation "echo" | "wrong" | "fail"; notification statuses in turn."""
        with self._lock:
            self.validation = validation
            self.allowed_origin = allowed_origin
            self._statuses = list(statuses)
            self.received: list[Request] = []

    @property
    def url(self) -> str:
        return self._server.url + "/runtime/webhooks/eventgrid"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def notifications(self) -> list[Request]:
        with self._lock:
            return [r for r in self.received if r.header("aeg-event-type") == "Notification"]

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.received.append(request)
            if request.method == "OPTIONS":
                headers = {"WebHook-Allowed-Origin": self.allowed_origin or ""}
                return empty_response(200, headers if self.allowed_origin else {})
            if request.header("aeg-event-type") == "SubscriptionValidation":
                return self._validation_answer(request)
            return empty_response(self._statuses.pop(0) if self._statuses else 200)

    def _validation_answer(self, request: Request) -> Response:
        if self.validation == "fail":
            return empty_response(500)
        code = request.json()[0]["data"]["validationCode"]
        answer = code if self.validation == "echo" else "not-the-code"
        return json_response(200, {"validationResponse": answer})


@pytest.fixture(scope="module", name="webhook")
def _webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture(autouse=True, name="fresh_webhook")
def _fresh_webhook(eventgrid: EventGridEmulator, webhook: Webhook) -> None:
    eventgrid.reset()
    webhook.behave()


def publish_accepted(emulator: EventGridEmulator, payload: object, content_type: str) -> None:
    """Publish to the topic with its key and insist on 200, so delivery can be awaited."""
    response = requests.post(
        emulator.topic_endpoint,
        data=json.dumps(payload),
        headers={"aeg-sas-key": DEFAULT_TOPIC_KEY, "Content-Type": content_type},
        timeout=5,
    )
    assert response.status_code == 200, response.text
