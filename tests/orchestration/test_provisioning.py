"""The provisioning orchestration end to end in virtual time, against the ARM emulator."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.examples import envelope, operation_id_of
from tests.orchestration.conftest import POLLS_PER_GENERATION
from tests.orchestration.harness import AppUnderTest


def puts(requests_seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests_seen if r["method"] == "PUT"]


def provision(app: AppUnderTest, hub: str, **scenario: Any) -> tuple[str, dict[str, Any]]:
    """Submit the example to `hub` under `scenario` and run it to the end."""
    if scenario:
        app.scenario(hub, **scenario)
    accepted = app.submit(envelope(hub))
    app.run()
    return accepted["operationId"], app.view(accepted["operationId"])


class TestLongRunningModes:
    @pytest.mark.parametrize(
        ("mode", "hub"),
        [
            ("location", "LocationHub"),
            ("async-operation", "AsyncOpHub"),
            ("provisioning-state", "ProvStateHub"),
            ("sync", "SyncHub"),
        ],
    )
    def test_each_mode_ends_succeeded_with_one_event(
        self, app: AppUnderTest, mode: str, hub: str
    ) -> None:
        """Every ARM long-running style is followed to Succeeded and announced exactly once."""
        operation_id, view = provision(app, hub, mode=mode, pollsUntilDone=2)
        assert view["status"] == "Succeeded"
        assert view["provisioningState"] == "Succeeded"
        events = app.events_for(operation_id)
        assert [e["eventType"] for e in events] == [
            "CustomerInsights.InteractionType.ProvisioningSucceeded"
        ]
        assert len(puts(app.arm_requests(hub))) == 1

    def test_location_mode_polls_the_location_then_reads_nothing_else(
        self, app: AppUnderTest
    ) -> None:
        """202 + Location: the read, one PUT, then GETs of the operation-results URL only."""
        _, view = provision(app, "LocOnly", mode="location", pollsUntilDone=2)
        seen = app.arm_requests("LocOnly")
        read, put, *polls = seen
        assert (read["method"], read["status"]) == ("GET", 404)
        assert read["path"].lower().endswith("/interactions/webvisit")
        assert put["method"] == "PUT"
        assert polls
        assert all(r["method"] == "GET" and "operationResults" in r["path"] for r in polls)
        assert view["polls"] == len(polls)

    def test_async_operation_reads_the_resource_after_success(self, app: AppUnderTest) -> None:
        """Azure-AsyncOperation Succeeded is followed by one GET of the resource for its state."""
        provision(app, "AsyncFinal", mode="async-operation", pollsUntilDone=1)
        paths = [r["path"] for r in app.arm_requests("AsyncFinal") if r["method"] == "GET"]
        assert any("operationStatuses" in p for p in paths)
        assert paths[-1].lower().endswith("/interactions/webvisit")

    def test_the_put_carries_the_wrapped_definition_and_arm_headers(
        self, app: AppUnderTest
    ) -> None:
        """ARM receives the swagger's wrapped body, JSON content type and tracing headers."""
        provision(app, "HeadersHub", mode="sync")
        (put,) = puts(app.arm_requests("HeadersHub"))
        headers = {k.lower(): v for k, v in put["headers"].items()}
        assert headers["content-type"].startswith("application/json")
        assert headers["x-ms-return-client-request-id"] == "true"
        assert headers["x-ms-client-request-id"]
        assert headers["x-ms-correlation-request-id"]
        assert headers["user-agent"].startswith("ci-interactions-provisioner/")
        assert "Bearer" not in json.dumps(put["headers"]).replace("Bearer <redacted>", "")
        body = put["body"] if isinstance(put["body"], dict) else json.loads(put["body"])
        assert set(body) == {"properties"}
        assert body["properties"]["fields"][0]["fieldType"] == "Edm.String"

    def test_one_correlation_id_for_every_call_of_an_operation(self, app: AppUnderTest) -> None:
        """The PUT and all polls share x-ms-correlation-request-id; client request ids differ."""
        provision(app, "CorrHub", mode="location", pollsUntilDone=3)
        seen = app.arm_requests("CorrHub")
        correlation = {
            {k.lower(): v for k, v in r["headers"].items()}["x-ms-correlation-request-id"]
            for r in seen
        }
        client_ids = [
            {k.lower(): v for k, v in r["headers"].items()}["x-ms-client-request-id"] for r in seen
        ]
        assert len(correlation) == 1
        assert len(set(client_ids)) == len(seen)


