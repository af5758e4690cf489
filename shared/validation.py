"""Turns what an intake received into a ProvisioningRequest, or into every problem with it.

Paths in problems are JSONPath: `$` is the JSON the caller sent, which is the envelope for the
queue, Event Grid and `POST /api/interactions`, and the body (the definition) for
`PUT /api/hubs/{hub}/interactions/{name}`. That route's values from outside the body (path
segments, query parameters, headers) are reported under `$route`, by their envelope names:
`$route.hub`, `$route.interactionName`, `$route.subscriptionId`, `$route.resourceGroup`,
`$route.requestId`.

Checks run in two stages. The schema stage reports every type, required-field and unknown-field
problem at once. The semantic stage (the cross-field rules below) runs when the definition
satisfies the schema: rules about a definition that does not parse would mostly echo the schema
problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple, NoReturn

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from shared.errors import InvalidRequest, ProblemCode
from shared.models import (
    EdmType,
    InteractionTypeDefinition,
    ProvisioningRequest,
    RequestId,
    Target,
    is_wrapped_form,
)
from shared.problems import Problem

_Loc = tuple[str | int, ...]
_PathOf = Callable[[_Loc], str]

# Where a missing subscription or resource group would have come from.
_SETTING_FOR_TARGET_KEY = {
    "subscriptionId": "DEFAULT_SUBSCRIPTION_ID",
    "resourceGroup": "DEFAULT_RESOURCE_GROUP",
}

# Pydantic's wording names Python types; callers send JSON.
_SCHEMA_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field; check its spelling",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
}
_SCHEMA_CODES = {"extra_forbidden": "unknown_field"}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def decode_json(raw: bytes | str, where: str) -> object:
    """Decode JSON text; `where` names it in problems, e.g. "request body" or "queue message"."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            _reject(f"the {where} is not UTF-8 text ({error.reason} at byte {error.start})")
    # Windows tools often start a file with a byte-order mark; it says nothing about the JSON.
    text = raw.removeprefix("\ufeff")
    if not text.strip():
        _reject(f"the {where} is empty; expected a JSON object")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        _reject(
            f"the {where} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        )
    except ValueError as error:
        _reject(f"the {where} is not valid JSON: {error}")
    except RecursionError:
        _reject(f"the {where} is nested too deeply to read")


def parse_envelope(
    data: object,
    *,
    default_subscription_id: str | None,
    default_resource_group: str | None,
) -> ProvisioningRequest:
    """Validate `{"target", "definition", "requestId"}` from a queue message, event or POST body.

    `target.subscriptionId` and `target.resourceGroup` may be left out; the defaults fill them.
    """
    if not isinstance(data, dict):
        raise InvalidRequest(
            [Problem(path="$", message="must be a JSON object", code=ProblemCode.MODEL_TYPE)]
        )
    wire = dict(data)
    if isinstance(wire.get("target"), dict):
        wire["target"] = _with_defaults(
            wire["target"],
            subscription_id=default_subscription_id,
            resource_group=default_resource_group,
        )
    return _validate(wire, _envelope_path)


def parse_route_request(
    *,
    hub: str,
    interaction_name: str,
    body: object,
    subscription_id: str | None,
    resource_group: str | None,
    request_id: str | None,
    default_subscription_id: str | None,
    default_resource_group: str | None,
) -> ProvisioningRequest:
    """Validate `PUT /api/hubs/{hub}/interactions/{name}`, whose body is the definition."""
    target = _with_defaults(
        {
            "subscriptionId": subscription_id,
            "resourceGroup": resource_group,
            "hub": hub,
            "interactionName": interaction_name,
        },
        subscription_id=default_subscription_id,
        resource_group=default_resource_group,
    )
    wire: dict[str, object] = {"target": target, "definition": body}
    if request_id is not None:
        wire["requestId"] = request_id
    return _validate(wire, _route_path)


def _validate(wire: dict[str, object], path_of: _PathOf) -> ProvisioningRequest:
    _require_encodable(wire)
    problems: list[Problem] = []
    request: ProvisioningRequest | None = None
    definition: InteractionTypeDefinition | None = None
    try:
        request = ProvisioningRequest.model_validate(wire)
        definition = request.definition
    except ValidationError as error:
        problems.extend(_schema_problem(detail, path_of) for detail in error.errors())
        # The target may be what failed; the definition can still be checked on its own.
        definition = _definition_or_none(wire.get("definition"))
    if definition is not None:
        base: _Loc = (
            ("definition", "properties") if is_wrapped_form(wire["definition"]) else ("definition",)
        )
        problems.extend(
            Problem(
                path=path_of(base + violation.loc), message=violation.message, code=violation.code
            )
            for violation in _violations(definition)
        )
    if request is None or problems:
        raise InvalidRequest(problems)
    return request


_REQUEST_ID: TypeAdapter[str] = TypeAdapter(RequestId)


def salvage_target(
    raw: bytes | str | object,
    *,
    default_subscription_id: str | None,
    default_resource_group: str | None,
) -> tuple[Target | None, str | None]:
    """The target and request id of an envelope that failed validation, where they are valid.

    Used to address a rejection (event subject, request id) as precisely as the input allows.
    """
    data = raw
    if isinstance(raw, bytes | str):
        try:
            data = decode_json(raw, "message")
        except InvalidRequest:
            return None, None
    if not isinstance(data, Mapping):
        return None, None
    target: Target | None = None
    raw_target = data.get("target")
    if isinstance(raw_target, Mapping):
        try:
            target = Target.model_validate(
                _with_defaults(
                    raw_target,
                    subscription_id=default_subscription_id,
                    resource_group=default_resource_group,
                )
            )
        except ValidationError:
            target = None
    try:
        request_id: str | None = _REQUEST_ID.validate_python(data.get("requestId"))
    except ValidationError:
        request_id = None
    return target, request_id


def _require_encodable(wire: dict[str, object]) -> None:
    """Refuse text that JSON can carry but UTF-8 cannot (a lone surrogate such as \\ud800).

    Everything accepted is hashed and sent on as UTF-8, so it must encode.
    """
    try:
        json.dumps(wire, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        _reject("the request contains text that is not valid Unicode (an unpaired surrogate)")
    except RecursionError:
        _reject("the request is nested too deeply to read")


def _with_defaults(
    target: Mapping[str, object], *, subscription_id: str | None, resource_group: str | None
) -> dict[str, object]:
    """The target with absent or null values dropped and the two defaultable ones filled in."""
    filled = {key: value for key, value in target.items() if value is not None}
    defaults = (
        ("subscriptionId", "subscription_id", subscription_id),
        ("resourceGroup", "resource_group", resource_group),
    )
    for alias, name, default in defaults:
        if alias not in filled and name not in filled and default is not None:
            filled[alias] = default
    return filled


def _definition_or_none(raw: object) -> InteractionTypeDefinition | None:
    try:
        return InteractionTypeDefinition.model_validate(raw)
    except ValidationError:
        return None


def _schema_problem(detail: ErrorDetails, path_of: _PathOf) -> Problem:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    message = _SCHEMA_MESSAGES.get(kind, detail["msg"].replace("Input should be", "must be", 1))
    match kind, loc:
        case "missing", ("target", str(key)) if key in _SETTING_FOR_TARGET_KEY:
            setting = _SETTING_FOR_TARGET_KEY[key]
            message = f"is required: give it in the request or set the {setting} setting"
    return Problem(path=path_of(loc), message=message, code=_SCHEMA_CODES.get(kind, kind))


def _json_path(root: str, loc: Iterable[str | int]) -> str:
    steps = [root]
    for step in loc:
        if isinstance(step, int):
            steps.append(f"[{step}]")
        elif _IDENTIFIER.fullmatch(step):
            steps.append(f".{step}")
        else:
            quoted = step.replace("\\", "\\\\").replace("'", "\\'")
            steps.append(f"['{quoted}']")
    return "".join(steps)


def _envelope_path(loc: _Loc) -> str:
    return _json_path("$", loc)


def _route_path(loc: _Loc) -> str:
    head, rest = loc[0], loc[1:]
    if head == "definition":
        return _json_path("$", rest)
    if head == "target":
        return _json_path("$route", rest)
    return _json_path("$route", loc)


def _reject(message: str) -> NoReturn:
    raise InvalidRequest([Problem(path="$", message=message, code=ProblemCode.INVALID_JSON)])


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


# Semantic rules. Each yields violations at a path relative to the flat definition.


class _Violation(NamedTuple):
    loc: _Loc
    message: str
    code: str


def _violations(definition: InteractionTypeDefinition) -> Iterator[_Violation]:
    yield from _field_violations(definition)
    yield from _participant_violations(definition)
    yield from _reference_violations(definition)


def _field_violations(definition: InteractionTypeDefinition) -> Iterator[_Violation]:
    fields = definition.fields or []
    if not fields:
        yield _Violation(("fields",), "must list at least one field", "no_fields")
    first_index: dict[str, int] = {}
    for index, field in enumerate(fields):
        here = ("fields", index)
        # Case-insensitive, like the OData entity properties the fields become.
        folded = field.field_name.casefold()
        if folded in first_index:
            yield _Violation(
                (*here, "fieldName"),
                f"repeats the name of fields[{first_index[folded]}] "
                "(field names are compared case-insensitively)",
                "duplicate_field_name",
            )
        else:
            first_index[folded] = index
        if field.max_length is not None and field.field_type is not EdmType.STRING:
            yield _Violation(
                (*here, "maxLength"),
                f"applies only to Edm.String fields, and this one is {field.field_type}",
                "max_length_not_string",
            )
        if field.array_value_separator is not None and field.is_array is not True:
            yield _Violation(
                (*here, "arrayValueSeparator"),
                "applies only to fields with isArray: true",
                "separator_without_array",
            )
        # An empty list states no members, so only a non-empty one needs an enum field.
        if field.enum_valid_values and not (field.is_enum or field.is_flag_enum):
            yield _Violation(
                (*here, "enumValidValues"),
                "applies only to fields with isEnum or isFlagEnum: true",
                "enum_values_without_enum",
            )


def _participant_violations(definition: InteractionTypeDefinition) -> Iterator[_Violation]:
    first_index: dict[str, int] = {}
    for index, participant in enumerate(definition.participant_profiles or []):
        folded = participant.participant_name.casefold()
        if folded in first_index:
            yield _Violation(
                ("participantProfiles", index, "participantName"),
                f"repeats the name of participantProfiles[{first_index[folded]}] "
                "(names are compared case-insensitively)",
                "duplicate_participant_name",
            )
        else:
            first_index[folded] = index


def _reference_violations(definition: InteractionTypeDefinition) -> Iterator[_Violation]:
    field_names = [field.field_name for field in definition.fields or []]
    participant_names = [p.participant_name for p in definition.participant_profiles or []]
    for index, name in enumerate(definition.id_property_names or []):
        if name not in field_names:
            yield _unknown_reference(("idPropertyNames", index), name, field_names, "a field")
    timestamp = definition.timestamp_field_name
    if timestamp is not None and timestamp not in field_names:
        yield _unknown_reference(("timestampFieldName",), timestamp, field_names, "a field")
    primary = definition.primary_participant_profile_property_name
    if primary is not None and primary not in field_names + participant_names:
        yield _unknown_reference(
            ("primaryParticipantProfilePropertyName",),
            primary,
            field_names + participant_names,
            "a field or a participant",
        )


def _unknown_reference(loc: _Loc, name: str, known: list[str], kind: str) -> _Violation:
    # References must match exactly: nothing in the contract says ARM resolves them by case.
    near = [candidate for candidate in known if candidate.casefold() == name.casefold()]
    hint = f"; did you mean '{near[0]}'? names must match exactly" if near else ""
    return _Violation(loc, f"'{name}' is not the name of {kind}{hint}", "unknown_reference")
