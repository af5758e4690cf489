"""Validation of what the intakes receive: JSON, envelopes, the PUT route, semantic rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import InvalidRequest
from shared.models import ProvisioningRequest
from shared.validation import decode_json, parse_envelope, parse_route_request
from tests.examples import DOC_RESOURCE_GROUP as RESOURCE_GROUP
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION
from tests.examples import OTHER_SUBSCRIPTION, ROOT, UNSET_FIELD_FLAGS, doc_example

# The PUT request of the swagger example InteractionsCreateOrUpdate.json
# (docs/contracts/arm-lro.md §3).
SPEC_REQUEST_PROPERTIES: dict[str, Any] = {
    "idPropertyNames": ["TestInteractionType6358"],
    "primaryParticipantProfilePropertyName": "profile1",
    "apiEntitySetName": "TestInteractionType6358",
    "fields": [
        {
            "fieldName": "TestInteractionType6358",
            "fieldType": "Edm.String",
            "isArray": False,
            "isRequired": True,
        },
        {"fieldName": "profile1", "fieldType": "Edm.String"},
    ],
    "smallImage": "\\\\Images\\\\smallImage",
    "mediumImage": "\\\\Images\\\\MediumImage",
    "largeImage": "\\\\Images\\\\LargeImage",
}

# Field flags as the example 200 response reports them, plus the Get example's per-field rules.
RESPONSE_FIELD_EXTRAS: dict[str, Any] = {
    **UNSET_FIELD_FLAGS,
    "isRequired": True,
    "propertyId": "id1",
    "dataSourcePrecedenceRules": [],
}
DATA_SOURCE = {
    "name": "crm2",
    "dataSourceType": "Connector",
    "status": "Active",
    "id": 1,
    "dataSourceReferenceId": "70",
}

# The example's 200 response body, with the read-only values the Get example adds.
SPEC_RESPONSE: dict[str, Any] = {
    "id": (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/TestHubRG/providers/"
        "Microsoft.CustomerInsights/hubs/azSdkTestHub/interactions/TestInteractionType6358"
    ),
    "name": "azSdkTestHub/TestInteractionType6358",
    "type": "Microsoft.CustomerInsights/hubs/interactions",
    "properties": {
        **SPEC_REQUEST_PROPERTIES,
        "entityType": "Interaction",
        "fields": [
            {**field, **RESPONSE_FIELD_EXTRAS} for field in SPEC_REQUEST_PROPERTIES["fields"]
        ],
        "instancesCount": 0,
        "provisioningState": "Provisioning",
        "tenantId": "azsdktesthub",
        "typeName": "TestInteractionType6358",
        "defaultDataSource": DATA_SOURCE,
        "dataSourcePrecedenceRules": [{"dataSource": DATA_SOURCE, "precedence": 50}],
    },
}

# A definition that passes every rule; the rule tables below change one thing at a time.
BASE: dict[str, Any] = {
    "idPropertyNames": ["VisitId"],
    "timestampFieldName": "VisitedAt",
    "primaryParticipantProfilePropertyName": "ContactId",
    "fields": [
        {"fieldName": "VisitId", "fieldType": "Edm.String"},
        {"fieldName": "VisitedAt", "fieldType": "Edm.DateTimeOffset"},
        {"fieldName": "ContactId", "fieldType": "Edm.String"},
    ],
}


def definition(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def with_field(index: int, **attributes: Any) -> dict[str, Any]:
    fields = [dict(field) for field in BASE["fields"]]
    fields[index].update(attributes)
    return definition(fields=fields)


def participant(name: str) -> dict[str, Any]:
    return {
        "participantName": name,
        "profileTypeName": "Contact",
        "participantPropertyReferences": [
            {"sourcePropertyName": "ContactId", "targetPropertyName": "ContactId"}
        ],
    }


def envelope(definition: object, **target: Any) -> dict[str, Any]:
    return {
        "target": {"hub": "sdkTestHub", "interactionName": "Visit", **target},
        "definition": definition,
    }


def parse(data: object) -> ProvisioningRequest:
    return parse_envelope(
        data, default_subscription_id=SUBSCRIPTION, default_resource_group=RESOURCE_GROUP
    )


def route(body: object, **overrides: Any) -> ProvisioningRequest:
    arguments: dict[str, Any] = {
        "hub": "sdkTestHub",
        "interaction_name": "TestProfileType396",
        "body": body,
        "subscription_id": None,
        "resource_group": None,
        "request_id": None,
        "default_subscription_id": SUBSCRIPTION,
        "default_resource_group": RESOURCE_GROUP,
    }
    return parse_route_request(**{**arguments, **overrides})


def problems_of(call: Callable[[], object]) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidRequest) as caught:
        call()
    return [(problem.path, problem.message, problem.code) for problem in caught.value.problems]


def paths_of(call: Callable[[], object]) -> list[str]:
    return [path for path, _, _ in problems_of(call)]


def load_example(name: str) -> Any:
    return json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))


class TestDecodeJson:
    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param(b'{"a": 1}', id="bytes"),
            pytest.param('{"a": 1}', id="text"),
            pytest.param(b'\xef\xbb\xbf{"a": 1}', id="bytes-with-bom"),
            pytest.param('\ufeff{"a": 1}', id="text-with-bom"),
        ],
    )
    def test_json_text_is_decoded(self, raw: bytes | str) -> None:
        """UTF-8 JSON decodes, with or without a byte-order mark."""
        assert decode_json(raw, "request body") == {"a": 1}

    @pytest.mark.parametrize(
        ("raw", "fragment"),
        [
            pytest.param(b'{"a": "\xff"}', "the queue message is not UTF-8 text", id="not-utf8"),
            pytest.param(b"", "the queue message is empty", id="empty"),
            pytest.param("  \n", "the queue message is empty", id="blank"),
            pytest.param('{"a": 1,', "is not valid JSON: Expecting", id="truncated"),
            pytest.param('{"a"\n: x}', "(line 2, column 3)", id="position"),
            pytest.param('{"a": NaN}', "NaN is not a JSON value", id="nan"),
            pytest.param("[" * 100_000, "nested too deeply", id="deep-nesting"),
        ],
    )
    def test_undecodable_text_is_one_problem_at_the_root(
        self, raw: bytes | str, fragment: str
    ) -> None:
        """Text that is not JSON gives one problem at `$` naming where it came from."""
        [(path, message, code)] = problems_of(lambda: decode_json(raw, "queue message"))
        assert (path, code) == ("$", "invalid_json")
        assert fragment in message


class TestParseEnvelope:
    def test_doc_example_is_accepted_with_defaults(self) -> None:
        """examples/interaction.json validates, taking subscription and group from the settings."""
        request = parse(doc_example())
        assert request.target.model_dump() == {
            "subscription_id": SUBSCRIPTION,
            "resource_group": RESOURCE_GROUP,
            "hub": "sdkTestHub",
            "interaction_name": "TestProfileType396",
        }
        assert request.definition.to_arm_body() == {"properties": SPEC_REQUEST_PROPERTIES}
        assert request.request_id is None

    def test_spec_example_with_pasted_response_fields_is_accepted(self) -> None:
        """The wrapped spec example carrying a GET's read-only values validates without them."""
        request = parse(envelope(SPEC_RESPONSE))
        properties = request.definition.to_arm_body()["properties"]
        assert set(properties) == {
            *SPEC_REQUEST_PROPERTIES,
            "entityType",
            "instancesCount",
            "typeName",
        }
        assert all("dataSourcePrecedenceRules" not in field for field in properties["fields"])

    def test_explicit_target_values_beat_the_defaults(self) -> None:
        """A subscription and resource group in the message are used instead of the settings."""
        request = parse(envelope(BASE, subscriptionId=OTHER_SUBSCRIPTION, resourceGroup="OtherRG"))
        assert (request.target.subscription_id, request.target.resource_group) == (
            OTHER_SUBSCRIPTION,
            "OtherRG",
        )

    def test_null_target_values_take_the_defaults(self) -> None:
        """A null subscription or resource group counts as left out."""
        request = parse(envelope(BASE, subscriptionId=None, resourceGroup=None))
        assert (request.target.subscription_id, request.target.resource_group) == (
            SUBSCRIPTION,
            RESOURCE_GROUP,
        )

    def test_missing_target_values_without_defaults_name_the_settings(self) -> None:
        """With neither a value nor a default, each problem names the setting to configure."""
        problems = problems_of(
            lambda: parse_envelope(
                envelope(BASE), default_subscription_id=None, default_resource_group=None
            )
        )
        assert [(path, code) for path, _, code in problems] == [
            ("$.target.subscriptionId", "missing"),
            ("$.target.resourceGroup", "missing"),
        ]
        assert "DEFAULT_SUBSCRIPTION_ID" in problems[0][1]
        assert "DEFAULT_RESOURCE_GROUP" in problems[1][1]

    @pytest.mark.parametrize(
        "data",
        [
            pytest.param([], id="array"),
            pytest.param("text", id="string"),
            pytest.param(None, id="null"),
            pytest.param(5, id="number"),
        ],
    )
    def test_non_object_is_refused_at_the_root(self, data: object) -> None:
        """Anything but a JSON object is one problem at `$`."""
        assert problems_of(lambda: parse(data)) == [("$", "must be a JSON object", "model_type")]

    def test_three_distinct_errors_yield_three_problems(self) -> None:
        """Every problem is listed at once, each at its own path."""
        body = envelope(
            definition(
                fields=[
                    {"fieldName": "VisitId", "fieldType": "Edm.String"},
                    {"fieldName": "VisitedAt", "fieldType": "Edm.Text"},
                ],
                smallImg="x.png",
            ),
            hub="my-hub",
        )
        problems = problems_of(lambda: parse(body))
        assert [(path, code) for path, _, code in problems] == [
            ("$.target.hub", "invalid_hub_name"),
            ("$.definition.fields[1].fieldType", "unknown_field_type"),
            ("$.definition.smallImg", "unknown_field"),
        ]

    def test_target_and_semantic_problems_are_listed_together(self) -> None:
        """A bad target does not hide the definition's semantic problems."""
        body = envelope(definition(timestampFieldName="When"), interactionName="9lives")
        assert paths_of(lambda: parse(body)) == [
            "$.target.interactionName",
            "$.definition.timestampFieldName",
        ]

    def test_semantic_rules_wait_for_a_definition_that_parses(self) -> None:
        """References are not checked while the definition has schema problems."""
        body = envelope(definition(fields=[{"fieldName": "VisitId"}], idPropertyNames=["Nope"]))
        assert paths_of(lambda: parse(body)) == ["$.definition.fields[0].fieldType"]

    def test_unknown_field_is_reported_with_its_path(self) -> None:
        """A misspelt key is reported where it is, beside the required key it replaced."""
        misspelt = {"fieldName": "VisitedAt", "fieldTyp": "Edm.DateTimeOffset"}
        body = envelope(definition(fields=[BASE["fields"][0], misspelt, BASE["fields"][2]]))
        problems = problems_of(lambda: parse(body))
        assert [(path, code) for path, _, code in problems] == [
            ("$.definition.fields[1].fieldType", "missing"),
            ("$.definition.fields[1].fieldTyp", "unknown_field"),
        ]
        assert "check its spelling" in problems[1][1]

    def test_wrapped_definition_paths_include_properties(self) -> None:
        """Problems in a wrapped definition point inside `properties`, schema and semantic alike."""
        schema = envelope({"properties": with_field(0, fieldType="Edm.Text")})
        semantic = envelope({"properties": with_field(1, maxLength=10)})
        assert paths_of(lambda: parse(schema)) == ["$.definition.properties.fields[0].fieldType"]
        assert paths_of(lambda: parse(semantic)) == ["$.definition.properties.fields[1].maxLength"]

    @pytest.mark.parametrize(
        ("key", "path"),
        [
            pytest.param("en-us", "$.definition.displayName['en-us']", id="hyphen"),
            pytest.param("it's", "$.definition.displayName['it\\'s']", id="quote"),
            pytest.param("en_us", "$.definition.displayName.en_us", id="identifier"),
        ],
    )
    def test_map_keys_that_are_not_identifiers_are_bracketed(self, key: str, path: str) -> None:
        """Locale keys and other non-identifiers appear in brackets in a path."""
        body = envelope(definition(displayName={key: 5}))
        assert problems_of(lambda: parse(body)) == [(path, "must be a valid string", "string_type")]

    @pytest.mark.parametrize(
        ("data", "problem"),
        [
            pytest.param(
                {**envelope(BASE), "reqId": "x"},
                ("$.reqId", "unknown_field"),
                id="unknown-envelope-key",
            ),
            pytest.param(
                {"target": envelope(BASE)["target"]},
                ("$.definition", "missing"),
                id="no-definition",
            ),
            pytest.param(
                {"target": "sdkTestHub", "definition": BASE},
                ("$.target", "model_type"),
                id="target-not-object",
            ),
            pytest.param(
                {**envelope(BASE), "requestId": "r" * 129},
                ("$.requestId", "string_too_long"),
                id="long-request-id",
            ),
            pytest.param(
                envelope([BASE]), ("$.definition", "model_type"), id="definition-not-object"
            ),
        ],
    )
    def test_envelope_problems_are_at_envelope_paths(
        self, data: dict[str, Any], problem: tuple[str, str]
    ) -> None:
        """Envelope-level mistakes are reported at the envelope key concerned."""
        assert [(path, code) for path, _, code in problems_of(lambda: parse(data))] == [problem]