class TestFailures:
    def test_failed_provisioning_carries_arms_error(self, app: AppUnderTest) -> None:
        """A Failed operation ends Failed, and the event carries ARM's error code and message."""
        operation_id, view = provision(
            app,
            "FailHub",
            mode="async-operation",
            pollsUntilDone=1,
            finalState="Failed",
            error={"code": "SchemaConflict", "message": "Field VisitId clashes."},
        )
        assert view["status"] == "Failed"
        assert view["error"]["code"] == "SchemaConflict"
        (event,) = app.events_for(operation_id)
        assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningFailed"
        assert event["data"]["error"]["message"] == "Field VisitId clashes."

    def test_huge_arm_error_still_ends_failed_with_its_event(self, app: AppUnderTest) -> None:
        """An ARM error far over the 16 KB custom status cap is cut to fit: the operation
        ends Failed with one event instead of failing its orchestration."""
        huge = "Field VisitId clashes with \u00fc\U0001d11e. " * 4_000  # about 140 KB
        operation_id, view = provision(
            app,
            "HugeErrorHub",
            mode="location",
            pollsUntilDone=1,
            finalState="Failed",
            error={"code": "SchemaConflict", "message": huge},
        )
        assert view["status"] == "Failed"
        assert view["error"]["code"] == "SchemaConflict"
        assert view["error"]["message"].startswith("Field VisitId clashes")
        status = app.instance(operation_id)
        assert status["runtimeStatus"] == "Completed"
        custom = json.dumps(status["customStatus"], ensure_ascii=False)
        assert len(custom.encode("utf-16-le")) < 8 * 1024  # half the Durable cap
        (event,) = app.events_for(operation_id)
        assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningFailed"

    def test_location_mode_failure_ends_failed(self, app: AppUnderTest) -> None:
        """A failure reported on the Location URL ends the operation as Failed."""
        _, view = provision(app, "LocFail", mode="location", pollsUntilDone=1, finalState="Failed")
        assert view["status"] == "Failed"
        assert view["error"]["code"]

    def test_human_intervention_stops_as_a_failure_that_says_so(self, app: AppUnderTest) -> None:
        """HumanIntervention is not polled until the deadline: it fails at once, explained."""
        operation_id, view = provision(
            app,
            "HumanHub",
            mode="provisioning-state",
            pollsUntilDone=1,
            finalState="HumanIntervention",
        )
        assert view["status"] == "Failed"
        assert view["error"]["code"] == "HumanInterventionRequired"
        assert view["polls"] <= 2
        assert len(app.events_for(operation_id)) == 1

    def test_foreign_location_host_is_never_called(self, app: AppUnderTest) -> None:
        """A Location on another host fails the operation before any request goes there."""
        operation_id, view = provision(
            app, "EvilHub", mode="location", locationHost="http://evil.example:8443"
        )
        assert view["status"] == "Failed"
        assert view["error"]["code"] == "UntrustedPollUrl"
        assert "evil.example" in view["error"]["message"]
        assert [r["method"] for r in app.arm_requests("EvilHub")] == ["GET", "PUT"]
        assert len(app.events_for(operation_id)) == 1

    def test_deadline_ends_the_operation_timed_out(self, app: AppUnderTest) -> None:
        """An operation ARM never finishes ends TimedOut at the 2-hour default deadline."""
        start = app.now()
        operation_id, view = provision(
            app, "SlowHub", mode="location", pollsUntilDone=100_000, retryAfter=600
        )
        assert view["status"] == "TimedOut"
        assert view["error"]["code"] == "DeadlineExceeded"
        elapsed = app.now() - start
        assert timedelta(hours=2) <= elapsed < timedelta(hours=2, minutes=11)
        (event,) = app.events_for(operation_id)
        assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningTimedOut"

    def test_short_throttling_is_ridden_out(self, app: AppUnderTest) -> None:
        """A few 429s with Retry-After are retried and the operation still succeeds."""
        app.scenario("ThrottleHub", mode="location", pollsUntilDone=2)
        app.arm_fault(hub="ThrottleHub", status=429, count=3, retryAfter="30")
        accepted = app.submit(envelope("ThrottleHub"))
        app.run()
        view = app.view(accepted["operationId"])
        assert view["status"] == "Succeeded"
        statuses = [r["status"] for r in app.arm_requests("ThrottleHub")]
        assert statuses.count(429) == 3

    def test_throttling_storm_fails_after_a_bounded_number_of_retries(
        self, app: AppUnderTest
    ) -> None:
        """A 429 storm is not retried forever: the operation fails with ARM's throttling error."""
        app.scenario("StormHub", mode="location")
        app.arm_fault(hub="StormHub", status=429, count=1000, retryAfter="5")
        accepted = app.submit(envelope("StormHub"))
        app.run()
        view = app.view(accepted["operationId"])
        assert view["status"] == "Failed"
        attempts = app.arm_requests("StormHub")
        assert 2 <= len(attempts) <= 10
        assert len(app.events_for(accepted["operationId"])) == 1

    def test_server_errors_then_success(self, app: AppUnderTest) -> None:
        """A burst of 503s on the PUT is retried with backoff and the PUT is sent again."""
        app.scenario("FlakyHub", mode="sync")
        app.arm_fault(hub="FlakyHub", status=503, count=2, methods=["PUT"])
        _operation_id, view = provision(app, "FlakyHub")
        assert view["status"] == "Succeeded"
        assert [r["status"] for r in puts(app.arm_requests("FlakyHub"))] == [503, 503, 200]


