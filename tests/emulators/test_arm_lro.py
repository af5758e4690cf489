"""Long-running PUTs on the ARM emulator, followed by hand with `requests` in each mode."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from tests.emulators.conftest import HUB, SUBSCRIPTION, ArmTarget

FAILURE = {"code": "InvalidFieldType", "message": "Field 'VisitId' has an unknown type."}
OTHER_SUBSCRIPTION = "5e0c3f8e-6a0e-4f7e-9a43-1b2c3d4e5f60"


def resource_state(arm: ArmTarget) -> str:
    """The provisioningState a resource GET shows (this GET is a status read too)."""
    response = arm.get(arm.interaction_url())
    assert response.status_code == 200, response.text
    return str(response.json()["properties"]["provisioningState"])


class TestLocationMode:
    def test_put_is_202_with_an_absolute_location_on_the_emulator(self, arm: ArmTarget) -> None:
        """202, no body, Location to operationResults on the same host, Retry-After."""
        response = arm.put()
        location = urlsplit(response.headers["Location"])
        assert response.status_code == 202
        assert response.content == b""
        assert f"{location.scheme}://{location.netloc}" == arm.base
        assert location.path.startswith(
            f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CustomerInsights"
            "/locations/westus/operationResults/"
        )
        assert location.query == "api-version=2017-04-26"
        assert response.headers["Retry-After"] == "1"

    def test_location_stays_on_the_host_the_client_used(self, arm: ArmTarget) -> None:
        """A client that addressed the emulator as localhost gets a localhost Location."""
        port = urlsplit(arm.base).port
        token = arm.signer.issue(f"http://localhost:{port}").token
        response = arm.put(
            headers={"Host": f"localhost:{port}", "Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 202
        assert response.headers["Location"].startswith(f"http://localhost:{port}/subscriptions/")

    def test_location_reaches_succeeded_after_the_set_number_of_polls(self, arm: ArmTarget) -> None:
        """202 while running, then 200 with the resource; the resource then shows Succeeded."""
        arm.scenario(mode="location", pollsUntilDone=3)
        location = arm.put().headers["Location"]
        statuses = [arm.get(location) for _ in range(3)]
        assert [r.status_code for r in statuses] == [202, 202, 200]
        assert statuses[0].headers["Location"] == location
        assert statuses[2].json()["properties"]["provisioningState"] == "Succeeded"
        assert resource_state(arm) == "Succeeded"
        assert [(e["method"], e["status"]) for e in arm.journal()] == [
            ("PUT", 202),
            ("GET", 202),
            ("GET", 202),
            ("GET", 200),
            ("GET", 200),
        ]

    def test_polling_from_another_subscription_is_404_and_counts_no_read(
        self, arm: ArmTarget
    ) -> None:
        """The operation is not found under another subscription, and that read does not move
        it on: the owner's first poll still sees it running."""
        arm.scenario(mode="location", pollsUntilDone=2)
        location = arm.put().headers["Location"]
        elsewhere = location.replace(SUBSCRIPTION, OTHER_SUBSCRIPTION)

        refused = arm.get(elsewhere)

        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "OperationNotFound"
        assert [arm.get(location).status_code for _ in range(2)] == [202, 200]

    def test_location_reports_failure_as_the_operation_error(self, arm: ArmTarget) -> None:
        """A failed operation answers its error on the Location URL; the resource is Failed."""
        arm.scenario(mode="location", pollsUntilDone=1, finalState="Failed", error=FAILURE)
        response = arm.get(arm.put().headers["Location"])
        assert response.status_code == 400
        assert response.json() == {"error": FAILURE}
        assert resource_state(arm) == "Failed"

    def test_canceled_operation_has_a_default_error(self, arm: ArmTarget) -> None:
        """Canceled without a scripted error still reports one."""
        arm.scenario(mode="location", pollsUntilDone=1, finalState="Canceled")
        response = arm.get(arm.put().headers["Location"])
        assert response.json()["error"]["code"] == "Canceled"


