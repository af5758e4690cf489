"""The provisioning request: which interaction type to write, and its definition.

Field names and types follow the Customer Insights 2017-04-26 swagger
(docs/contracts/arm-lro.md §3). Python uses snake_case; the wire uses camelCase.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    Strict,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class _WireModel(BaseModel):
    """Base of the wire models: camelCase keys, JSON types as sent, unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        # A misspelt key that is ignored loses what the caller meant to send.
        extra="forbid",
        # Input is decoded JSON, so "true" for a boolean or 1.5 for an integer is a caller's
        # mistake to report, not a value to coerce.
        strict=True,
        frozen=True,
    )

    # Wire keys the service owns (swagger readOnly). Callers often paste a GET response back, so
    # these are dropped rather than refused; ARM rejects read-only values that differ from its own.
    read_only_keys: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and not cls.read_only_keys.isdisjoint(data):
            return {key: value for key, value in data.items() if key not in cls.read_only_keys}
        return data


def _full_match(pattern: str, code: str, message: str) -> AfterValidator:
    """A validator that refuses a string not wholly matching `pattern`, with a readable message."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise PydanticCustomError(code, message)
        return value

    return AfterValidator(check)


def _printable(value: str) -> str:
    if not value.isprintable():
        raise PydanticCustomError("invalid_request_id", "must contain printable characters only")
    return value


# Name rules from docs/contracts/arm-lro.md §2. Python's \w is Unicode-aware, as ARM resource
# group names are.
SubscriptionId = Annotated[
    str,
    _full_match(
        r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}",
        "invalid_subscription_id",
        "must be a GUID such as 00000000-0000-0000-0000-000000000000",
    ),
]
ResourceGroupName = Annotated[
    str,
    _full_match(
        r"[-\w.()]{0,89}[-\w()]",
        "invalid_resource_group",
        "must be 1 to 90 letters, digits, underscores, hyphens, periods or parentheses, "
        "and must not end with a period",
    ),
]
HubName = Annotated[
    str,
    _full_match(
        r"[a-zA-Z][a-zA-Z0-9]{1,63}",
        "invalid_hub_name",
        "must be 2 to 64 letters or digits, starting with a letter",
    ),
]
InteractionName = Annotated[
    str,
    _full_match(
        r"[a-zA-Z][a-zA-Z0-9_]{1,127}",
        "invalid_interaction_name",
        "must be 2 to 128 letters, digits or underscores, starting with a letter",
    ),
]
RequestId = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_printable)]

# Free-form names (fields, participants, profile types, property references). The swagger
# declares no bound on them; its longest declared name is 512 (relationshipName,
# docs/contracts/arm-lro.md §2), so no real definition needs more. Control characters (C0,
# DEL, C1) have no place in a name.
MAX_NAME_LENGTH = 512
_CONTROL_RANGES = r"\x00-\x1f\x7f-\x9f"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL_RANGES}]")


def _name(value: str) -> str:
    if not value:
        raise PydanticCustomError("empty_name", "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise PydanticCustomError(
            "name_too_long", "must be at most {limit} characters", {"limit": MAX_NAME_LENGTH}
        )
    if _CONTROL_CHARACTER.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


Name = Annotated[
    str,
    AfterValidator(_name),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "pattern": f"^[^{_CONTROL_RANGES}]*$",
        }
    ),
]

# The TypeSpec spec makes instancesCount an int32; the swagger types maxLength and enum values
# only as integers, and no real length or enum member needs more. A negative count means nothing.
INT32_MAX = 2**31 - 1
Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]

LocalizedText = dict[str, str]
"""Text per locale, keyed like "en-us"."""


class Target(_WireModel):
    """The interaction type to create or update. ARM compares all of these case-insensitively."""

    subscription_id: SubscriptionId
    resource_group: ResourceGroupName
    hub: HubName
    interaction_name: InteractionName

    @property
    def resource_path(self) -> str:
        """The ARM resource id, in the casing the caller gave."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CustomerInsights/hubs/{self.hub}"
            f"/interactions/{self.interaction_name}"
        )

    @property
    def normalized_id(self) -> str:
        """The resource id lower-cased, so two spellings of one resource compare equal."""
        return self.resource_path.lower()

    @property
    def subject(self) -> str:
        """The Event Grid subject for this interaction type."""
        return f"hubs/{self.hub}/interactions/{self.interaction_name}"


class EdmType(StrEnum):
    """The EDM types a field may have (docs/contracts/arm-lro.md §3), in the swagger's casing."""

    STRING = "Edm.String"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    BOOLEAN = "Edm.Boolean"
    DATE_TIME_OFFSET = "Edm.DateTimeOffset"
    DECIMAL = "Edm.Decimal"
    DOUBLE = "Edm.Double"
    GUID = "Edm.Guid"
    BYTE = "Edm.Byte"


_EDM_TYPES_BY_FOLDED_NAME = {edm_type.casefold(): edm_type for edm_type in EdmType}


def _edm_type(value: object) -> EdmType:
    """Match an EDM type name in any casing: the Dynamics docs write them in lower case."""
    edm_type = _EDM_TYPES_BY_FOLDED_NAME.get(value.casefold()) if isinstance(value, str) else None
    if edm_type is None:
        raise PydanticCustomError(
            "unknown_field_type",
            "must be one of {allowed} (in any letter case)",
            {"allowed": ", ".join(EdmType)},
        )
    return edm_type