class TestDurability:
    def test_continue_as_new_keeps_polling_across_generations(self, app: AppUnderTest) -> None:
        """Long polling continues as new every few polls and still ends with one event."""
        operation_id, view = provision(app, "LongHub", mode="location", pollsUntilDone=8)
        assert view["status"] == "Succeeded"
        assert view["polls"] == 8
        raw_input = app.instance(operation_id)["input"]
        latest = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        assert latest["generation"] == (8 - 1) // POLLS_PER_GENERATION
        assert len(app.events_for(operation_id)) == 1

    def test_event_grid_outage_delays_the_event_but_never_loses_it(self, app: AppUnderTest) -> None:
        """Publishing is retried through an Event Grid outage; exactly one event arrives."""
        app.scenario("OutageHub", mode="sync")
        app.eventgrid_fault(status=503, count=3)
        operation_id, view = provision(app, "OutageHub")
        assert view["status"] == "Succeeded"
        assert len(app.events_for(operation_id)) == 1

    def test_cancel_stops_polling_and_announces_canceled(self, app: AppUnderTest) -> None:
        """DELETE on a running operation ends it Canceled with its completion event."""
        app.scenario("CancelHub", mode="location", pollsUntilDone=100_000, retryAfter=60)
        accepted = app.submit(envelope("CancelHub"))
        operation_id = accepted["operationId"]
        app.run(until=timedelta(minutes=3))
        assert app.view(operation_id)["status"] == "Running"
        response = app.http("DELETE", f"operations/{operation_id}")
        assert response.status_code == 202
        app.run()
        view = app.view(operation_id)
        assert view["status"] == "Canceled"
        (event,) = app.events_for(operation_id)
        assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningCanceled"
        again = app.http("DELETE", f"operations/{operation_id}")
        assert again.status_code == 409