class TestParseRouteRequest:
    def test_wrapped_example_matches_the_flat_envelope_example(self) -> None:
        """examples/interaction-wrapped.json on the PUT route equals the flat envelope example."""
        from_route = route(load_example("interaction-wrapped.json"))
        from_envelope = parse(doc_example())
        assert from_route == from_envelope
        assert from_route.definition_hash() == from_envelope.definition_hash()

    def test_route_values_fill_the_target(self) -> None:
        """Path, query and header values become the target and request id."""
        request = route(
            BASE,
            subscription_id=OTHER_SUBSCRIPTION,
            resource_group="OtherRG",
            request_id="req-7",
        )
        assert request.target.resource_path == (
            f"/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/OtherRG/providers/"
            "Microsoft.CustomerInsights/hubs/sdkTestHub/interactions/TestProfileType396"
        )
        assert request.request_id == "req-7"

    @pytest.mark.parametrize(
        ("overrides", "path", "code"),
        [
            pytest.param({"hub": "my-hub"}, "$route.hub", "invalid_hub_name", id="hub"),
            pytest.param(
                {"interaction_name": "9"},
                "$route.interactionName",
                "invalid_interaction_name",
                id="interaction-name",
            ),
            pytest.param(
                {"subscription_id": "subid"},
                "$route.subscriptionId",
                "invalid_subscription_id",
                id="subscription",
            ),
            pytest.param(
                {"resource_group": "rg."},
                "$route.resourceGroup",
                "invalid_resource_group",
                id="resource-group",
            ),
            pytest.param(
                {"request_id": ""}, "$route.requestId", "string_too_short", id="request-id"
            ),
            pytest.param(
                {"default_subscription_id": None},
                "$route.subscriptionId",
                "missing",
                id="no-subscription",
            ),
        ],
    )
    def test_route_values_are_reported_under_route(
        self, overrides: dict[str, Any], path: str, code: str
    ) -> None:
        """A bad value from outside the body is reported as `$route.<name>`."""
        assert [(p, c) for p, _, c in problems_of(lambda: route(BASE, **overrides))] == [
            (path, code)
        ]

    @pytest.mark.parametrize(
        ("body", "path"),
        [
            pytest.param(with_field(0, fieldName=3), "$.fields[0].fieldName", id="flat"),
            pytest.param(
                {"properties": with_field(0, fieldName=3)},
                "$.properties.fields[0].fieldName",
                id="wrapped",
            ),
            pytest.param(definition(fields=[]), "$.fields", id="semantic"),
            pytest.param("text", "$", id="not-an-object"),
            pytest.param(envelope(BASE), "$.target", id="an-envelope"),
        ],
    )
    def test_body_problems_are_relative_to_the_body(self, body: object, path: str) -> None:
        """In the PUT route, `$` is the body itself."""
        assert paths_of(lambda: route(body))[0] == path


