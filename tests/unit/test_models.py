"""The request models: wire shapes, name rules, read-only fields, ARM body and hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.models import (
    EdmType,
    EntityType,
    InteractionTypeDefinition,
    PropertyDefinition,
    ProvisioningRequest,
    Target,
)
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION

TARGET = {
    "subscriptionId": SUBSCRIPTION,
    "resourceGroup": "TestHubRG",
    "hub": "sdkTestHub",
    "interactionName": "TestProfileType396",
}

# Every writable field of docs/contracts/arm-lro.md §3, in canonical form, so a round trip must
# reproduce it exactly.
FULL_DEFINITION: dict[str, Any] = {
    "idPropertyNames": ["VisitId"],
    "participantProfiles": [
        {
            "participantName": "Visitor",
            "profileTypeName": "Contact",
            "participantPropertyReferences": [
                {"sourcePropertyName": "ContactId", "targetPropertyName": "ContactId"}
            ],
            "displayName": {"en-us": "Visitor"},
            "description": {"en-us": "The contact who visited"},
            "role": "visitor",
        }
    ],
    "primaryParticipantProfilePropertyName": "Visitor",
    "isActivity": False,
    "apiEntitySetName": "WebVisits",
    "entityType": "Interaction",
    "fields": [
        {
            "fieldName": "VisitId",
            "fieldType": "Edm.String",
            "arrayValueSeparator": ";",
            "enumValidValues": [{"value": 1, "localizedValueNames": {"en-us": "One"}}],
            "isArray": True,
            "isEnum": True,
            "isFlagEnum": False,
            "isImage": False,
            "isLocalizedString": False,
            "isName": False,
            "isRequired": True,
            "propertyId": "id1",
            "schemaItemPropLink": "http%3A%2F%2Fschema.org%2Fidentifier",
            "maxLength": 64,
            "isAvailableInGraph": True,
        },
        {"fieldName": "ContactId", "fieldType": "Edm.Guid"},
    ],
    "instancesCount": 0,
    "schemaItemTypeLink": "http://schema.org/Event",
    "timestampFieldName": "VisitId",
    "typeName": "WebVisit",
    "attributes": {"category": ["web", "visit"]},
    "description": {"en-us": "A visit to the web site"},
    "displayName": {"en-us": "Web visit"},
    "localizedAttributes": {"tooltip": {"en-us": "Visits"}},
    "smallImage": "\\\\Images\\\\smallImage",
    "mediumImage": "\\\\Images\\\\MediumImage",
    "largeImage": "\\\\Images\\\\LargeImage",
}

SMALL_DEFINITION: dict[str, Any] = {
    "idPropertyNames": ["VisitId"],
    "fields": [{"fieldName": "VisitId", "fieldType": "Edm.String", "isRequired": True}],
}


def error_locs_and_types(error: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    return [(tuple(detail["loc"]), detail["type"]) for detail in error.errors()]


class TestTarget:
    def test_resource_path_keeps_the_given_casing(self) -> None:
        """The ARM resource id is built from the names exactly as the caller wrote them."""
        target = Target.model_validate(TARGET)
        assert target.resource_path == (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/TestHubRG/providers/"
            "Microsoft.CustomerInsights/hubs/sdkTestHub/interactions/TestProfileType396"
        )

    def test_normalized_id_is_lower_case(self) -> None:
        """Two spellings of one resource share a normalized id, as ARM names are case-blind."""
        upper = Target.model_validate({**TARGET, "hub": "SDKTESTHUB"})
        lower = Target.model_validate({**TARGET, "hub": "sdktesthub"})
        assert upper.normalized_id == lower.normalized_id == upper.resource_path.lower()

    def test_subject_names_hub_and_interaction(self) -> None:
        """The event subject is hubs/{hub}/interactions/{name}."""
        assert Target.model_validate(TARGET).subject == (
            "hubs/sdkTestHub/interactions/TestProfileType396"
        )

    def test_snake_case_names_construct_it_in_python(self) -> None:
        """Python code builds a target with snake_case names."""
        target = Target(
            subscription_id=SUBSCRIPTION,
            resource_group="rg",
            hub="hub1",
            interaction_name="visit",
        )
        assert target.model_dump(by_alias=True) == {
            "subscriptionId": SUBSCRIPTION,
            "resourceGroup": "rg",
            "hub": "hub1",
            "interactionName": "visit",
        }

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            pytest.param("subscriptionId", SUBSCRIPTION.upper(), id="upper-case-guid"),
            pytest.param("resourceGroup", "a", id="one-char-group"),
            pytest.param("resourceGroup", "my_rg-(1).prod", id="group-with-punctuation"),
            pytest.param("resourceGroup", "grüppe", id="group-with-unicode-letter"),
            pytest.param("resourceGroup", "g" * 90, id="group-of-90"),
            pytest.param("hub", "h1", id="two-char-hub"),
            pytest.param("hub", "h" * 64, id="hub-of-64"),
            pytest.param("interactionName", "a_1", id="name-with-underscore"),
            pytest.param("interactionName", "a" * 128, id="name-of-128"),
        ],
    )
    def test_valid_names_are_accepted(self, key: str, value: str) -> None:
        """Names inside the contract's rules validate unchanged."""
        target = Target.model_validate({**TARGET, key: value})
        assert target.model_dump(by_alias=True)[key] == value

    @pytest.mark.parametrize(
        ("key", "value", "code"),
        [
            pytest.param("subscriptionId", "subid", "invalid_subscription_id", id="not-a-guid"),
            pytest.param(
                "subscriptionId", f"{{{SUBSCRIPTION}}}", "invalid_subscription_id", id="braced"
            ),
            pytest.param("resourceGroup", "", "invalid_resource_group", id="empty-group"),
            pytest.param("resourceGroup", "rg.", "invalid_resource_group", id="ends-in-period"),
            pytest.param("resourceGroup", "a/b", "invalid_resource_group", id="slash"),
            pytest.param("resourceGroup", "g" * 91, "invalid_resource_group", id="group-of-91"),
            pytest.param("hub", "h", "invalid_hub_name", id="one-char-hub"),
            pytest.param("hub", "1hub", "invalid_hub_name", id="hub-starts-with-digit"),
            pytest.param("hub", "my_hub", "invalid_hub_name", id="hub-underscore"),
            pytest.param("hub", "h" * 65, "invalid_hub_name", id="hub-of-65"),
            pytest.param("interactionName", "a", "invalid_interaction_name", id="one-char"),
            pytest.param("interactionName", "a-b", "invalid_interaction_name", id="hyphen"),
            pytest.param("interactionName", "a" * 129, "invalid_interaction_name", id="of-129"),
            pytest.param("hub", 7, "string_type", id="hub-not-a-string"),
        ],
    )
    def test_invalid_names_are_refused(self, key: str, value: object, code: str) -> None:
        """A name outside the contract's rules is refused at its own key."""
        with pytest.raises(ValidationError) as caught:
            Target.model_validate({**TARGET, key: value})
        assert error_locs_and_types(caught.value) == [((key,), code)]