class TestIdempotency:
    def test_duplicate_submission_returns_the_running_operation(self, app: AppUnderTest) -> None:
        """The same definition twice while running: same operation, one PUT, one event."""
        app.scenario("DupHub", mode="location", pollsUntilDone=2)
        first = app.submit(envelope("DupHub"))
        second = app.http("POST", "interactions", envelope("DupHub"))
        assert second.status_code == 202
        assert json.loads(second.get_body())["operationId"] == first["operationId"]
        app.run()
        assert len(puts(app.arm_requests("DupHub"))) == 1
        assert len(app.events_for(first["operationId"])) == 1

    def test_resubmitting_a_succeeded_definition_does_not_put_again(
        self, app: AppUnderTest
    ) -> None:
        """After success the same definition starts a new operation that converges: no PUT."""
        operation_id, _ = provision(app, "DoneHub", mode="sync")
        again = app.http("POST", "interactions", envelope("DoneHub"))
        assert again.status_code == 202
        app.run()
        assert app.view(operation_id)["change"] == "none"
        assert len(puts(app.arm_requests("DoneHub"))) == 1
        assert [e["data"]["change"] for e in app.events_for(operation_id)] == ["created", "none"]

    def test_different_definition_while_running_is_a_conflict(self, app: AppUnderTest) -> None:
        """Another definition for a running resource gets 409 with the running operation's URL."""
        app.scenario("ConflictHub", mode="location", pollsUntilDone=2)
        first = app.submit(envelope("ConflictHub"))
        other = envelope("ConflictHub", apiEntitySetName="SomethingElse")
        response = app.http("POST", "interactions", other)
        assert response.status_code == 409
        problem = json.loads(response.get_body())
        assert response.headers["Location"].endswith(f"/api/operations/{first['operationId']}")
        assert problem["status"] == 409
        app.run()
        assert len(puts(app.arm_requests("ConflictHub"))) == 1

    def test_request_id_reused_for_another_definition_is_refused(self, app: AppUnderTest) -> None:
        """Reusing an idempotency key for a changed definition gets 409, and no second PUT."""
        app.scenario("ReuseHub", mode="sync")
        app.submit(envelope("ReuseHub", request_id="key-1"))
        app.run()
        changed = envelope("ReuseHub", request_id="key-1", isActivity=True)
        response = app.http("POST", "interactions", changed)
        assert response.status_code == 409
        (problem,) = json.loads(response.get_body())["errors"]
        assert problem["path"] == "$.requestId"
        assert problem["code"] == "request_id_reused"
        assert len(puts(app.arm_requests("ReuseHub"))) == 1

    def test_names_differing_in_case_are_one_operation(self, app: AppUnderTest) -> None:
        """ARM names are case-insensitive, so are operation ids."""
        app.scenario("CaseHub", mode="location", pollsUntilDone=2)
        first = app.submit(envelope("CaseHub", "WebVisit"))
        second = app.submit(envelope("CaseHub".lower(), "WEBVISIT"))
        assert first["operationId"] == second["operationId"]
        app.run()


class TestStatusApi:
    def test_status_moves_from_accepted_to_running_to_succeeded(self, app: AppUnderTest) -> None:
        """The status endpoint reports progress while ARM works, with Retry-After."""
        app.scenario("StatusHub", mode="location", pollsUntilDone=3, retryAfter=20)
        accepted = app.submit(envelope("StatusHub"))
        assert accepted["status"] == "Accepted"
        operation_id = accepted["operationId"]
        app.run(until=timedelta(seconds=30))
        running = app.http("GET", f"operations/{operation_id}")
        body = json.loads(running.get_body())
        assert body["status"] == "Running"
        assert body["polls"] >= 1
        assert body["nextPollAt"]
        assert "Retry-After" in running.headers
        app.run()
        done = app.view(operation_id)
        assert done["status"] == "Succeeded"
        assert done["completedAt"]

    def test_unknown_operation_is_404_problem(self, app: AppUnderTest) -> None:
        """An unknown operation id answers 404 with problem+json."""
        response = app.http("GET", "operations/ci-doesnotexist")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


