"""`--follow`: poll the operation until it ends, then show the completion event it published."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from shared.names import ROUTE_PREFIX
from shared.operation import OperationStatus
from tools.console import EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT, Progress, ToolError, problem_lines
from tools.intakes import Sent, app_request, operation_view
from tools.local_topic import LocalTopic
from tools.request_file import Submission

# Locally the app answers Retry-After in whole seconds; a quicker look keeps the demo snappy.
LOCAL_POLL_INTERVAL_SECONDS = 0.5
DEFAULT_POLL_INTERVAL_SECONDS = 1.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

T = TypeVar("T")


class _TimedOut(Exception):  # noqa: N818 - an outcome, not a fault
    """--timeout passed; the message is what was last seen."""


@dataclass
class Follower:
    """Polls one operation of the app at `url` for one submission."""

    url: str
    key: str | None
    submission: Submission
    sent: Sent
    local: LocalTopic | None
    sent_at: datetime
    deadline: float
    progress: Progress

    def run(self) -> int:
        """Follow to the end; the exit code says how it ended (0 only for Succeeded)."""
        try:
            view, already_ended = self._wait_for_end()
        except _TimedOut as timeout:
            self.progress.done()
            print(f"error: timed out; last seen: {timeout}", file=sys.stderr)
            return EXIT_TIMEOUT
        finally:
            self.progress.done()
        print(describe_end(view))
        if already_ended:
            print(
                "This request repeats one whose operation had already ended (same requestId, "
                "Idempotency-Key or message): the app sends no new completion event."
            )
        event = self._completion_event(view, wait=not already_ended)
        if event is not None:
            when = " (sent when it ended)" if already_ended else ""
            print(f"Completion event{when}:\n{json.dumps(event, indent=2)}")
        elif self.local is not None and not already_ended:
            print(
                f"error: no completion event for {view['operationId']} reached the local topic",
                file=sys.stderr,
            )
            return EXIT_TIMEOUT
        return EXIT_OK if view["status"] == OperationStatus.SUCCEEDED else EXIT_FAILED

    def final_view(self) -> dict[str, Any]:
        """Wait quietly for the end (batch mode); a timeout is a ToolError."""
        try:
            view, _ = self._wait_for_end()
        except _TimedOut as timeout:
            raise ToolError(f"timed out; last seen: {timeout}") from None
        finally:
            self.progress.done()
        return view

    def _wait_for_end(self) -> tuple[dict[str, Any], bool]:
        """The operation's final view and whether it had ended before this request came."""
        started = time.monotonic()
        status_url = f"{self.url}/{ROUTE_PREFIX}/operations/{self.sent.operation_id}"
        sent_view = self.sent.view or {}
        tracked = sent_view.get("correlationId")
        already_ended = _is_terminal(sent_view)
        checks = 0
        while True:
            checks += 1
            # Asked before reading the view: once the app is done with the request, any
            # operation the request started is in the view read next.
            taken = tracked is None and bool(_quietly(self.sent.taken))
            view, wait, trouble = self._read(status_url)
            if view is not None and tracked is None:
                ours = view.get("requestId") == self.submission.request_id
                if ours or taken:
                    # Without our request id on it, this is the operation the app attached our
                    # request to; either way it may have ended before the request came.
                    tracked = view["correlationId"]
                    already_ended = _is_terminal(view) and (
                        not ours or datetime.fromisoformat(view["submittedAt"]) < self.sent_at
                    )
            if view is not None and view.get("correlationId") == tracked:
                if _is_terminal(view):
                    return view, already_ended
                text = running_line(view)
                key: object = (view["status"], view.get("provisioningState"), view.get("polls"))
            else:
                text = key = trouble or waiting_line(view, self.sent.operation_id)
            elapsed = time.monotonic() - started
            self.progress.show(f"{text}  [{checks} checks, {elapsed:.0f} s]", key=key)
            self._raise_if_rejected()
            if self._timed_out():
                raise _TimedOut(text)
            time.sleep(max(0.0, min(wait, self.deadline - time.monotonic())))

    def _read(self, status_url: str) -> tuple[dict[str, Any] | None, float, str | None]:
        """The operation's view (None while there is none), the wait until the next read, and
        what went wrong if the app did not answer with a view or a 404."""
        wait = LOCAL_POLL_INTERVAL_SECONDS if self._is_local else DEFAULT_POLL_INTERVAL_SECONDS
        try:
            response = app_request("GET", status_url, key=self.key)
        except ToolError as error:
            if error.exit_code != EXIT_FAILED:
                raise
            # The app may be restarting; durable operations survive that, so keep looking.
            return None, wait, f"The app does not answer ({error}); trying again"
        wait = min(_retry_after(response), wait) if self._is_local else _retry_after(response)
        if response.status_code == 200:
            return operation_view(response), wait, None
        if response.status_code == 404:
            return None, wait, None
        return None, wait, f"The app answered {response.status_code}; trying again"

    @property
    def _is_local(self) -> bool:
        return urlsplit(self.url).hostname in _LOOPBACK

    def _raise_if_rejected(self) -> None:
        local = self.local
        if local is None or self.sent.view is not None:
            return
        event = _quietly(lambda: local.rejection_event(self.submission.request_id))
        if event is not None:
            problems = event.get("data", {}).get("problems") or []
            raise ToolError(
                "the app rejected the request:\n"
                + problem_lines((p.get("path", "$"), p.get("message", "")) for p in problems)
            )

    def _completion_event(self, view: dict[str, Any], *, wait: bool) -> dict[str, Any] | None:
        if self.local is None:
            return None
        local = self.local
        while True:
            event = _quietly(
                lambda: local.completion_event(view["operationId"], view["correlationId"])
            )
            if event is not None or not wait or self._timed_out():
                return event
            time.sleep(LOCAL_POLL_INTERVAL_SECONDS)

    def _timed_out(self) -> bool:
        return time.monotonic() >= self.deadline