def fields_plus(*extra: dict[str, Any]) -> dict[str, Any]:
    return definition(fields=[*BASE["fields"], *extra])


class TestSemanticRules:
    @pytest.mark.parametrize(
        ("body", "path", "fragment", "code"),
        [
            pytest.param(
                {"fields": []},
                "$.definition.fields",
                "at least one field",
                "no_fields",
                id="no-fields",
            ),
            pytest.param(
                {}, "$.definition.fields", "at least one field", "no_fields", id="fields-absent"
            ),
            pytest.param(
                fields_plus({"fieldName": "VISITID", "fieldType": "Edm.Int32"}),
                "$.definition.fields[3].fieldName",
                "repeats the name of fields[0]",
                "duplicate_field_name",
                id="duplicate-field-name",
            ),
            pytest.param(
                definition(idPropertyNames=["VisitId", "Nope"]),
                "$.definition.idPropertyNames[1]",
                "'Nope' is not the name of a field",
                "unknown_reference",
                id="id-property-unknown",
            ),
            pytest.param(
                definition(idPropertyNames=["visitid"]),
                "$.definition.idPropertyNames[0]",
                "did you mean 'VisitId'?",
                "unknown_reference",
                id="id-property-case",
            ),
            pytest.param(
                definition(timestampFieldName="When"),
                "$.definition.timestampFieldName",
                "'When' is not the name of a field",
                "unknown_reference",
                id="timestamp-unknown",
            ),
            pytest.param(
                definition(primaryParticipantProfilePropertyName="Agent"),
                "$.definition.primaryParticipantProfilePropertyName",
                "'Agent' is not the name of a field or a participant",
                "unknown_reference",
                id="primary-unknown",
            ),
            pytest.param(
                definition(participantProfiles=[participant("Visitor"), participant("visitor")]),
                "$.definition.participantProfiles[1].participantName",
                "repeats the name of participantProfiles[0]",
                "duplicate_participant_name",
                id="duplicate-participant",
            ),
            pytest.param(
                with_field(1, maxLength=10),
                "$.definition.fields[1].maxLength",
                "only to Edm.String fields, and this one is Edm.DateTimeOffset",
                "max_length_not_string",
                id="max-length-on-date",
            ),
            pytest.param(
                with_field(0, maxLength=0),
                "$.definition.fields[0].maxLength",
                "must be greater than 0",
                "greater_than",
                id="max-length-zero",
            ),
            pytest.param(
                with_field(0, arrayValueSeparator=","),
                "$.definition.fields[0].arrayValueSeparator",
                "isArray: true",
                "separator_without_array",
                id="separator-without-array",
            ),
            pytest.param(
                with_field(0, arrayValueSeparator=",", isArray=False),
                "$.definition.fields[0].arrayValueSeparator",
                "isArray: true",
                "separator_without_array",
                id="separator-with-array-false",
            ),
            pytest.param(
                with_field(0, enumValidValues=[{"value": 1}]),
                "$.definition.fields[0].enumValidValues",
                "isEnum or isFlagEnum: true",
                "enum_values_without_enum",
                id="enum-values-without-enum",
            ),
        ],
    )
    def test_broken_rule_is_one_problem_at_its_path(
        self, body: dict[str, Any], path: str, fragment: str, code: str
    ) -> None:
        """Each rule, when broken, yields exactly one problem at the offending value."""
        [(actual_path, message, actual_code)] = problems_of(lambda: parse(envelope(body)))
        assert (actual_path, actual_code) == (path, code)
        assert fragment in message

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(BASE, id="base"),
            pytest.param(
                fields_plus({"fieldName": "VisitId2", "fieldType": "Edm.String"}),
                id="distinct-field-names",
            ),
            pytest.param(
                definition(
                    participantProfiles=[participant("Visitor"), participant("Host")],
                    primaryParticipantProfilePropertyName="Visitor",
                ),
                id="primary-names-a-participant",
            ),
            pytest.param(
                definition(idPropertyNames=["VisitId", "VisitedAt"]), id="id-properties-exist"
            ),
            pytest.param(
                with_field(0, fieldType="edm.string", maxLength=10), id="max-length-on-string"
            ),
            pytest.param(
                with_field(0, arrayValueSeparator=",", isArray=True), id="separator-with-array"
            ),
            pytest.param(
                with_field(0, enumValidValues=[{"value": 1}], isEnum=True), id="enum-values-enum"
            ),
            pytest.param(
                with_field(0, enumValidValues=[{"value": 1}], isFlagEnum=True),
                id="enum-values-flag-enum",
            ),
            pytest.param(with_field(0, enumValidValues=[]), id="empty-enum-values"),
        ],
    )
    def test_kept_rule_passes(self, body: dict[str, Any]) -> None:
        """A definition within every rule validates."""
        assert parse(envelope(body)).definition.fields