class TestAsyncOperationMode:
    def test_put_is_201_provisioning_with_an_async_operation_header(self, arm: ArmTarget) -> None:
        """201 with the resource in Provisioning and an operationStatuses URL."""
        arm.scenario(mode="async-operation")
        response = arm.put()
        status_url = urlsplit(response.headers["Azure-AsyncOperation"])
        assert response.status_code == 201
        assert response.json()["properties"]["provisioningState"] == "Provisioning"
        assert "/operationStatuses/" in status_url.path
        assert "Location" not in response.headers

    def test_status_resource_goes_from_in_progress_to_succeeded(self, arm: ArmTarget) -> None:
        """The status URL always answers 200; status ends Succeeded with an endTime."""
        arm.scenario(mode="async-operation", pollsUntilDone=2)
        status_url = arm.put().headers["Azure-AsyncOperation"]
        first, second = arm.get(status_url), arm.get(status_url)
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json()["status"] == "InProgress"
        assert "endTime" not in first.json()
        assert first.headers["Retry-After"] == "1"
        done = second.json()
        assert done["status"] == "Succeeded"
        assert done["name"] == urlsplit(status_url).path.rsplit("/", 1)[1]
        assert done["id"] == urlsplit(status_url).path
        assert datetime.fromisoformat(done["endTime"]) >= datetime.fromisoformat(done["startTime"])
        assert "error" not in done
        assert resource_state(arm) == "Succeeded"

    def test_failed_status_carries_the_error(self, arm: ArmTarget) -> None:
        """status Failed comes with the scripted error; the resource is Failed."""
        arm.scenario(mode="async-operation", pollsUntilDone=1, finalState="Failed", error=FAILURE)
        status = arm.get(arm.put().headers["Azure-AsyncOperation"]).json()
        assert (status["status"], status["error"]) == ("Failed", FAILURE)
        assert resource_state(arm) == "Failed"

    def test_human_intervention_succeeds_and_shows_on_the_resource(self, arm: ArmTarget) -> None:
        """The status resource only knows InProgress, Succeeded, Failed and Canceled: the
        operation Succeeded and the resource's provisioningState says HumanIntervention."""
        arm.scenario(mode="async-operation", pollsUntilDone=1, finalState="HumanIntervention")
        status = arm.get(arm.put().headers["Azure-AsyncOperation"]).json()
        assert status["status"] == "Succeeded"
        assert "error" not in status
        assert resource_state(arm) == "HumanIntervention"


class TestProvisioningStateMode:
    def test_resource_get_shows_the_state_moving_on(self, arm: ArmTarget) -> None:
        """201 Provisioning without polling headers; GETs show Provisioning, then Succeeded."""
        arm.scenario(mode="provisioning-state", pollsUntilDone=2)
        response = arm.put()
        assert response.status_code == 201
        assert not {"Location", "Azure-AsyncOperation"} & set(response.headers)
        assert [resource_state(arm), resource_state(arm)] == ["Provisioning", "Succeeded"]

    def test_resource_ends_failed(self, arm: ArmTarget) -> None:
        """With finalState Failed the resource's state becomes Failed."""
        arm.scenario(mode="provisioning-state", pollsUntilDone=1, finalState="Failed")
        arm.put()
        assert resource_state(arm) == "Failed"


class TestSyncMode:
    def test_put_is_200_succeeded_without_polling_headers(self, arm: ArmTarget) -> None:
        """The sync scenario finishes inside the PUT."""
        arm.scenario(mode="sync")
        response = arm.put()
        assert response.status_code == 200
        assert response.json()["properties"]["provisioningState"] == "Succeeded"
        assert not {"Location", "Azure-AsyncOperation", "Retry-After"} & set(response.headers)