class TestFieldType:
    @pytest.mark.parametrize(
        ("given", "canonical"),
        [
            pytest.param("Edm.String", EdmType.STRING, id="canonical"),
            pytest.param("edm.string", EdmType.STRING, id="lower"),
            pytest.param("EDM.INT32", EdmType.INT32, id="upper"),
            pytest.param("edm.datetimeoffset", EdmType.DATE_TIME_OFFSET, id="docs-lower-case"),
            pytest.param("edm.boolean", EdmType.BOOLEAN, id="docs-boolean"),
            pytest.param("Edm.Byte", EdmType.BYTE, id="byte"),
        ],
    )
    def test_any_casing_is_normalised(self, given: str, canonical: EdmType) -> None:
        """EDM type names match in any casing and are sent in the swagger's casing."""
        field = PropertyDefinition.model_validate({"fieldName": "f", "fieldType": given})
        assert field.field_type is canonical
        assert field.model_dump(mode="json", by_alias=True)["fieldType"] == canonical.value

    @pytest.mark.parametrize(
        "given",
        [
            pytest.param("string", id="bare-name"),
            pytest.param("Edm.Strng", id="misspelt"),
            pytest.param("", id="empty"),
            pytest.param(5, id="number"),
        ],
    )
    def test_unknown_types_are_refused(self, given: object) -> None:
        """Anything but the ten EDM types is refused, with the list of allowed names."""
        with pytest.raises(ValidationError) as caught:
            PropertyDefinition.model_validate({"fieldName": "f", "fieldType": given})
        [detail] = caught.value.errors()
        assert (detail["loc"], detail["type"]) == (("fieldType",), "unknown_field_type")
        assert "Edm.String, Edm.Int16" in detail["msg"]