class TestUnencodableText:
    def test_lone_surrogate_is_a_problem_not_a_crash(self) -> None:
        """A lone surrogate passes JSON decoding but cannot be sent as UTF-8: it is refused."""
        from shared.validation import decode_json

        data = decode_json(
            '{"target": {"hub": "h1", "interactionName": "n1"}, '
            '"definition": {"fields": [{"fieldName": "\\ud800", "fieldType": "Edm.String"}]}}',
            "queue message",
        )
        with pytest.raises(InvalidRequest) as caught:
            parse_envelope(data, default_subscription_id=None, default_resource_group=None)
        assert "not valid Unicode" in caught.value.problems[0].message


def _with_participant(**changes: Any) -> dict[str, Any]:
    profile = participant("Customer")
    reference = {**profile["participantPropertyReferences"][0], **changes.pop("reference", {})}
    return definition(
        participantProfiles=[{**profile, **changes, "participantPropertyReferences": [reference]}]
    )


_NAME_CASES = [
    (with_field(0, fieldName="{v}"), "$.definition.fields[0].fieldName"),
    (
        _with_participant(participantName="{v}"),
        "$.definition.participantProfiles[0].participantName",
    ),
    (
        _with_participant(profileTypeName="{v}"),
        "$.definition.participantProfiles[0].profileTypeName",
    ),
    (
        _with_participant(reference={"sourcePropertyName": "{v}"}),
        "$.definition.participantProfiles[0].participantPropertyReferences[0].sourcePropertyName",
    ),
    (
        _with_participant(reference={"targetPropertyName": "{v}"}),
        "$.definition.participantProfiles[0].participantPropertyReferences[0].targetPropertyName",
    ),
    (definition(typeName="{v}"), "$.definition.typeName"),
    (definition(apiEntitySetName="{v}"), "$.definition.apiEntitySetName"),
]


