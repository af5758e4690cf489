"""Scripted faults on the ARM emulator: error bursts, throttling answers, stalls and drops."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulators.conftest import TIMEOUT, ArmTarget


class TestErrorBursts:
    @pytest.mark.parametrize(
        ("status", "code"),
        [
            pytest.param(500, "InternalServerError", id="500"),
            pytest.param(503, "ServiceUnavailable", id="503"),
        ],
    )
    def test_burst_of_server_errors_then_success(
        self, arm: ArmTarget, status: int, code: str
    ) -> None:
        """The next `count` requests fail with ARM's envelope; the one after succeeds."""
        arm.control("POST", "/_emulator/faults", {"status": status, "count": 2})
        answers = [arm.put() for _ in range(3)]
        assert [a.status_code for a in answers] == [status, status, 202]
        assert answers[0].json()["error"]["code"] == code
        assert answers[0].headers["x-ms-request-id"]

    def test_injected_429_carries_retry_after(self, arm: ArmTarget) -> None:
        """A scripted 429 is TooManyRequests with the scripted Retry-After."""
        arm.control("POST", "/_emulator/faults", {"status": 429, "retryAfter": "2"})
        response = arm.put()
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "TooManyRequests"
        assert response.headers["Retry-After"] == "2"

    def test_scripted_code_and_message_replace_the_defaults(self, arm: ArmTarget) -> None:
        """A fault can answer as ARM refuses a caller without rights, in ARM's envelope."""
        message = "The client does not have authorization to perform action 'write'."
        arm.control(
            "POST",
            "/_emulator/faults",
            {"status": 403, "code": "AuthorizationFailed", "message": message},
        )
        response = arm.put()
        assert response.status_code == 403
        assert response.json() == {"error": {"code": "AuthorizationFailed", "message": message}}
        assert response.headers["x-ms-request-id"]

    def test_faults_are_not_applied_to_the_resource(self, arm: ArmTarget) -> None:
        """A faulted PUT stores nothing."""
        arm.control("POST", "/_emulator/faults", {"status": 500})
        arm.put()
        assert arm.get(arm.interaction_url()).status_code == 404

    def test_fault_limited_to_a_method(self, arm: ArmTarget) -> None:
        """A GET-only fault lets PUTs through and hits the next GET (here an operation poll)."""
        arm.control("POST", "/_emulator/faults", {"status": 503, "methods": ["GET"]})
        location = arm.put().headers["Location"]
        assert [arm.get(location).status_code for _ in range(2)] == [503, 202]

    def test_fault_limited_to_a_hub_covers_its_operation_urls(self, arm: ArmTarget) -> None:
        """A hub's fault skips other hubs and applies to that hub's operation polls."""
        location = arm.put(hub="TargetHub").headers["Location"]
        arm.control("POST", "/_emulator/faults", {"status": 500, "hub": "targethub"})
        assert arm.put(hub="OtherHub").status_code == 202
        assert arm.get(location).status_code == 500
        assert arm.get(location).status_code == 202


class TestNetworkFaults:
    def test_dropped_connection_raises_connection_error(self, arm: ArmTarget) -> None:
        """With drop, the client sees the connection close without an answer."""
        arm.control("POST", "/_emulator/faults", {"drop": True})
        with pytest.raises(requests.ConnectionError):
            arm.put()
        assert arm.put().status_code == 202
        assert [e["status"] for e in arm.journal()] == [None, 202]

    def test_delay_slows_the_answer(self, arm: ArmTarget) -> None:
        """delaySeconds stalls the response by at least that long, then answers normally."""
        arm.control("POST", "/_emulator/faults", {"delaySeconds": 0.3})
        started = time.monotonic()
        response = arm.put()
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 202

    def test_reset_clears_pending_faults(self, arm: ArmTarget) -> None:
        """After reset no scripted fault remains."""
        arm.control("POST", "/_emulator/faults", {"status": 500, "count": 5})
        requests.post(arm.base + "/_emulator/reset", timeout=TIMEOUT).raise_for_status()
        assert arm.put().status_code == 202