class TestInteractionTypeDefinition:
    def test_every_writable_field_round_trips_to_the_arm_body(self) -> None:
        """Each field of the contract survives into the ARM body under its camelCase name."""
        definition = InteractionTypeDefinition.model_validate(FULL_DEFINITION)
        assert definition.to_arm_body() == {"properties": FULL_DEFINITION}

    def test_flat_and_wrapped_forms_give_the_same_body(self) -> None:
        """The public doc's flat body and the swagger's wrapped body are the same definition."""
        flat = InteractionTypeDefinition.model_validate(FULL_DEFINITION)
        wrapped = InteractionTypeDefinition.model_validate({"properties": FULL_DEFINITION})
        assert flat == wrapped

    def test_unset_fields_are_left_out_of_the_body(self) -> None:
        """The body carries only what the caller set; no nulls reach ARM."""
        definition = InteractionTypeDefinition.model_validate(SMALL_DEFINITION)
        assert definition.to_arm_body() == {"properties": SMALL_DEFINITION}

    def test_writable_fields_the_server_fills_are_still_sent(self) -> None:
        """entityType, instancesCount, typeName and propertyId are writable, so they are kept."""
        body = {
            **SMALL_DEFINITION,
            "entityType": "Interaction",
            "instancesCount": 0,
            "typeName": "WebVisit",
            "fields": [{**SMALL_DEFINITION["fields"][0], "propertyId": "id1"}],
        }
        assert InteractionTypeDefinition.model_validate(body).to_arm_body() == {"properties": body}

    def test_python_attributes_are_snake_case(self) -> None:
        """Python code reads the definition by snake_case names."""
        definition = InteractionTypeDefinition.model_validate(FULL_DEFINITION)
        assert definition.primary_participant_profile_property_name == "Visitor"
        assert definition.participant_profiles is not None
        [reference] = definition.participant_profiles[0].participant_property_references
        assert reference.target_property_name == "ContactId"
        assert definition.entity_type is EntityType.INTERACTION

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(
                {"id": "/subscriptions/x", "properties": SMALL_DEFINITION}, id="envelope-id"
            ),
            pytest.param({"name": "hub/x", "properties": SMALL_DEFINITION}, id="name"),
            pytest.param(
                {
                    "type": "Microsoft.CustomerInsights/hubs/interactions",
                    "properties": SMALL_DEFINITION,
                },
                id="type",
            ),
            pytest.param(
                {"systemData": {"createdBy": "x"}, "properties": SMALL_DEFINITION},
                id="systemData",
            ),
            pytest.param(
                {**SMALL_DEFINITION, "provisioningState": "Provisioning"},
                id="provisioningState",
            ),
            pytest.param({**SMALL_DEFINITION, "tenantId": "hub"}, id="tenantId"),
            pytest.param(
                {**SMALL_DEFINITION, "lastChangedUtc": "2017-05-01T00:00:00Z"},
                id="lastChangedUtc",
            ),
            pytest.param(
                {**SMALL_DEFINITION, "dataSourcePrecedenceRules": [{"precedence": 50}]},
                id="precedence-rules",
            ),
            pytest.param(
                {
                    "fields": [
                        {
                            **SMALL_DEFINITION["fields"][0],
                            "dataSourcePrecedenceRules": [],
                        }
                    ],
                    "idPropertyNames": ["VisitId"],
                },
                id="field-precedence-rules",
            ),
            pytest.param(
                {
                    **SMALL_DEFINITION,
                    "defaultDataSource": {
                        "name": "crm2",
                        "dataSourceType": "Connector",
                        "status": "Active",
                        "id": 1,
                        "dataSourceReferenceId": "70",
                    },
                },
                id="defaultDataSource",
            ),
        ],
    )
    def test_server_owned_values_are_dropped(self, body: dict[str, Any]) -> None:
        """Values ARM owns, pasted from a GET, are accepted and never sent back."""
        definition = InteractionTypeDefinition.model_validate(body)
        assert definition.to_arm_body() == {"properties": SMALL_DEFINITION}

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            pytest.param({**SMALL_DEFINITION, "typeNmae": "x"}, ("typeNmae",), id="top-level"),
            pytest.param(
                {"properties": {**SMALL_DEFINITION, "feilds": []}},
                ("properties", "feilds"),
                id="inside-properties",
            ),
            pytest.param(
                {"properties": SMALL_DEFINITION, "location": "westus"},
                ("location",),
                id="beside-properties",
            ),
            pytest.param(
                {"fields": [{"fieldName": "a", "fieldType": "Edm.String", "isReqired": True}]},
                ("fields", 0, "isReqired"),
                id="in-a-field",
            ),
            pytest.param({**SMALL_DEFINITION, "name": "x"}, ("name",), id="envelope-key-in-flat"),
            pytest.param(
                {"properties": {"properties": SMALL_DEFINITION}},
                ("properties", "properties"),
                id="wrapped-twice",
            ),
        ],
    )
    def test_unknown_keys_are_refused_at_their_path(
        self, body: dict[str, Any], loc: tuple[str | int, ...]
    ) -> None:
        """A key the contract does not define is an error, since ignoring it would lose data."""
        with pytest.raises(ValidationError) as caught:
            InteractionTypeDefinition.model_validate(body)
        assert error_locs_and_types(caught.value) == [(loc, "extra_forbidden")]

    @pytest.mark.parametrize(
        ("body", "loc", "code"),
        [
            pytest.param(
                {"fields": [{"fieldName": "a", "fieldType": "Edm.String", "isArray": "false"}]},
                ("fields", 0, "isArray"),
                "bool_type",
                id="boolean-as-string",
            ),
            pytest.param({"instancesCount": 1.5}, ("instancesCount",), "int_type", id="float"),
            pytest.param({"entityType": "interaction"}, ("entityType",), "enum", id="enum-case"),
            pytest.param(
                {"displayName": {"en-us": 5}},
                ("displayName", "en-us"),
                "string_type",
                id="localized-text-not-a-string",
            ),
            pytest.param(
                {"defaultDataSource": []}, ("defaultDataSource",), "model_type", id="data-source"
            ),
            pytest.param(
                {"participantProfiles": [{"participantName": "p"}]},
                ("participantProfiles", 0, "profileTypeName"),
                "missing",
                id="participant-required",
            ),
        ],
    )
    def test_json_types_are_not_coerced(
        self, body: dict[str, Any], loc: tuple[str | int, ...], code: str
    ) -> None:
        """A value of the wrong JSON type is refused rather than converted."""
        with pytest.raises(ValidationError) as caught:
            InteractionTypeDefinition.model_validate(body)
        assert (loc, code) in error_locs_and_types(caught.value)


