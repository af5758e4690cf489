"""Validation on the ARM emulator: each bad request gets ARM's error code, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.emulators.conftest import TIMEOUT, ArmTarget, definition


def put_raw(
    arm: ArmTarget,
    url: str,
    data: bytes,
    content_type: str | None = "application/json",
) -> requests.Response:
    """PUT exact bytes with the valid token."""
    headers = dict(arm.auth)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.put(url, data=data, headers=headers, timeout=TIMEOUT)


def nested_body(depth: int) -> bytes:
    """A PUT body whose JSON nests `depth` levels deep (`properties` is the second level)."""
    arrays = depth - 2
    return b'{"properties": {"extra": ' + b"[" * arrays + b"]" * arrays + b"}}"


def assert_arm_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The response is ARM's error envelope with this status and code."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


class TestApiVersion:
    def test_missing_api_version_is_refused(self, arm: ArmTarget) -> None:
        """No api-version: 400 MissingApiVersionParameter with ARM's sentence."""
        url = arm.interaction_url().split("?")[0]
        error = assert_arm_error(arm.get(url), 400, "MissingApiVersionParameter")
        assert "(?api-version=) is required" in error["message"]

    def test_unsupported_api_version_is_refused(self, arm: ArmTarget) -> None:
        """Another api-version: 400 InvalidApiVersionParameter listing the supported one."""
        url = arm.interaction_url().replace("2017-04-26", "2016-01-01")
        error = assert_arm_error(arm.get(url), 400, "InvalidApiVersionParameter")
        assert "'2016-01-01'" in error["message"]
        assert "2017-04-26" in error["message"]


class TestNames:
    @pytest.mark.parametrize(
        ("target", "kwargs", "code"),
        [
            pytest.param(
                None, {"subscription": "not-a-guid"}, "InvalidSubscriptionId", id="subscription"
            ),
            pytest.param(
                "resourceGroupName",
                {"resource_group": "rg.with.trailing."},
                "InvalidResourceGroup",
                id="rg-trailing-period",
            ),
            pytest.param(
                "resourceGroupName",
                {"resource_group": "rg!"},
                "InvalidResourceGroup",
                id="rg-bad-character",
            ),
            pytest.param(
                "resourceGroupName",
                {"resource_group": "r" * 91},
                "InvalidResourceGroup",
                id="rg-too-long",
            ),
            pytest.param("hubName", {"hub": "hub_1"}, "InvalidResourceName", id="hub-underscore"),
            pytest.param("hubName", {"hub": "1hub"}, "InvalidResourceName", id="hub-digit-first"),
            pytest.param("hubName", {"hub": "h" * 65}, "InvalidResourceName", id="hub-too-long"),
        ],
    )
    def test_bad_parent_names_are_refused(
        self, arm: ArmTarget, target: str | None, kwargs: dict[str, Any], code: str
    ) -> None:
        """Subscription, resource group and hub names follow ARM's rules."""
        error = assert_arm_error(arm.put("WebVisit", **kwargs), 400, code)
        assert error.get("target") == target

    @pytest.mark.parametrize(
        "name",
        [
            pytest.param("a", id="one-character"),
            pytest.param("web-visit", id="hyphen"),
            pytest.param("_visit", id="underscore-first"),
            pytest.param("9visit", id="digit-first"),
            pytest.param("v" * 129, id="too-long"),
        ],
    )
    def test_bad_interaction_names_are_refused(self, arm: ArmTarget, name: str) -> None:
        """Interaction names match ^[a-zA-Z][a-zA-Z0-9_]+$ and are at most 128 characters."""
        error = assert_arm_error(arm.put(name), 400, "InvalidResourceName")
        assert error["target"] == "interactionName"

    @pytest.mark.parametrize(
        "name",
        [
            pytest.param("ab", id="two-characters"),
            pytest.param("Web_Visit_2", id="underscore-and-digit"),
            pytest.param("v" * 128, id="longest"),
        ],
    )
    def test_good_interaction_names_are_accepted(self, arm: ArmTarget, name: str) -> None:
        """Names inside the rule are accepted."""
        assert arm.put(name).status_code == 202


