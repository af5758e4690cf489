"""Interactions PUT, GET and list on the ARM emulator: bodies, names, headers, journal."""

from __future__ import annotations

import uuid

import requests

from tests.emulators.conftest import (
    HUB,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    TIMEOUT,
    ArmTarget,
    definition,
)
from tests.examples import UNSET_FIELD_FLAGS


class TestPutBody:
    def test_put_answer_follows_the_spec_example_shape(self, arm: ArmTarget) -> None:
        """The resource echoes the definition and adds what the service fills in (§8)."""
        arm.scenario(mode="async-operation")
        response = arm.put(
            "WebVisit", definition(displayName={"en-us": "Visit", "fr-fr": "Visite"})
        )
        body = response.json()
        assert response.status_code == 201
        assert body["id"] == (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
            f"/providers/Microsoft.CustomerInsights/hubs/{HUB}/interactions/WebVisit"
        )
        assert body["name"] == f"{HUB}/WebVisit"
        assert body["type"] == "Microsoft.CustomerInsights/hubs/interactions"
        properties = body["properties"]
        assert properties["apiEntitySetName"] == "WebVisit"
        assert properties["idPropertyNames"] == ["VisitId"]
        assert properties["displayName"] == {"en-us": "Visit", "fr-fr": "Visite"}
        assert {
            key: properties[key]
            for key in ("entityType", "instancesCount", "provisioningState", "tenantId", "typeName")
        } == {
            "entityType": "Interaction",
            "instancesCount": 0,
            "provisioningState": "Provisioning",
            "tenantId": HUB.lower(),
            "typeName": "WebVisit",
        }

    def test_fields_come_back_with_flag_defaults(self, arm: ArmTarget) -> None:
        """Unset field flags are false, sent ones kept, and each field gets a propertyId."""
        arm.scenario(mode="sync")
        (field,) = arm.put().json()["properties"]["fields"]
        assert field == {
            "fieldName": "VisitId",
            "fieldType": "Edm.String",
            "isRequired": True,
            **UNSET_FIELD_FLAGS,
            "propertyId": "id1",
            "dataSourcePrecedenceRules": [],
        }

    def test_second_put_is_an_update(self, arm: ArmTarget) -> None:
        """The first PUT creates (201), the next one on the same name updates (200)."""
        arm.scenario(mode="provisioning-state")
        assert arm.put().status_code == 201
        assert arm.put().status_code == 200


class TestNames:
    def test_names_are_case_insensitive_and_keep_the_creating_casing(self, arm: ArmTarget) -> None:
        """A GET in other casing finds the resource, shown as the creating PUT spelled it."""
        arm.scenario(mode="sync")
        arm.put("WebVisit")
        url = arm.interaction_url(
            "WEBVISIT", hub=HUB.lower(), resource_group=RESOURCE_GROUP.upper()
        ).replace("resourceGroups", "RESOURCEGROUPS")
        response = arm.get(url)
        assert response.status_code == 200
        assert response.json()["name"] == f"{HUB}/WebVisit"

    def test_update_in_other_casing_keeps_one_resource(self, arm: ArmTarget) -> None:
        """PUT in upper case updates the same resource; the list has one entry."""
        arm.scenario(mode="sync")
        assert arm.put("WebVisit").status_code == 200
        arm.put("WEBVISIT", hub=HUB.upper())
        listed = arm.get(f"{arm.hub_url()}/interactions?api-version=2017-04-26").json()
        assert [item["name"] for item in listed["value"]] == [f"{HUB}/WebVisit"]