class TestKnobs:
    @pytest.mark.parametrize(
        ("polls", "expected"),
        [
            pytest.param(0, [200], id="zero"),
            pytest.param(1, [200], id="one"),
            pytest.param(4, [202, 202, 202, 200], id="four"),
        ],
    )
    def test_polls_until_done_counts_status_reads(
        self, arm: ArmTarget, polls: int, expected: list[int]
    ) -> None:
        """The read numbered pollsUntilDone (at least the first) sees the end."""
        arm.scenario(pollsUntilDone=polls)
        location = arm.put().headers["Location"]
        assert [arm.get(location).status_code for _ in expected] == expected

    def test_resource_gets_count_towards_the_polls(self, arm: ArmTarget) -> None:
        """A resource GET is a status read: after one, the Location poll finishes."""
        arm.scenario(pollsUntilDone=2)
        location = arm.put().headers["Location"]
        assert resource_state(arm) == "Provisioning"
        assert arm.get(location).status_code == 200

    def test_zero_duration_finishes_on_the_first_read(self, arm: ArmTarget) -> None:
        """durationSeconds replaces the poll count: 0 s is done at once."""
        arm.scenario(durationSeconds=0, pollsUntilDone=10)
        assert arm.get(arm.put().headers["Location"]).status_code == 200

    def test_long_duration_ignores_the_poll_count(self, arm: ArmTarget) -> None:
        """With an hour to run, reads past pollsUntilDone still see it running."""
        arm.scenario(durationSeconds=3600, pollsUntilDone=1)
        location = arm.put().headers["Location"]
        assert [arm.get(location).status_code for _ in range(3)] == [202, 202, 202]

    def test_hidden_creation_is_404_until_done(self, arm: ArmTarget) -> None:
        """With hiddenUntilDone the new resource is ResourceNotFound and unlisted until done."""
        arm.scenario(pollsUntilDone=2, hiddenUntilDone=True)
        arm.put()
        list_url = f"{arm.hub_url()}/interactions?api-version=2017-04-26"
        hidden = arm.get(arm.interaction_url())
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "ResourceNotFound"
        assert arm.get(list_url).json()["value"] == []
        assert resource_state(arm) == "Succeeded"
        assert len(arm.get(list_url).json()["value"]) == 1

    def test_hidden_applies_to_creation_only(self, arm: ArmTarget) -> None:
        """An update of an existing resource leaves it visible while it runs."""
        arm.scenario(mode="sync")
        arm.put()
        arm.scenario(pollsUntilDone=3, hiddenUntilDone=True)
        arm.put()
        assert resource_state(arm) == "Provisioning"

    def test_retry_after_in_seconds_form(self, arm: ArmTarget) -> None:
        """retryAfter 7 in seconds form is the header value 7."""
        arm.scenario(retryAfter="7", retryAfterForm="seconds")
        assert arm.put().headers["Retry-After"] == "7"

    def test_retry_after_in_http_date_form(self, arm: ArmTarget) -> None:
        """http-date form is an IMF-fixdate about retryAfter seconds from now."""
        arm.scenario(retryAfter=30, retryAfterForm="http-date")
        header = arm.put().headers["Retry-After"]
        assert header.endswith(" GMT")
        delay = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        assert 25 <= delay <= 31

    def test_retry_after_can_be_absent(self, arm: ArmTarget) -> None:
        """Form none sends no Retry-After on the PUT or the polls."""
        arm.scenario(retryAfterForm="none", pollsUntilDone=2)
        response = arm.put()
        assert "Retry-After" not in response.headers
        assert "Retry-After" not in arm.get(response.headers["Location"]).headers

    @pytest.mark.parametrize(
        ("mode", "header"),
        [
            pytest.param("location", "Location", id="location"),
            pytest.param("async-operation", "Azure-AsyncOperation", id="async-operation"),
        ],
    )
    def test_location_host_points_polling_elsewhere(
        self, arm: ArmTarget, mode: str, header: str
    ) -> None:
        """locationHost hands out a URL on a foreign host with the usual path."""
        arm.scenario(mode=mode, locationHost="http://evil.example:1234")
        url = urlsplit(arm.put().headers[header])
        assert (url.scheme, url.netloc) == ("http", "evil.example:1234")
        assert url.path.startswith(f"/subscriptions/{SUBSCRIPTION}/providers/")

    def test_hubs_run_their_own_scenarios_side_by_side(self, arm: ArmTarget) -> None:
        """Per-hub scenarios apply at once; other hubs use the default scenario."""
        arm.control("PUT", "/_emulator/scenario", {"mode": "provisioning-state"})
        arm.scenario(hub="LocationHub", mode="location")
        arm.scenario(hub="AsyncHub", mode="async-operation")
        by_location = arm.put(hub="locationhub")
        by_async = arm.put(hub="AsyncHub")
        by_default = arm.put(hub=HUB)
        assert by_location.status_code == 202
        assert "Azure-AsyncOperation" in by_async.headers
        assert by_default.status_code == 201
        assert not {"Location", "Azure-AsyncOperation"} & set(by_default.headers)

    def test_later_put_supersedes_the_running_operation(self, arm: ArmTarget) -> None:
        """Finishing an older operation does not move a resource a newer PUT is changing."""
        arm.scenario(pollsUntilDone=1)
        old_location = arm.put().headers["Location"]
        arm.scenario(pollsUntilDone=3)
        arm.put()
        assert arm.get(old_location).status_code == 200
        assert resource_state(arm) == "Provisioning"