class TestIntakePaths:
    def test_put_route_accepts_the_wrapped_form(self, app: AppUnderTest) -> None:
        """PUT /api/hubs/{hub}/interactions/{name} with {"properties": ...} starts the operation."""
        app.scenario("RouteHub", mode="sync")
        wrapped = {"properties": envelope("RouteHub")["definition"]}
        response = app.put_route("RouteHub", "WebVisit", wrapped)
        assert response.status_code == 202
        assert response.headers["Location"].endswith(json.loads(response.get_body())["operationId"])
        app.run()
        assert len(puts(app.arm_requests("RouteHub"))) == 1

    def test_invalid_http_request_lists_every_problem_and_sends_nothing(
        self, app: AppUnderTest
    ) -> None:
        """A bad definition gets 400 problem+json with all problems; ARM sees nothing."""
        bad = envelope("BadHub")
        bad["target"]["interactionName"] = "has-hyphen"
        bad["target"]["subscriptionId"] = "not-a-guid"
        bad["definition"]["fields"][0]["fieldType"] = "Edm.Banana"
        response = app.http("POST", "interactions", bad)
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        problem = json.loads(response.get_body())
        paths = {e["path"] for e in problem["errors"]}
        assert paths == {
            "$.target.interactionName",
            "$.target.subscriptionId",
            "$.definition.fields[0].fieldType",
        }
        assert app.arm_requests("BadHub") == []

    def test_queue_message_starts_the_operation_and_a_duplicate_does_not(
        self, app: AppUnderTest
    ) -> None:
        """A queue message starts one operation; redelivery of the same message adds nothing."""
        app.scenario("QueueHub", mode="location", pollsUntilDone=1)
        text = json.dumps(envelope("QueueHub", request_id="q-1"))
        app.queue_message(text, message_id="m-1")
        app.queue_message(text, message_id="m-1", dequeue_count=2)
        app.run()
        operation_id = operation_id_of(envelope("QueueHub"))
        assert app.view(operation_id)["status"] == "Succeeded"
        assert len(puts(app.arm_requests("QueueHub"))) == 1
        assert len(app.events_for(operation_id)) == 1

    def test_conflicting_queue_message_is_left_for_redelivery(self, app: AppUnderTest) -> None:
        """A queue message that conflicts with a running operation fails, so the queue retries."""
        app.scenario("QConflict", mode="location", pollsUntilDone=3)
        app.submit(envelope("QConflict"))
        other = json.dumps(envelope("QConflict", apiEntitySetName="Other"))
        with pytest.raises(Exception, match="still"):
            app.queue_message(other, message_id="m-2")
        app.run()

    def test_invalid_queue_message_is_dead_lettered_with_a_rejected_event(
        self, app: AppUnderTest
    ) -> None:
        """An invalid message goes to interaction-requests-rejected and emits Rejected."""
        bad = envelope("RejectHub", request_id="bad-1")
        bad["definition"]["fields"] = []
        app.queue_message(json.dumps(bad), message_id="m-bad")
        events = app.events_with_subject("hubs/RejectHub/interactions/WebVisit")
        assert [e["eventType"] for e in events] == [
            "CustomerInsights.InteractionType.ProvisioningRejected"
        ]
        assert events[0]["data"]["requestId"] == "bad-1"
        assert app.arm_requests("RejectHub") == []
        (record,) = [r for r in app.rejected_messages() if r["messageId"] == "m-bad"]
        assert record["source"] == "queue"
        assert json.loads(record["message"])["requestId"] == "bad-1"
        assert record["reasons"][0]["path"].startswith("$.definition")

    def test_request_id_reused_on_the_queue_is_dead_lettered(self, app: AppUnderTest) -> None:
        """A reused requestId is the same IdentifierReused over HTTP (409) and the queue."""
        app.scenario("QReuseHub", mode="sync")
        app.queue_message(json.dumps(envelope("QReuseHub", request_id="key-q")), message_id="q-1")
        app.run()
        changed = envelope("QReuseHub", request_id="key-q", isActivity=True)
        app.queue_message(json.dumps(changed), message_id="q-2")
        (record,) = [r for r in app.rejected_messages() if r["messageId"] == "q-2"]
        (reason,) = record["reasons"]
        assert (reason["path"], reason["code"]) == ("$.requestId", "request_id_reused")
        assert len(puts(app.arm_requests("QReuseHub"))) == 1
        response = app.http("POST", "interactions", changed)
        assert response.status_code == 409
        (problem,) = json.loads(response.get_body())["errors"]
        assert problem["code"] == "request_id_reused"

    def test_body_over_256_kb_is_413(self, app: AppUnderTest) -> None:
        """An oversized body is refused before it is parsed."""
        response = app.http("POST", "interactions", raw=b" " * (256 * 1024 + 1))
        assert response.status_code == 413
        assert response.mimetype == "application/problem+json"

    def test_non_json_body_is_415(self, app: AppUnderTest) -> None:
        """A body declared as something other than JSON is refused."""
        response = app.http("POST", "interactions", raw=b"a=b", content_type="text/plain")
        assert response.status_code == 415
        assert json.loads(response.get_body())["status"] == 415

    def test_malformed_json_is_400_with_its_position(self, app: AppUnderTest) -> None:
        """Broken JSON is a 400 problem, not a 500."""
        response = app.http("POST", "interactions", raw=b'{"target": ')
        assert response.status_code == 400
        (problem,) = json.loads(response.get_body())["errors"]
        assert problem["code"] == "invalid_json"

    def test_cloudevent_starts_the_operation(self, app: AppUnderTest) -> None:
        """A CloudEvents 1.0 event whose data is the envelope starts the operation."""
        app.scenario("CloudHub", mode="sync")
        app.cloud_event(envelope("CloudHub"), event_id="ce-1")
        app.run()
        assert len(puts(app.arm_requests("CloudHub"))) == 1
        assert app.view(operation_id_of(envelope("CloudHub")))["status"] == "Succeeded"

    def test_event_grid_event_starts_the_operation(self, app: AppUnderTest) -> None:
        """An Event Grid event whose data is the envelope starts the operation."""
        app.scenario("EventHub", mode="sync")
        app.event(envelope("EventHub"), event_id="evt-1")
        app.run()
        assert len(puts(app.arm_requests("EventHub"))) == 1


