"""The whole stack for end-to-end tests: emulators and Azurite here, the app host as a process.

Everything goes over real HTTP and real queues on loopback. Tests steer ARM through the
emulator's scenarios and read back what each server received: the ARM journal, the events the
topic accepted, the messages left on the queues, and the host's own log.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devhost.keys import (
    DURABLETASK_EXTENSION_KEY_SETTING,
    EVENTGRID_EXTENSION_KEY_SETTING,
    FUNCTION_KEY_SETTING,
    MASTER_KEY_SETTING,
)
from emulators.testing import EmulatorStack
from shared.events import rejection_event_id
from shared.names import EVENT_TYPE_PREFIX, EVENTGRID_INTAKE, REJECTED_QUEUE, REQUEST_QUEUE
from tests.devhost.support import REPO_ROOT, DevhostProcess, free_port, wait_until
from tests.examples import RESOURCE_GROUP, SUBSCRIPTION, envelope

T = TypeVar("T")

FUNCTION_KEY = "e2e-function-key"
MASTER_KEY = "e2e-master-key"
EVENTGRID_KEY = "e2e-eventgrid-key"
DURABLETASK_KEY = "e2e-durabletask-key"

# The queue and event names are the app's own (shared/names.py); only the poison queue's name is
# the platform's rule (docs/contracts/functions-io.md §4).
POISON_QUEUE = f"{REQUEST_QUEUE}-poison"

EVENT_PREFIX = EVENT_TYPE_PREFIX
REQUESTED = EVENT_PREFIX + "ProvisioningRequested"
SUCCEEDED = EVENT_PREFIX + "ProvisioningSucceeded"
FAILED = EVENT_PREFIX + "ProvisioningFailed"
CANCELED = EVENT_PREFIX + "ProvisioningCanceled"
REJECTED = EVENT_PREFIX + "ProvisioningRejected"

# The session host's orchestration clock runs this much faster than real time, so the
# 1 s polling waits of these tests last 0.2 s.
TIME_SCALE = 5.0
# The queue settings the retry and poison tests need (the repo's host.json has 1 min and 5).
VISIBILITY_TIMEOUT = "00:00:01"
MAX_DEQUEUE_COUNT = 3
LOG_TAIL_LINES = 60
TERMINAL = {"Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"}


def make_app_copy(destination: Path) -> Path:
    """The repo's app (function_app.py, shared/) unchanged, with host.json's queue retry sped up.

    Only `extensions.queues.visibilityTimeout` and `maxDequeueCount` differ from the repo's
    host.json, so that a failing message reaches the poison queue in seconds, not minutes.
    """
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "function_app.py", destination / "function_app.py")
    shutil.copytree(
        REPO_ROOT / "shared", destination / "shared", ignore=shutil.ignore_patterns("__pycache__")
    )
    host_json = json.loads((REPO_ROOT / "host.json").read_text())
    host_json["extensions"]["queues"]["visibilityTimeout"] = VISIBILITY_TIMEOUT
    host_json["extensions"]["queues"]["maxDequeueCount"] = MAX_DEQUEUE_COUNT
    (destination / "host.json").write_text(json.dumps(host_json, indent=2))
    return destination


WRITE_SCOPE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"


def write_settings(path: Path, stack: EmulatorStack) -> Path:
    """A local.settings.json whose Values point the app at this stack."""
    values = {
        **stack.settings(),
        "DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION,
        "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP,
        # As deployed: the app writes only where its ARM role is (tests/e2e/test_scopes.py).
        "WRITE_SCOPES": WRITE_SCOPE,
        "POLL_MIN_INTERVAL_SECONDS": "1",
        "POLL_DEFAULT_INTERVAL_SECONDS": "1",
        FUNCTION_KEY_SETTING: FUNCTION_KEY,
        MASTER_KEY_SETTING: MASTER_KEY,
        EVENTGRID_EXTENSION_KEY_SETTING: EVENTGRID_KEY,
        DURABLETASK_EXTENSION_KEY_SETTING: DURABLETASK_KEY,
        "FUNCTIONS_WORKER_RUNTIME": "python",
    }
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}, indent=2))
    return path


def devhost_process(
    *, app_dir: Path, settings: Path, state_dir: Path, log_path: Path, time_scale: float
) -> DevhostProcess:
    """`python -m devhost` for the app copy on a free port (not started)."""
    port = free_port()
    args = [
        "--app-dir",
        str(app_dir),
        "--settings",
        str(settings),
        "--state-dir",
        str(state_dir),
        "--time-scale",
        str(time_scale),
    ]
    return DevhostProcess(args, port=port, log_path=log_path, master_key=MASTER_KEY)


def start_host(host: DevhostProcess, settings: Path) -> None:
    """Start `host`, refusing first if this process's environment would override its settings.

    The child inherits the environment and real environment variables win over the settings
    file, so an in-process host of another suite (which sets os.environ while it runs) would
    silently point this one at other emulators.
    """
    names = json.loads(settings.read_text())["Values"].keys()
    overridden = sorted(set(names) & set(os.environ))
    assert not overridden, (
        f"these environment variables would override the e2e settings: {overridden}"
    )
    host.start()


# Hosts whose log tail is added to a failing test's report (see conftest.py).
ACTIVE_HOSTS: list[DevhostProcess] = []


def log_tail(host: DevhostProcess, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines the host wrote."""
    return "\n".join(host.log().splitlines()[-lines:])