class TestGetAndList:
    def test_get_of_unknown_interaction_is_resource_not_found(self, arm: ArmTarget) -> None:
        """404 ResourceNotFound names the resource and the resource group."""
        response = arm.get(arm.interaction_url("Missing"))
        error = response.json()["error"]
        assert response.status_code == 404
        assert error["code"] == "ResourceNotFound"
        assert "interactions/Missing" in error["message"]
        assert RESOURCE_GROUP in error["message"]

    def test_list_returns_the_hub_interactions_by_name(self, arm: ArmTarget) -> None:
        """The list holds this hub's interactions only, sorted, without nextLink."""
        arm.scenario(mode="sync")
        arm.scenario(hub="OtherHub", mode="sync")
        for name in ("Purchase", "Click"):
            arm.put(name)
        arm.put("Elsewhere", hub="OtherHub")
        body = arm.get(f"{arm.hub_url()}/interactions?api-version=2017-04-26").json()
        assert [item["name"] for item in body["value"]] == [f"{HUB}/Click", f"{HUB}/Purchase"]
        assert "nextLink" not in body

    def test_locale_code_narrows_localized_maps(self, arm: ArmTarget) -> None:
        """GET and list with locale-code show that locale's display name and description."""
        arm.scenario(mode="sync")
        arm.put(
            "WebVisit",
            definition(
                displayName={"en-us": "Visit", "fr-fr": "Visite"},
                description={"en-us": "A visit", "fr-fr": "Une visite"},
            ),
        )
        got = arm.get(arm.interaction_url() + "&locale-code=fr-FR").json()["properties"]
        listed = arm.get(f"{arm.hub_url()}/interactions?api-version=2017-04-26&locale-code=fr-fr")
        assert (got["displayName"], got["description"]) == (
            {"fr-fr": "Visite"},
            {"fr-fr": "Une visite"},
        )
        assert listed.json()["value"][0]["properties"]["displayName"] == {"fr-fr": "Visite"}

    def test_get_without_locale_code_uses_en_us(self, arm: ArmTarget) -> None:
        """The spec's default locale-code is en-us."""
        arm.scenario(mode="sync")
        arm.put("WebVisit", definition(displayName={"en-us": "Visit", "fr-fr": "Visite"}))
        assert arm.get(arm.interaction_url()).json()["properties"]["displayName"] == {
            "en-us": "Visit"
        }

    def test_locale_missing_from_the_map_leaves_it_whole(self, arm: ArmTarget) -> None:
        """A locale the map does not have shows every entry rather than none."""
        arm.scenario(mode="sync")
        arm.put("WebVisit", definition(displayName={"en-us": "Visit"}))
        got = arm.get(arm.interaction_url() + "&locale-code=de-de").json()
        assert got["properties"]["displayName"] == {"en-us": "Visit"}


class TestTracingHeaders:
    def test_every_answer_has_a_fresh_request_id(self, arm: ArmTarget) -> None:
        """x-ms-request-id is present and unique, on success and on error."""
        ok = arm.put()
        missing = arm.get(arm.interaction_url("Nope"))
        ids = {ok.headers["x-ms-request-id"], missing.headers["x-ms-request-id"]}
        assert len(ids) == 2
        assert all(uuid.UUID(value) for value in ids)

    def test_correlation_id_is_echoed_or_generated(self, arm: ArmTarget) -> None:
        """A sent correlation id comes back; without one ARM makes one up."""
        sent = str(uuid.uuid4())
        echoed = arm.put(headers={"x-ms-correlation-request-id": sent})
        generated = arm.put()
        assert echoed.headers["x-ms-correlation-request-id"] == sent
        assert uuid.UUID(generated.headers["x-ms-correlation-request-id"])

    def test_client_request_id_is_echoed_only_when_asked(self, arm: ArmTarget) -> None:
        """x-ms-client-request-id returns only with x-ms-return-client-request-id: true."""
        client_id = str(uuid.uuid4())
        asked = arm.put(
            headers={"x-ms-client-request-id": client_id, "x-ms-return-client-request-id": "true"}
        )
        not_asked = arm.put(headers={"x-ms-client-request-id": client_id})
        assert asked.headers["x-ms-client-request-id"] == client_id
        assert "x-ms-client-request-id" not in not_asked.headers


class TestJournal:
    def test_journal_counts_requests_and_redacts_the_token(self, arm: ArmTarget) -> None:
        """Every API request is recorded with its status; the bearer token never appears."""
        location = arm.put().headers["Location"]
        arm.get(location)
        arm.get(location)
        entries = arm.journal()
        assert [(e["method"], e["status"]) for e in entries] == [
            ("PUT", 202),
            ("GET", 202),
            ("GET", 200),
        ]
        assert entries[0]["headers"]["authorization"] == "Bearer <redacted>"
        assert entries[0]["body"] == definition()
        assert entries[0]["query"] == {"api-version": "2017-04-26"}
        assert arm.token not in str(entries)

    def test_journal_filters_by_method_and_path(self, arm: ArmTarget) -> None:
        """`method` and `pathContains` select entries; control calls are never recorded."""
        arm.put("Click")
        arm.put("Purchase")
        arm.get(arm.interaction_url("Click"))
        assert len(arm.journal(method="PUT")) == 2
        assert [e["method"] for e in arm.journal(pathContains="interactions/click")] == [
            "PUT",
            "GET",
        ]

    def test_delete_clears_the_journal(self, arm: ArmTarget) -> None:
        """`DELETE /_emulator/requests` empties it."""
        arm.put()
        arm.control("DELETE", "/_emulator/requests")
        assert arm.journal() == []

    def test_reset_forgets_resources_and_scenarios(self, arm: ArmTarget) -> None:
        """After reset the resource is gone and the hub is back to the default scenario."""
        arm.scenario(mode="sync")
        arm.put()
        requests.post(arm.base + "/_emulator/reset", timeout=TIMEOUT).raise_for_status()
        assert arm.get(arm.interaction_url()).status_code == 404
        assert arm.put().status_code == 202
