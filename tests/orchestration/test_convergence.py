"""Read before write against the ARM emulator: created, updated, none, drift, and the cadence."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.examples import RESOURCE_GROUP, SUBSCRIPTION, envelope, operation_id_of
from tests.orchestration.harness import AppUnderTest


def journal(app: AppUnderTest, hub: str) -> list[dict[str, Any]]:
    """Every request ARM received on `hub`'s interaction URL, in order."""
    answer = requests.get(f"{app.stack.arm.url}/_emulator/requests", timeout=5)
    entries: list[dict[str, Any]] = answer.json()["requests"]
    return [e for e in entries if f"/hubs/{hub.lower()}/interactions/" in e["path"].lower()]


def methods(app: AppUnderTest, hub: str) -> list[str]:
    return [e["method"] for e in journal(app, hub)]


def run_to_end(app: AppUnderTest, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit, run to the end; the final view and this operation's completion event."""
    before = len(app.events_for(operation_id_of(body)))
    accepted = app.submit(body)
    app.run()
    events = app.events_for(accepted["operationId"])
    assert len(events) == before + 1
    return app.view(accepted["operationId"]), events[-1]["data"]


def interaction_url(app: AppUnderTest, hub: str) -> str:
    return (
        f"{app.stack.arm.url}/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
        f"/providers/Microsoft.CustomerInsights/hubs/{hub}/interactions/WebVisit"
        "?api-version=2017-04-26"
    )


class TestConverge:
    def test_created_then_none_then_updated(self, app: AppUnderTest) -> None:
        """404 leads to a PUT; the same definition again to none; a changed one to a PUT."""
        hub = "ConvergeHub"
        app.scenario(hub, mode="location", pollsUntilDone=1)

        view, data = run_to_end(app, envelope(hub))
        assert (view["status"], view["change"], data["change"]) == (
            "Succeeded",
            "created",
            "created",
        )
        assert methods(app, hub).count("PUT") == 1

        view, data = run_to_end(app, envelope(hub))
        assert (view["status"], view["change"], view["changes"]) == ("Succeeded", "none", [])
        assert (data["outcome"], data["change"], data["polls"]) == ("Succeeded", "none", 0)
        assert methods(app, hub).count("PUT") == 1
        assert methods(app, hub)[-1] == "GET"

        view, data = run_to_end(app, envelope(hub, apiEntitySetName="Visits"))
        assert (view["status"], view["change"]) == ("Succeeded", "updated")
        assert view["changes"] == data["changes"] == ["$.properties.apiEntitySetName"]
        assert methods(app, hub).count("PUT") == 2

    def test_the_read_carries_the_operation_correlation_id(self, app: AppUnderTest) -> None:
        """The read and the PUT go out under the same correlation id, with a token."""
        hub = "ReadHeadersHub"
        app.scenario(hub, mode="sync")
        run_to_end(app, envelope(hub))
        read, put = journal(app, hub)
        assert (read["method"], read["status"], put["method"]) == ("GET", 404, "PUT")

        def correlation(entry: dict[str, Any]) -> object:
            return {k.lower(): v for k, v in entry["headers"].items()}[
                "x-ms-correlation-request-id"
            ]

        assert correlation(read) == correlation(put)
        assert {k.lower() for k in read["headers"]} >= {"authorization"}

    def test_drift_is_put_back(self, app: AppUnderTest) -> None:
        """An operator's change behind the app's back is undone by sending the same definition."""
        hub = "DriftHub"
        app.scenario(hub, mode="sync")
        run_to_end(app, envelope(hub))
        body = envelope(hub)["definition"]
        drifted = {
            **body,
            "fields": [{**body["fields"][0], "isRequired": False}, body["fields"][1]],
        }
        token = app.stack.signer.issue("https://management.azure.com/").token
        operator = requests.put(
            interaction_url(app, hub),
            json={"properties": drifted},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert operator.status_code in (200, 201), operator.text
        puts_before = methods(app, hub).count("PUT")

        view, data = run_to_end(app, envelope(hub))
        assert (view["status"], data["change"]) == ("Succeeded", "updated")
        assert data["changes"] == ["$.properties.fields[0].isRequired"]
        assert methods(app, hub).count("PUT") == puts_before + 1
        live = requests.get(
            interaction_url(app, hub), headers={"Authorization": f"Bearer {token}"}, timeout=5
        ).json()
        assert live["properties"]["fields"][0]["isRequired"] is True

    def test_a_failed_resource_is_written_again(self, app: AppUnderTest) -> None:
        """Equal properties on a Failed resource are not in effect: the PUT goes out."""
        hub = "RefailHub"
        app.scenario(hub, mode="location", pollsUntilDone=1, finalState="Failed")
        view, _ = run_to_end(app, envelope(hub))
        assert view["status"] == "Failed"
        app.scenario(hub, mode="sync")
        view, data = run_to_end(app, envelope(hub))
        assert (view["status"], data["change"]) == ("Succeeded", "updated")
        assert data["changes"] == ["$.properties.provisioningState"]
        assert methods(app, hub).count("PUT") == 2


class TestRedelivery:
    def test_queue_message_redelivered_after_the_end_does_nothing_new(
        self, app: AppUnderTest
    ) -> None:
        """The same message id after the operation ended gets it back: no read, no event."""
        hub = "RedeliverQueueHub"
        app.scenario(hub, mode="sync")
        body = envelope(hub)
        app.queue_message(json.dumps(body), message_id="rq-1")
        app.run()
        seen = len(journal(app, hub))
        app.queue_message(json.dumps(body), message_id="rq-1", dequeue_count=2)
        app.run()
        assert len(journal(app, hub)) == seen
        assert len(app.events_for(operation_id_of(body))) == 1
        # A new message with the same definition is a new request, which converges.
        app.queue_message(json.dumps(body), message_id="rq-2")
        app.run()
        assert methods(app, hub) == ["GET", "PUT", "GET"]
        assert [e["data"]["change"] for e in app.events_for(operation_id_of(body))] == [
            "created",
            "none",
        ]

    def test_event_redelivered_after_the_end_does_nothing_new(self, app: AppUnderTest) -> None:
        """The same Event Grid event id again is a redelivery, not a new request."""
        hub = "RedeliverEventHub"
        app.scenario(hub, mode="sync")
        body = envelope(hub)
        app.event(body, event_id="ev-1")
        app.run()
        app.event(body, event_id="ev-1")
        app.run()
        assert methods(app, hub) == ["GET", "PUT"]
        assert len(app.events_for(operation_id_of(body))) == 1


class TestForceAndWhatIf:
    def test_force_puts_a_definition_already_in_effect(self, app: AppUnderTest) -> None:
        """force in the envelope and on the PUT route's query writes anyway."""
        hub = "ForceHub"
        app.scenario(hub, mode="sync")
        run_to_end(app, envelope(hub))
        view, data = run_to_end(app, {**envelope(hub), "force": True})
        assert (view["status"], data["change"], data["changes"]) == ("Succeeded", "updated", [])
        assert methods(app, hub).count("PUT") == 2
        definition = envelope(hub)["definition"]
        reply = app.http("PUT", f"hubs/{hub}/interactions/WebVisit?force=true", definition)
        assert reply.status_code == 202, reply.get_body()
        app.run()
        assert methods(app, hub).count("PUT") == 3

    def test_what_if_answers_at_once_and_writes_nothing(self, app: AppUnderTest) -> None:
        """whatIf reads ARM and answers 200 with change and changes; nothing starts."""
        hub = "WhatIfHub"
        app.scenario(hub, mode="sync")
        reply = app.http("POST", "interactions", {**envelope(hub), "whatIf": True})
        assert reply.status_code == 200
        assert json.loads(reply.get_body())["change"] == "created"
        assert methods(app, hub) == ["GET"]
        run_to_end(app, envelope(hub))
        definition = envelope(hub, apiEntitySetName="Visits")["definition"]
        reply = app.http("PUT", f"hubs/{hub}/interactions/WebVisit?whatIf=true", definition)
        answer = json.loads(reply.get_body())
        assert (reply.status_code, answer["change"], answer["changes"]) == (
            200,
            "updated",
            ["$.properties.apiEntitySetName"],
        )
        assert methods(app, hub).count("PUT") == 1
        assert len(app.events_for(operation_id_of(envelope(hub)))) == 1

    def test_a_bad_flag_is_a_400(self, app: AppUnderTest) -> None:
        """A flag that is neither true nor false is refused, with where and why."""
        reply = app.http(
            "PUT", "hubs/FlagHub/interactions/WebVisit?force=yes", envelope("FlagHub")["definition"]
        )
        assert reply.status_code == 400
        (problem,) = json.loads(reply.get_body())["errors"]
        assert (problem["path"], problem["code"]) == ("?force", "invalid_flag")

    def test_what_if_in_a_queue_message_is_rejected_with_the_reason(
        self, app: AppUnderTest
    ) -> None:
        """A queue message cannot ask for whatIf: it is dead-lettered, nothing reaches ARM."""
        hub = "QueueWhatIfHub"
        app.queue_message(json.dumps({**envelope(hub), "whatIf": True}), message_id="qw-1")
        app.run()
        (rejected,) = [m for m in app.rejected_messages() if m.get("messageId") == "qw-1"]
        assert "what_if_http_only" in json.dumps(rejected)
        assert journal(app, hub) == []


class TestIdempotencyKey:
    def test_the_same_key_gets_the_same_operation_before_and_after_the_end(
        self, app: AppUnderTest
    ) -> None:
        """A repeated Idempotency-Key is the same request, running or ended; a new key converges."""
        hub = "KeyHub"
        app.scenario(hub, mode="location", pollsUntilDone=2)
        key = {"Idempotency-Key": "deploy-42"}
        first = app.http("POST", "interactions", envelope(hub), headers=key)
        again = app.http("POST", "interactions", envelope(hub), headers=key)
        assert (first.status_code, again.status_code) == (202, 202)
        first_view = json.loads(first.get_body())
        assert json.loads(again.get_body())["correlationId"] == first_view["correlationId"]
        app.run()
        after = app.http("POST", "interactions", envelope(hub), headers=key)
        assert after.status_code == 200
        assert json.loads(after.get_body())["correlationId"] == first_view["correlationId"]
        app.run()
        assert methods(app, hub).count("PUT") == 1
        assert len(app.events_for(first_view["operationId"])) == 1
        fresh = app.http("POST", "interactions", envelope(hub), headers={"Idempotency-Key": "k2"})
        assert fresh.status_code == 202
        app.run()
        assert [e["data"]["change"] for e in app.events_for(first_view["operationId"])] == [
            "created",
            "none",
        ]

    def test_the_same_key_with_another_definition_is_refused(self, app: AppUnderTest) -> None:
        """A reused Idempotency-Key with a changed definition gets 409, running or ended, on
        both routes; the original operation stays as it was and ARM sees no second PUT."""
        hub = "KeyReuseHub"
        app.scenario(hub, mode="location", pollsUntilDone=2)
        key = {"Idempotency-Key": "deploy-43"}
        first = app.http("POST", "interactions", envelope(hub), headers=key)
        assert first.status_code == 202
        original = json.loads(first.get_body())
        changed = envelope(hub, apiEntitySetName="Changed")
        refusals = [app.http("POST", "interactions", changed, headers=key)]
        app.run()
        refusals.append(app.http("POST", "interactions", changed, headers=key))
        route = f"hubs/{hub}/interactions/WebVisit"
        refusals.append(app.http("PUT", route, changed["definition"], headers=key))
        for refused in refusals:
            assert (refused.status_code, refused.mimetype) == (409, "application/problem+json")
            body = json.loads(refused.get_body())
            assert body["status"] == 409
            (problem,) = body["errors"]
            assert (problem["path"], problem["code"]) == (
                "Idempotency-Key",
                "idempotency_key_reused",
            )
            assert original["operationId"] in problem["message"]
        app.run()
        view = app.view(original["operationId"])
        assert (view["correlationId"], view["status"], view["change"]) == (
            original["correlationId"],
            "Succeeded",
            "created",
        )
        assert methods(app, hub).count("PUT") == 1
        assert len(app.events_for(original["operationId"])) == 1


class TestCadence:
    def test_without_retry_after_polls_keep_the_default_interval(self, app: AppUnderTest) -> None:
        """No Retry-After from ARM: every poll waits the configured default, no doubling."""
        hub = "CadenceHub"
        polls = 6
        app.scenario(hub, mode="location", pollsUntilDone=polls, retryAfterForm="none")
        start = app.now()
        view, _ = run_to_end(app, envelope(hub))
        assert (view["status"], view["polls"]) == ("Succeeded", polls)
        default = 60.0  # POLL_DEFAULT_INTERVAL_SECONDS's default (shared/settings.py)
        elapsed = (app.now() - start).total_seconds()
        # Jitter only shortens a wait, by at most 10% (shared/lro.py PollingPolicy).
        assert polls * default * 0.9 <= elapsed <= polls * default + 1, elapsed