@dataclass
class Stack:
    """The emulators, Azurite and the host process, with the calls tests make on them."""

    emulators: EmulatorStack
    host: DevhostProcess
    queues: dict[str, QueueClient] = field(default_factory=dict)

    # Waiting, with the host's log in every timeout.

    def wait(self, condition: Callable[[], T | None], *, what: str, timeout: float = 20.0) -> T:
        """`wait_until` whose failure carries the tail of the host log; the truthy result."""
        try:
            result = wait_until(condition, timeout=timeout, what=what)
        except (TimeoutError, AssertionError) as timeout_error:
            raise AssertionError(
                f"{timeout_error}\n--- devhost log (tail) ---\n{log_tail(self.host)}"
            ) from None
        assert result is not None
        return result

    def explain(self, message: str) -> str:
        """`message` followed by the tail of the host log, for assertion messages."""
        return f"{message}\n--- devhost log (tail) ---\n{log_tail(self.host)}"

    # The app's HTTP API.

    @property
    def url(self) -> str:
        return self.host.url

    def post_interaction(self, body: Any, *, key: str | None = FUNCTION_KEY) -> requests.Response:
        headers = {"x-functions-key": key} if key is not None else {}
        return requests.post(f"{self.url}/api/interactions", json=body, headers=headers, timeout=10)

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST the envelope and return the accepted operation view."""
        response = self.post_interaction(body)
        assert response.status_code == 202, self.explain(f"{response.status_code} {response.text}")
        accepted: dict[str, Any] = response.json()
        return accepted

    def get_operation(self, operation_id: str) -> requests.Response:
        return requests.get(
            f"{self.url}/api/operations/{operation_id}",
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=10,
        )

    def cancel(self, operation_id: str) -> requests.Response:
        return requests.delete(
            f"{self.url}/api/operations/{operation_id}",
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=10,
        )

    def view(self, operation_id: str) -> dict[str, Any] | None:
        """The operation's status body, or None while there is no such operation."""
        response = self.get_operation(operation_id)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, self.explain(f"{response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body

    def wait_for_end(self, operation_id: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the operation has ended and its completion event arrived; its final view.

        The status shows the outcome as soon as it is known, a moment before the event is
        delivered, so both are waited for.
        """

        def ended() -> dict[str, Any] | None:
            view = self.view(operation_id)
            done = view is not None and view["status"] in TERMINAL
            return view if done and self.events_for(operation_id) else None

        return self.wait(ended, what=f"operation {operation_id} to end", timeout=timeout)

    # Queues in Azurite.

    def queue(self, name: str) -> QueueClient:
        """A client for `name`, encoding and decoding base64 as the Functions convention does."""
        if name not in self.queues:
            assert self.emulators.azurite is not None
            self.queues[name] = QueueClient.from_connection_string(
                self.emulators.azurite.connection_string,
                name,
                message_encode_policy=TextBase64EncodePolicy(),
                message_decode_policy=TextBase64DecodePolicy(),
            )
        return self.queues[name]

    def send(self, text: str) -> str:
        """Put `text` on the request queue, base64-encoded; the message id."""
        return str(self.queue(REQUEST_QUEUE).send_message(text).id)

    def dead_letter(self, message_id: str) -> dict[str, Any]:
        """The dead-letter record of queue message `message_id`, once it is there."""

        def found() -> dict[str, Any] | None:
            records = [json.loads(text) for text in self.peek(REJECTED_QUEUE)]
            return next((r for r in records if r.get("messageId") == message_id), None)

        return self.wait(found, what=f"message {message_id} on {REJECTED_QUEUE}")

    def peek(self, name: str) -> list[str]:
        """The decoded text of every message visible on queue `name` (none if it is missing)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return [str(m.content) for m in self.queue(name).peek_messages(max_messages=32)]
        except ResourceNotFoundError:
            return []

    def queue_length(self, name: str) -> int:
        """Messages on `name`, visible or not (Azurite's approximate count is exact)."""
        count = self.queue(name).get_queue_properties().approximate_message_count
        return int(count or 0)

    # The ARM emulator.

    def scenario(self, hub: str, **knobs: Any) -> None:
        answer = requests.put(
            f"{self.emulators.arm.url}/_emulator/hubs/{hub}/scenario", json=knobs, timeout=5
        )
        assert answer.status_code == 200, answer.text

    def arm_journal(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.emulators.arm.url}/_emulator/requests", timeout=5)
        entries: list[dict[str, Any]] = answer.json()["requests"]
        return entries

    def arm_requests(self, hub: str) -> list[dict[str, Any]]:
        """Every request ARM received for operations on `hub` (see `requests_for_hub`)."""
        return requests_for_hub(self.arm_journal(), hub)

    def arm_puts(self, hub: str) -> list[dict[str, Any]]:
        return [e for e in self.arm_requests(hub) if e["method"] == "PUT"]

    def all_puts(self) -> list[dict[str, Any]]:
        return [e for e in self.arm_journal() if e["method"] == "PUT"]

    def mentions_hub(self, hub: str) -> list[dict[str, Any]]:
        """Journal entries whose path names `hub`."""
        return [e for e in self.arm_journal() if f"/hubs/{hub.lower()}/" in e["path"].lower()]

    # The Event Grid emulator.

    def events(self, **query: str) -> list[dict[str, Any]]:
        answer = requests.get(
            f"{self.emulators.eventgrid.url}/_emulator/events", params=query, timeout=5
        )
        events: list[dict[str, Any]] = answer.json()["events"]
        return events

    def rejection_event(self, message_id: str, text: str) -> dict[str, Any]:
        """The one Rejected event for queue message `message_id` with content `text`."""
        event_id = rejection_event_id("queue", message_id, text)

        def found() -> list[dict[str, Any]]:
            return [e for e in self.events(eventType=REJECTED) if e["id"] == event_id]

        (event,) = self.wait(found, what=f"the rejection event of {message_id}")
        return event

    def events_for(self, operation_id: str) -> list[dict[str, Any]]:
        """Events the app published about `operation_id`."""
        return [
            e
            for e in self.events()
            if isinstance(e.get("data"), dict) and e["data"].get("operationId") == operation_id
        ]

    def publish_intake(self, data: Any, *, event_id: str) -> None:
        """Publish a ProvisioningRequested event carrying `data` to the topic."""
        event = {
            "id": event_id,
            "subject": "intake/e2e",
            "eventType": REQUESTED,
            "eventTime": datetime.now(UTC).isoformat(),
            "dataVersion": "1.0",
            "data": data,
        }
        answer = requests.post(
            self.emulators.eventgrid.topic_endpoint,
            json=[event],
            headers={"Authorization": f"Bearer {self._publisher_token()}"},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text

    def _publisher_token(self) -> str:
        # The stack's topic takes tokens only (local auth disabled); a publisher's token comes
        # from the same signer the identity emulator uses.
        return self.emulators.signer.issue("https://eventgrid.azure.net").token

    def deliveries(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.emulators.eventgrid.url}/_emulator/deliveries", timeout=5)
        body = answer.json()
        items: list[dict[str, Any]] = body["deliveries"] if isinstance(body, dict) else body
        return items

    def subscribe(self, body: dict[str, Any]) -> requests.Response:
        return requests.post(
            f"{self.emulators.eventgrid.url}/_emulator/subscriptions", json=body, timeout=15
        )

    def webhook_url(self, *, key: str | None = EVENTGRID_KEY) -> str:
        """The Event Grid trigger's webhook with `key` (the eventgrid_extension key) as code."""
        url = f"{self.url}/runtime/webhooks/eventgrid?functionName={EVENTGRID_INTAKE}"
        return url if key is None else f"{url}&code={key}"


def requests_for_hub(entries: list[dict[str, Any]], hub: str) -> list[dict[str, Any]]:
    """The journal `entries` of operations on `hub`, grouped by the correlation id of their
    PUTs (operation-status URLs do not name the hub)."""
    ours = {
        _correlation(e)
        for e in entries
        if e["method"] == "PUT" and f"/hubs/{hub.lower()}/" in e["path"].lower()
    }
    return [e for e in entries if _correlation(e) in ours]


def _correlation(entry: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    value = headers.get("x-ms-correlation-request-id")
    return str(value) if value is not None else None


def host_log_lines(host: DevhostProcess, needle: str) -> list[str]:
    """The host log lines containing `needle`."""
    return [line for line in host.log().splitlines() if needle in line]


# Counting what faults cost (tests/e2e/test_faults.py, benchmarks/faults.py).


@dataclass(frozen=True)
class Tally:
    """What the topic received for a set of operations."""

    operations: int
    lost_operations: int
    lost_events: int
    duplicates_same_id: int
    duplicates_other_id: int


def submit_many(stack: Stack, prefix: str, count: int, *, polls: int = 4) -> list[str]:
    """Start `count` operations, one hub each, that need `polls` status reads to finish."""
    ids = []
    for index in range(count):
        hub = f"{prefix}{index}"
        stack.scenario(hub, mode="location", pollsUntilDone=polls, retryAfter=1)
        ids.append(stack.submit(envelope(hub))["operationId"])
    return ids


def settle(stack: Stack, operation_ids: list[str], *, timeout: float) -> Tally:
    """Wait until every operation has ended and announced it (or `timeout`), then count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_ended(stack, op) and stack.events_for(op) for op in operation_ids):
            break
        time.sleep(0.5)
    lost_operations = sum(1 for op in operation_ids if not _ended(stack, op))
    events = {op: stack.events_for(op) for op in operation_ids}
    return Tally(
        operations=len(operation_ids),
        lost_operations=lost_operations,
        lost_events=sum(1 for found in events.values() if not found),
        duplicates_same_id=sum(
            len(found) - 1 for found in events.values() if len({e["id"] for e in found}) == 1
        ),
        duplicates_other_id=sum(
            1 for found in events.values() if len({e["id"] for e in found}) > 1
        ),
    )


def status_reads(entries: list[dict[str, Any]]) -> int:
    """The GETs among ARM journal `entries`: status reads of an operation or its resource."""
    return sum(1 for entry in entries if entry["method"] == "GET")


def all_polled(stack: Stack, hubs: list[str]) -> bool:
    """Whether ARM has had a status read for the operation on each of `hubs`."""
    journal = stack.arm_journal()
    return all(status_reads(requests_for_hub(journal, hub)) for hub in hubs)


def _ended(stack: Stack, operation_id: str) -> bool:
    view = stack.view(operation_id)
    return view is not None and view["status"] in TERMINAL


def assert_nothing_lost(stack: Stack, tally: Tally) -> None:
    """0 lost operations, 0 lost events, every duplicate with its operation's one id."""
    message = stack.explain(f"after the faults: {tally}")
    assert tally.lost_operations == 0, message
    assert tally.lost_events == 0, message
    assert tally.duplicates_other_id == 0, message