def running_line(view: dict[str, Any]) -> str:
    """Status, provisioning state, ARM polls so far and when the next is due."""
    state = view.get("provisioningState") or "-"
    next_poll = "-"
    if view.get("nextPollAt"):
        seconds = (datetime.fromisoformat(view["nextPollAt"]) - datetime.now(UTC)).total_seconds()
        next_poll = f"in {seconds:.1f} s" if seconds > 0 else "due"
    return (
        f"{view['status']}: provisioningState {state}, {view.get('polls', 0)} ARM polls, "
        f"next poll {next_poll}"
    )


def waiting_line(view: dict[str, Any] | None, operation_id: str) -> str:
    """What the follower waits for while the app has not taken the request yet."""
    if view is None:
        return f"Waiting for the app to start operation {operation_id}"
    if _is_terminal(view):
        return (
            f"Waiting for the app to take the request "
            f"(operation {operation_id} last ended {view['status']})"
        )
    return f"Waiting: operation {operation_id} is {view['status']} for an earlier request"


def describe_end(view: dict[str, Any]) -> str:
    """One line saying how the operation ended, and the error if it failed."""
    target = view["target"]
    subject = f"hubs/{target['hub']}/interactions/{target['interactionName']}"
    parts = [f"{view['status']}: {subject}", f"operation {view['operationId']}"]
    if view.get("provisioningState"):
        parts.append(f"provisioningState {view['provisioningState']}")
    if view.get("change"):
        parts.append(f"change {view['change']}")
    parts.append(f"{view.get('polls', 0)} ARM polls")
    if view.get("completedAt") and view.get("submittedAt"):
        took = datetime.fromisoformat(view["completedAt"]) - datetime.fromisoformat(
            view["submittedAt"]
        )
        parts.append(f"{took.total_seconds():.1f} s")
    line = ", ".join(parts)
    error = view.get("error")
    if isinstance(error, dict):
        line += f"\n  {error.get('code')}: {error.get('message')}"
    return line


def _is_terminal(view: dict[str, Any]) -> bool:
    status = view.get("status")
    return status is not None and OperationStatus(status).is_terminal


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return DEFAULT_POLL_INTERVAL_SECONDS


def _quietly[T](read: Callable[[], T]) -> T | None:
    """`read()`, or None when the local topic does not answer for a moment."""
    try:
        return read()
    except (requests.RequestException, ValueError):
        return None