class TestProvisioningRequest:
    def request(self, definition: dict[str, Any], **extra: Any) -> ProvisioningRequest:
        return ProvisioningRequest.model_validate(
            {"target": TARGET, "definition": definition, **extra}
        )

    def test_hash_is_sha256_of_the_sorted_arm_body(self) -> None:
        """The hash is SHA-256 over the ARM body serialised with sorted keys and no spaces."""
        expected = hashlib.sha256(
            json.dumps(
                {"properties": SMALL_DEFINITION}, sort_keys=True, separators=(",", ":")
            ).encode()
        ).hexdigest()
        assert self.request(SMALL_DEFINITION).definition_hash() == expected

    @pytest.mark.parametrize(
        "variant",
        [
            pytest.param({"properties": FULL_DEFINITION}, id="wrapped"),
            pytest.param(
                {
                    **FULL_DEFINITION,
                    "fields": [
                        {**FULL_DEFINITION["fields"][0], "fieldType": "edm.string"},
                        {**FULL_DEFINITION["fields"][1], "fieldType": "EDM.GUID"},
                    ],
                },
                id="field-type-casing",
            ),
            pytest.param(dict(reversed(FULL_DEFINITION.items())), id="key-order"),
            pytest.param(
                {"id": "x", "properties": {**FULL_DEFINITION, "provisioningState": "Succeeded"}},
                id="read-only-values",
            ),
        ],
    )
    def test_equal_definitions_hash_the_same(self, variant: dict[str, Any]) -> None:
        """Wire shape, fieldType casing, key order and read-only values do not change the hash."""
        assert (
            self.request(variant).definition_hash()
            == self.request(FULL_DEFINITION).definition_hash()
        )

    def test_a_changed_definition_hashes_differently(self) -> None:
        """Any change to what ARM would receive changes the hash."""
        changed = {**FULL_DEFINITION, "apiEntitySetName": "WebVisits2"}
        assert (
            self.request(changed).definition_hash()
            != self.request(FULL_DEFINITION).definition_hash()
        )

    def test_dump_by_alias_is_the_envelope_and_round_trips(self) -> None:
        """Serialised by alias, a request is the wire envelope and reads back equal."""
        request = self.request({"properties": SMALL_DEFINITION}, requestId="req-1")
        wire = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert wire == {
            "target": TARGET,
            "definition": SMALL_DEFINITION,
            "requestId": "req-1",
            "force": False,
            "whatIf": False,
        }
        assert ProvisioningRequest.model_validate(wire) == request

    @pytest.mark.parametrize(
        ("request_id", "code"),
        [
            pytest.param("", "string_too_short", id="empty"),
            pytest.param("r" * 129, "string_too_long", id="of-129"),
            pytest.param("line\nbreak", "invalid_request_id", id="control-character"),
            pytest.param(42, "string_type", id="number"),
        ],
    )
    def test_bad_request_ids_are_refused(self, request_id: object, code: str) -> None:
        """A request id must be 1 to 128 printable characters."""
        with pytest.raises(ValidationError) as caught:
            self.request(SMALL_DEFINITION, requestId=request_id)
        assert error_locs_and_types(caught.value) == [(("requestId",), code)]

    @pytest.mark.parametrize(
        "request_id",
        [pytest.param("r" * 128, id="of-128"), pytest.param("abc 123/é", id="printable")],
    )
    def test_good_request_ids_are_kept(self, request_id: str) -> None:
        """Printable request ids up to 128 characters are kept as given."""
        assert self.request(SMALL_DEFINITION, requestId=request_id).request_id == request_id
