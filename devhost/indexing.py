"""The app's functions as the worker reports them: each function's trigger and bindings.

With worker indexing the host never imports the app: the worker indexes `function_app.py` and
answers `FunctionsMetadataRequest` with each function's `raw_bindings` (the JSON of every
binding). This module reads those and refuses what the local host cannot serve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devhost.rpc import function_rpc_pb2 as pb

TRIGGER_TYPES = frozenset(
    {"httpTrigger", "queueTrigger", "eventGridTrigger", "orchestrationTrigger", "activityTrigger"}
)
OUTPUT_TYPES = frozenset({"http", "queue", "eventGrid"})
INPUT_TYPES = frozenset({"durableClient"})


class IndexingError(Exception):
    """The app cannot be indexed; the message says what to change."""


@dataclass(frozen=True)
class Binding:
    """One binding as the worker reports it (`get_raw_bindings()`): type, name, direction, rest."""

    type: str
    name: str
    direction: str  # "IN", "OUT" or "INOUT"
    properties: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """A binding property such as `queueName` or `route`."""
        return self.properties.get(key, default)


@dataclass(frozen=True)
class IndexedFunction:
    """A function of the app with its trigger and its other bindings."""

    name: str
    trigger: Binding
    bindings: tuple[Binding, ...]

    @property
    def trigger_type(self) -> str:
        """E.g. `httpTrigger` or `queueTrigger`."""
        return self.trigger.type

    @property
    def outputs(self) -> tuple[Binding, ...]:
        """Output bindings, `$return` included."""
        return tuple(b for b in self.bindings if b.direction == "OUT")

    @property
    def inputs(self) -> tuple[Binding, ...]:
        """Input bindings other than the trigger."""
        return tuple(b for b in self.bindings if b.direction == "IN" and b is not self.trigger)


@dataclass(frozen=True)
class FunctionIndex:
    """All functions of one app, by name."""

    functions: Mapping[str, IndexedFunction]

    def __getitem__(self, name: str) -> IndexedFunction:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(
                f"no function named {name!r}; the app has {', '.join(sorted(self.functions))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.functions

    def of_trigger(self, trigger_type: str) -> list[IndexedFunction]:
        """Functions with the given trigger type, in name order."""
        return [f for _, f in sorted(self.functions.items()) if f.trigger_type == trigger_type]


def index_metadata(functions: Mapping[str, pb.RpcFunctionMetadata]) -> FunctionIndex:
    """The index of what the worker loaded, by function name."""
    return FunctionIndex(functions={name: _index_function(f) for name, f in functions.items()})


def _index_function(metadata: pb.RpcFunctionMetadata) -> IndexedFunction:
    name = metadata.name
    bindings = tuple(_binding(json.loads(raw)) for raw in metadata.raw_bindings)
    triggers = [b for b in bindings if b.type.endswith("Trigger")]
    if len(triggers) != 1:
        raise IndexingError(f"function {name!r} must have exactly one trigger")
    trigger = triggers[0]
    _check_supported(name, trigger, bindings)
    return IndexedFunction(name=name, trigger=trigger, bindings=bindings)


def _binding(raw: Mapping[str, Any]) -> Binding:
    properties = {k: v for k, v in raw.items() if k not in ("type", "name", "direction")}
    return Binding(
        type=raw["type"], name=raw["name"], direction=raw["direction"], properties=properties
    )


def _check_supported(name: str, trigger: Binding, bindings: tuple[Binding, ...]) -> None:
    if trigger.type not in TRIGGER_TYPES:
        raise IndexingError(
            f"function {name!r}: trigger {trigger.type!r} is not supported by the local host "
            f"(supported: {', '.join(sorted(TRIGGER_TYPES))})"
        )
    for b in bindings:
        if b is trigger:
            continue
        supported = OUTPUT_TYPES if b.direction == "OUT" else INPUT_TYPES
        if b.type not in supported:
            raise IndexingError(
                f"function {name!r}: {b.direction.lower()} binding {b.name!r} of type {b.type!r} "
                f"is not supported by the local host (supported: {', '.join(sorted(supported))})"
            )
