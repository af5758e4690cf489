"""Runs the real function app on the local host with a virtual durable clock.

Every function runs in Microsoft's worker, in its own process. Orchestrations, activities and
bindings run through devhost's durable engine (the JSON replay protocol); ARM, managed
identity, Event Grid and storage are the project's emulators and Azurite on loopback. Nothing
is patched: tests steer behaviour through the emulators' control APIs and read what the
emulators received.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from devhost.bindings import event_grid_trigger, queue_trigger
from devhost.durable import VirtualClock
from devhost.host_thread import HostThread
from emulators.testing import EmulatorStack
from shared.names import EVENTGRID_INTAKE, QUEUE_INTAKE, REJECTED_QUEUE, STORAGE_CONNECTION


@dataclass(frozen=True)
class Reply:
    """What an HTTP function answered, read the way the tests read a func.HttpResponse."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes

    def get_body(self) -> bytes:
        return self.body

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()


@dataclass
class AppUnderTest:
    """The app on the local host, plus the emulators it talks to."""

    thread: HostThread
    stack: EmulatorStack
    clock: VirtualClock

    @property
    def host_url(self) -> str:
        return self.thread.host.url

    # Intake, through the real bindings.

    def http(
        self,
        method: str,
        route: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        answer = requests.request(
            method,
            f"{self.host_url}/api/{route}",
            data=data,
            headers={"content-type": content_type, **(headers or {})},
            timeout=60,
        )
        return Reply(answer.status_code, answer.headers, answer.content)

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http("POST", "interactions", body)
        assert response.status_code in (200, 202), response.get_body()
        result: dict[str, Any] = json.loads(response.get_body())
        return result

    def put_route(self, hub: str, name: str, definition: dict[str, Any]) -> Reply:
        return self.http("PUT", f"hubs/{hub}/interactions/{name}", definition)

    def queue_message(self, text: str, *, message_id: str, dequeue_count: int = 1) -> Any:
        """Deliver a message to the queue intake as the queue trigger does (no storage)."""
        now = datetime.now(UTC)
        trigger = queue_trigger(
            message_id=message_id,
            body=text.encode(),
            dequeue_count=dequeue_count,
            pop_receipt="r",
            inserted_on=now,
            expires_on=now + timedelta(days=7),
            next_visible_on=now + timedelta(minutes=1),
        )
        return self.thread.call(self.thread.host.invoke(QUEUE_INTAKE, trigger))

    def cloud_event(self, data: Any, *, event_id: str) -> Any:
        event = {
            "id": event_id,
            "source": "/local/intake",
            "type": "CustomerInsights.InteractionType.ProvisioningRequested",
            "specversion": "1.0",
            "time": datetime.now(UTC).isoformat(),
            "data": data,
        }
        return self.thread.call(
            self.thread.host.invoke(EVENTGRID_INTAKE, event_grid_trigger(event))
        )

    def event(self, data: Any, *, event_id: str) -> Any:
        event = {
            "id": event_id,
            "data": data,
            "topic": "/local/intake",
            "subject": "intake",
            "eventType": "CustomerInsights.InteractionType.ProvisioningRequested",
            "eventTime": datetime.now(UTC).isoformat(),
            "dataVersion": "1.0",
            "metadataVersion": "1",
        }
        return self.thread.call(
            self.thread.host.invoke(EVENTGRID_INTAKE, event_grid_trigger(event))
        )

    def apply_settings(self, **changes: str) -> None:
        """Change app settings; the worker restarts with them, as in Azure."""
        self.thread.call(self.thread.host.apply_settings(changes))

    # Time and durable state.

    def run(self, *, until: timedelta | None = None) -> None:
        """Run every orchestration until idle (or until `until` from now, virtual time)."""
        stop_at = None if until is None else self.clock.now() + until
        self.thread.call(self.thread.host.engine.run_until_idle(stop_at), timeout=120)

    def view(self, operation_id: str) -> dict[str, Any]:
        response = self.http("GET", f"operations/{operation_id}")
        assert response.status_code == 200, response.get_body()
        result: dict[str, Any] = json.loads(response.get_body())
        return result

    def instance(self, operation_id: str) -> dict[str, Any]:
        status = self.thread.host.engine.get_status(operation_id, show_input=True)
        assert status is not None
        return status

    def now(self) -> datetime:
        return self.clock.now()

    # Emulators.

    def scenario(self, hub: str, **knobs: Any) -> None:
        answer = requests.put(
            f"{self.stack.arm.url}/_emulator/hubs/{hub}/scenario", json=knobs, timeout=5
        )
        assert answer.status_code == 200, answer.text

    def arm_fault(self, **rule: Any) -> None:
        answer = requests.post(f"{self.stack.arm.url}/_emulator/faults", json=rule, timeout=5)
        assert answer.status_code in (200, 201, 204), answer.text

    def eventgrid_fault(self, **rule: Any) -> None:
        answer = requests.post(f"{self.stack.eventgrid.url}/_emulator/faults", json=rule, timeout=5)
        assert answer.status_code in (200, 201, 204), answer.text

    def arm_requests(self, hub: str) -> list[dict[str, Any]]:
        """Every request ARM received for operations on `hub`, matched by correlation id
        (operation-status URLs do not name the hub)."""
        answer = requests.get(f"{self.stack.arm.url}/_emulator/requests", timeout=5)
        entries: list[dict[str, Any]] = answer.json()["requests"]

        def correlation(entry: dict[str, Any]) -> str | None:
            headers = {k.lower(): v for k, v in entry["headers"].items()}
            return headers.get("x-ms-correlation-request-id")

        ours = {
            correlation(e)
            for e in entries
            if e["method"] == "PUT" and f"/hubs/{hub.lower()}/" in e["path"].lower()
        }
        return [e for e in entries if correlation(e) in ours]

    def events_for(self, operation_id: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.stack.eventgrid.url}/_emulator/events", timeout=5)
        return [e for e in answer.json()["events"] if e["data"].get("operationId") == operation_id]

    def rejected_messages(self) -> list[dict[str, Any]]:
        """Everything on the dead-letter queue, decoded as the Functions convention encodes it."""
        from azure.storage.queue import QueueClient, TextBase64DecodePolicy

        queue = QueueClient.from_connection_string(
            self.stack.settings()[STORAGE_CONNECTION],
            REJECTED_QUEUE,
            message_decode_policy=TextBase64DecodePolicy(),
        )
        return [json.loads(m.content) for m in queue.peek_messages(max_messages=32)]

    def events_with_subject(self, subject: str) -> list[dict[str, Any]]:
        answer = requests.get(
            f"{self.stack.eventgrid.url}/_emulator/events", params={"subject": subject}, timeout=5
        )
        events: list[dict[str, Any]] = answer.json()["events"]
        return events