class TestBody:
    @pytest.mark.parametrize(
        ("data", "target"),
        [
            pytest.param(b'{"properties": {', None, id="truncated-json"),
            pytest.param(b"\xff\xfe", None, id="not-utf8"),
            pytest.param(b"", None, id="empty"),
            pytest.param(b"[1, 2]", None, id="array"),
            pytest.param(b'{"fields": []}', "properties", id="flat-body"),
            pytest.param(b'{"properties": "x"}', "properties", id="properties-not-object"),
            pytest.param(
                b'{"properties": {"fields": {}}}', "properties.fields", id="fields-not-array"
            ),
            pytest.param(
                b'{"properties": {"fields": [{"fieldName": "a"}]}}',
                "properties.fields[0].fieldType",
                id="field-without-type",
            ),
            pytest.param(
                b'{"properties": {"fields": ["a"]}}',
                "properties.fields[0]",
                id="field-not-object",
            ),
            pytest.param(
                b'{"properties": {"participantProfiles": [{"participantName": "p",'
                b' "profileTypeName": "Contact", "participantPropertyReferences":'
                b' [{"sourcePropertyName": "a"}]}]}}',
                "properties.participantProfiles[0].participantPropertyReferences[0]"
                ".targetPropertyName",
                id="reference-without-target",
            ),
        ],
    )
    def test_bad_bodies_are_invalid_request_content(
        self, arm: ArmTarget, data: bytes, target: str | None
    ) -> None:
        """Malformed or mis-shaped bodies get 400 InvalidRequestContent pointing at the spot."""
        error = assert_arm_error(
            put_raw(arm, arm.interaction_url(), data), 400, "InvalidRequestContent"
        )
        assert error.get("target") == target

    @pytest.mark.parametrize(
        "content_type",
        [
            pytest.param(None, id="missing"),
            pytest.param("text/plain", id="text"),
            pytest.param("application/xml", id="xml"),
        ],
    )
    def test_non_json_content_type_is_unsupported_media_type(
        self, arm: ArmTarget, content_type: str | None
    ) -> None:
        """PUT without a JSON content type is 415 UnsupportedMediaType."""
        response = put_raw(arm, arm.interaction_url(), b'{"properties": {}}', content_type)
        assert_arm_error(response, 415, "UnsupportedMediaType")

    @pytest.mark.parametrize(
        "depth",
        [
            pytest.param(65, id="just-over-dotnet-limit"),
            pytest.param(985, id="parses-but-too-deep-to-echo"),
            pytest.param(100_000, id="beyond-the-parser"),
        ],
    )
    def test_too_deeply_nested_json_is_invalid_request_content(
        self, arm: ArmTarget, depth: int
    ) -> None:
        """JSON nested deeper than .NET's 64 levels is a 400 with ARM's headers, not a 500,
        and the journal still lists the request."""
        response = put_raw(arm, arm.interaction_url(), nested_body(depth))
        error = assert_arm_error(response, 400, "InvalidRequestContent")
        assert "nested more than 64 levels" in error["message"]
        assert response.headers["x-ms-request-id"]
        assert [entry["status"] for entry in arm.journal()] == [400]

    def test_json_nested_64_deep_is_accepted(self, arm: ArmTarget) -> None:
        """The deepest document .NET reads by default goes through."""
        assert put_raw(arm, arm.interaction_url(), nested_body(64)).status_code == 202

    def test_json_content_type_with_charset_is_accepted(self, arm: ArmTarget) -> None:
        """Media-type parameters do not matter."""
        response = put_raw(
            arm, arm.interaction_url(), b'{"properties": {}}', "application/json; charset=utf-8"
        )
        assert response.status_code == 202


class TestReadOnlyProvisioningState:
    def test_provisioning_state_on_create_is_refused(self, arm: ArmTarget) -> None:
        """A new resource has no state to match, so any sent value is refused."""
        response = arm.put(body=definition(provisioningState="Succeeded"))
        error = assert_arm_error(response, 400, "InvalidRequestContent")
        assert error["target"] == "properties.provisioningState"

    def test_provisioning_state_equal_to_current_is_ignored(self, arm: ArmTarget) -> None:
        """Sending back the current state is accepted."""
        arm.scenario(mode="sync")
        arm.put()
        assert arm.put(body=definition(provisioningState="succeeded")).status_code == 200

    def test_provisioning_state_different_from_current_is_refused(self, arm: ArmTarget) -> None:
        """Sending another state than the current one is 400."""
        arm.scenario(mode="sync")
        arm.put()
        response = arm.put(body=definition(provisioningState="Failed"))
        error = assert_arm_error(response, 400, "InvalidRequestContent")
        assert "'Succeeded'" in error["message"]


class TestUnknownRequests:
    def test_unimplemented_path_is_an_explicit_not_found(self, arm: ArmTarget) -> None:
        """A path the emulator does not implement says so."""
        url = f"{arm.hub_url()}/profiles/Contact?api-version=2017-04-26"
        error = assert_arm_error(arm.get(url), 404, "NotFound")
        assert "does not implement" in error["message"]

    def test_delete_on_an_interaction_is_method_not_allowed(self, arm: ArmTarget) -> None:
        """Interactions have no DELETE in 2017-04-26; the answer lists what is allowed."""
        response = requests.delete(arm.interaction_url(), headers=arm.auth, timeout=TIMEOUT)
        assert_arm_error(response, 405, "MethodNotAllowed")
        assert response.headers["Allow"] == "GET, PUT"

    def test_unknown_operation_is_not_found(self, arm: ArmTarget) -> None:
        """An operation id the emulator never handed out is 404."""
        url = (
            f"{arm.base}/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/"
            "Microsoft.CustomerInsights/locations/westus/operationResults/nope"
            "?api-version=2017-04-26"
        )
        assert_arm_error(arm.get(url), 404, "OperationNotFound")

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            pytest.param("/_emulator/scenario", {"mode": "sometimes"}, id="bad-mode"),
            pytest.param("/_emulator/scenario", {"pollsUntilDone": -1}, id="negative-polls"),
            pytest.param("/_emulator/scenario", {"locationHost": "evil"}, id="bad-host"),
            pytest.param("/_emulator/throttling", {"writesPerHour": 0}, id="zero-budget"),
        ],
    )
    def test_bad_control_bodies_are_400_naming_the_field(
        self, arm: ArmTarget, path: str, body: dict[str, Any]
    ) -> None:
        """Control requests are validated too, with the field named."""
        response = requests.put(arm.base + path, json=body, timeout=TIMEOUT)
        error = assert_arm_error(response, 400, "InvalidControlRequest")
        assert next(iter(body)) in error["message"]