class TestNamesAndNumbers:
    """Names non-empty, short and printable; numbers in the spec's range."""

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("", "empty_name"),
            ("Visit\x00Id", "control_character"),
            ("Visit\nId", "control_character"),
            ("Visit\x7f", "control_character"),
            ("Visit\x85", "control_character"),
            ("x" * 513, "name_too_long"),
        ],
    )
    @pytest.mark.parametrize(("template", "path"), _NAME_CASES)
    def test_bad_names_are_refused_where_they_are(
        self, template: dict[str, Any], path: str, value: str, code: str
    ) -> None:
        """Each bad value is one problem, at the name's own path, with its own code."""
        body = json.loads(json.dumps(template).replace("{v}", json.dumps(value)[1:-1]))
        problems = problems_of(lambda: parse(envelope(body)))
        assert (path, code) in [(p, c) for p, _, c in problems], problems

    def test_a_512_character_name_with_spaces_and_unicode_is_accepted(self) -> None:
        """The limits refuse only what no real definition has."""
        name = "Visit Id é" + "x" * 502
        body = definition(fields=[*BASE["fields"], {"fieldName": name, "fieldType": "Edm.String"}])
        request = parse(envelope(body))
        assert request.definition.fields is not None
        assert request.definition.fields[-1].field_name == name

    @pytest.mark.parametrize(
        ("changes", "path"),
        [
            ({"instancesCount": -1}, "$.definition.instancesCount"),
            ({"instancesCount": 2**31}, "$.definition.instancesCount"),
            ({"instancesCount": 10**30}, "$.definition.instancesCount"),
        ],
    )
    def test_counts_are_int32_and_not_negative(self, changes: dict[str, Any], path: str) -> None:
        assert paths_of(lambda: parse(envelope(definition(**changes)))) == [path]

    @pytest.mark.parametrize("max_length", [0, -5, 2**31, 10**30])
    def test_max_length_is_a_positive_int32(self, max_length: int) -> None:
        body = with_field(0, maxLength=max_length)
        assert paths_of(lambda: parse(envelope(body))) == ["$.definition.fields[0].maxLength"]

    @pytest.mark.parametrize("value", [-(2**31) - 1, 2**31])
    def test_enum_values_are_int32(self, value: int) -> None:
        body = with_field(0, isEnum=True, enumValidValues=[{"value": value}])
        assert paths_of(lambda: parse(envelope(body))) == [
            "$.definition.fields[0].enumValidValues[0].value"
        ]

    def test_the_int32_limits_themselves_are_accepted(self) -> None:
        body = definition(instancesCount=2**31 - 1)
        assert parse(envelope(body)).definition.instances_count == 2**31 - 1