class EntityType(StrEnum):
    """The swagger's EntityTypes enum (not extensible)."""

    NONE = "None"
    PROFILE = "Profile"
    INTERACTION = "Interaction"
    RELATIONSHIP = "Relationship"


class ParticipantPropertyReference(_WireModel):
    """Maps an interaction property onto a profile property."""

    source_property_name: Name
    target_property_name: Name


class Participant(_WireModel):
    """A profile taking part in the interaction."""

    participant_name: Name
    profile_type_name: Name
    participant_property_references: list[ParticipantPropertyReference]
    display_name: LocalizedText | None = None
    description: LocalizedText | None = None
    role: Name | None = None


class EnumValidValue(_WireModel):
    """One member of an enum field (swagger ProfileEnumValidValuesFormat)."""

    value: Int32 | None = None
    localized_value_names: LocalizedText | None = None


class PropertyDefinition(_WireModel):
    """One field of the interaction type."""

    read_only_keys = frozenset({"dataSourcePrecedenceRules"})

    field_name: Name
    field_type: Annotated[EdmType, BeforeValidator(_edm_type)]
    array_value_separator: str | None = None
    enum_valid_values: list[EnumValidValue] | None = None
    is_array: bool | None = None
    is_enum: bool | None = None
    is_flag_enum: bool | None = None
    is_image: bool | None = None
    is_localized_string: bool | None = None
    is_name: bool | None = None
    is_required: bool | None = None
    property_id: str | None = None
    schema_item_prop_link: str | None = None
    max_length: Annotated[int, Field(gt=0, le=INT32_MAX)] | None = None
    is_available_in_graph: bool | None = None


class DataSource(_WireModel):
    """A data source as ARM reports it; every one of its fields is read-only."""

    name: str | None = None
    data_source_type: str | None = None
    status: str | None = None
    id: int | None = None
    data_source_reference_id: str | None = None


def is_wrapped_form(data: object) -> bool:
    """Whether a definition is in the swagger's `{"properties": {...}}` shape rather than flat."""
    return isinstance(data, dict) and "properties" in data


class InteractionTypeDefinition(_WireModel):
    """An interaction type's properties, read from the flat or the wrapped wire shape."""

    # Only what the swagger marks readOnly is dropped. entityType, instancesCount, typeName and
    # propertyId are usually filled by the server but are writable in the contract, so a value
    # the caller wrote is passed on rather than silently discarded.
    read_only_keys = frozenset(
        {"provisioningState", "tenantId", "lastChangedUtc", "dataSourcePrecedenceRules"}
    )

    id_property_names: list[Name] | None = None
    participant_profiles: list[Participant] | None = None
    primary_participant_profile_property_name: Name | None = None
    # Accepted so that a GET body can be sent back, but never sent: all of DataSource is
    # read-only, so ARM could only be given `{}`, which says nothing and would make two equal
    # definitions hash differently.
    default_data_source: DataSource | None = Field(default=None, exclude=True)
    is_activity: bool | None = None
    api_entity_set_name: Name | None = None
    # JSON gives the enum as a string, which strict mode alone would refuse.
    entity_type: Annotated[EntityType, Strict(False)] | None = None
    fields: list[PropertyDefinition] | None = None
    instances_count: Count | None = None
    schema_item_type_link: str | None = None
    timestamp_field_name: Name | None = None
    type_name: Name | None = None
    attributes: dict[str, list[str]] | None = None
    description: LocalizedText | None = None
    display_name: LocalizedText | None = None
    localized_attributes: dict[str, LocalizedText] | None = None
    small_image: str | None = None
    medium_image: str | None = None
    large_image: str | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _accept_wrapped_form(
        cls,
        data: Any,
        handler: ModelWrapValidatorHandler[InteractionTypeDefinition],
        info: ValidationInfo,
    ) -> InteractionTypeDefinition:
        # Inside the wrapper the definition must be flat, so {"properties": {"properties": …}}
        # is refused rather than unwrapped twice. Errors keep their `properties` path step.
        if info.field_name != "properties" and is_wrapped_form(data):
            return _WrappedDefinition.model_validate(data).properties
        return handler(data)

    def to_arm_body(self) -> dict[str, Any]:
        """The PUT body ARM expects: wrapped, camelCase, without unset fields."""
        return {"properties": self.model_dump(mode="json", by_alias=True, exclude_none=True)}


class _WrappedDefinition(_WireModel):
    """The swagger's resource shape; its keys other than `properties` are all server-owned."""

    read_only_keys = frozenset({"id", "name", "type", "systemData"})

    properties: InteractionTypeDefinition


class ProvisioningRequest(_WireModel):
    """A request to create or update an interaction type, as every intake carries it."""

    target: Target
    definition: InteractionTypeDefinition
    request_id: RequestId | None = None
    # PUT even when the read finds the definition in effect (shared/convergence.py).
    force: bool = False
    # Answer with the change a PUT would make and start nothing: HTTP only.
    what_if: bool = False

    def definition_hash(self) -> str:
        """SHA-256 of the canonical ARM body: equal for equal definitions in either wire shape."""
        canonical = json.dumps(
            self.definition.to_arm_body(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