class TestSecrets:
    JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")

    def test_tokens_never_reach_logs_status_or_events(
        self, app: AppUnderTest, caplog: pytest.LogCaptureFixture
    ) -> None:
        """No bearer token appears in the app's logs, the status body or the event."""
        caplog.set_level(logging.DEBUG)
        operation_id, view = provision(app, "SecretHub", mode="async-operation", pollsUntilDone=1)
        assert view["status"] == "Succeeded"
        seen = [
            caplog.text,
            json.dumps(view),
            json.dumps(app.events_for(operation_id)),
            json.dumps(app.instance(operation_id)),
        ]
        assert "arm" in caplog.text.lower()  # the ARM calls were logged at all
        for text in seen:
            assert not self.JWT.search(text)
            assert "Bearer " not in text


class TestActivityFailures:
    def test_endpoint_changed_mid_operation_fails_it_without_sending_the_token(
        self, app: AppUnderTest
    ) -> None:
        """If ARM_ENDPOINT changes while an operation runs, its polls are refused, not sent.

        The activities keep failing (their retries exhausted), and the operation still ends
        Failed with one completion event.
        """
        app.scenario("MovedHub", mode="location", pollsUntilDone=3, retryAfter=30)
        accepted = app.submit(envelope("MovedHub"))
        app.run(until=timedelta(seconds=10))
        endpoint = app.thread.host.environment["ARM_ENDPOINT"]
        app.apply_settings(ARM_ENDPOINT="https://management.azure.com")
        try:
            app.run()
        finally:
            app.apply_settings(ARM_ENDPOINT=endpoint)
        view = app.view(accepted["operationId"])
        assert view["status"] == "Failed"
        assert view["error"]["code"] == "OperationError"
        assert "refusing to call" in view["error"]["message"]
        assert [r["method"] for r in app.arm_requests("MovedHub")] == ["GET", "PUT"]
        assert len(app.events_for(accepted["operationId"])) == 1


class TestCancelRaces:
    # The SDK warns when an event arrives before its waiter is yielded; that is this test.
    @pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")
    def test_cancel_before_the_first_episode_sends_no_put(self, app: AppUnderTest) -> None:
        """A DELETE that lands before the orchestration first runs stops it before the PUT."""
        app.scenario("EarlyCancelHub", mode="location", pollsUntilDone=2)
        accepted = app.submit(envelope("EarlyCancelHub"))
        response = app.http("DELETE", f"operations/{accepted['operationId']}")
        assert response.status_code == 202
        app.run()
        view = app.view(accepted["operationId"])
        assert view["status"] == "Canceled"
        assert app.arm_requests("EarlyCancelHub") == []
        (event,) = app.events_for(accepted["operationId"])
        assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningCanceled"


class TestPublishing:
    def test_outcome_is_final_while_the_event_waits_for_event_grid(self, app: AppUnderTest) -> None:
        """During an Event Grid outage the status already shows the outcome and refuses cancel;
        the event arrives once Event Grid is back, exactly once."""
        app.scenario("WaitingHub", mode="sync")
        app.eventgrid_fault(status=503, count=7)
        accepted = app.submit(envelope("WaitingHub"))
        operation_id = accepted["operationId"]
        app.run(until=timedelta(seconds=30))
        view = app.view(operation_id)
        assert view["status"] == "Succeeded"
        assert view["completedAt"]
        assert app.events_for(operation_id) == []
        assert app.http("DELETE", f"operations/{operation_id}").status_code == 409
        app.run()
        assert len(app.events_for(operation_id)) == 1
        raw_input = app.instance(operation_id)["input"]
        latest = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        assert latest["publishRounds"] == 1
