"""Index a v2-model app the way the Python worker does: import `function_app.py`, find its one
FunctionRegister, call `get_functions()` once and keep each function's bindings and callable."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions.decorators.function_app import FunctionRegister

SCRIPT_FILE = "function_app.py"

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
    """A function of the app with its trigger, other bindings and the callable the worker calls."""

    name: str
    trigger: Binding
    bindings: tuple[Binding, ...]
    user_function: Callable[..., Any]

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

    @property
    def is_async(self) -> bool:
        """Whether the callable is a coroutine function (awaited on the host loop)."""
        return inspect.iscoroutinefunction(self.user_function)


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


def load_function_index(app_dir: Path) -> FunctionIndex:
    """Import `<app_dir>/function_app.py` afresh and index its functions."""
    module = import_function_app(app_dir)
    return index_module(module)


def import_function_app(app_dir: Path) -> ModuleType:
    """Execute function_app.py as the module `function_app`, with app_dir importable.

    Each call executes the file again, so each host gets its own app object; modules the app
    imports stay cached by Python as usual.
    """
    script = app_dir / SCRIPT_FILE
    if not script.is_file():
        raise IndexingError(f"{script} not found: --app-dir must hold the app's {SCRIPT_FILE}")
    app_path = str(app_dir.resolve())
    if app_path not in sys.path:
        sys.path.insert(0, app_path)
    spec = importlib.util.spec_from_file_location("function_app", script)
    if spec is None or spec.loader is None:  # cannot happen for a .py path; keeps mypy sure
        raise IndexingError(f"{script} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise IndexingError(f"importing {script} failed: {type(err).__name__}: {err}") from err
    return module


def index_module(module: ModuleType) -> FunctionIndex:
    """Index the single FunctionRegister found at the top level of `module`."""
    registers = [
        (name, value) for name, value in vars(module).items() if isinstance(value, FunctionRegister)
    ]
    if len(registers) != 1:
        found = ", ".join(name for name, _ in registers) or "none"
        raise IndexingError(
            f"{module.__file__} must define exactly one FunctionApp (or DFApp) at top level; "
            f"found {len(registers)}: {found}"
        )
    app = registers[0][1]
    try:
        functions = app.get_functions()  # may be called only once per app object
    except ValueError as err:
        raise IndexingError(f"the app's functions are invalid: {err}") from err
    indexed = [_index_function(f) for f in functions]
    return FunctionIndex(functions={f.name: f for f in indexed})


def _index_function(function: Any) -> IndexedFunction:
    name = function.get_function_name()
    bindings = tuple(_binding(json.loads(raw)) for raw in function.get_raw_bindings())
    triggers = [b for b in bindings if b.type.endswith("Trigger")]
    if len(triggers) != 1:
        raise IndexingError(f"function {name!r} must have exactly one trigger")
    trigger = triggers[0]
    _check_supported(name, trigger, bindings)
    if trigger.type == "orchestrationTrigger" and trigger.name != "context":
        # The SDK's handle takes a parameter named `context` and is called by binding name.
        raise IndexingError(
            f"orchestrator {name!r}: context_name must be 'context', not {trigger.name!r}"
        )
    user_function = function.get_user_function()
    _check_parameters(name, user_function, bindings)
    return IndexedFunction(
        name=name, trigger=trigger, bindings=bindings, user_function=user_function
    )


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


def _check_parameters(
    name: str, user_function: Callable[..., Any], bindings: tuple[Binding, ...]
) -> None:
    # The worker calls by binding name, so every required parameter needs a binding.
    bound = {b.name for b in bindings}
    unbound = [
        p.name
        for p in inspect.signature(user_function).parameters.values()
        if p.name not in bound
        and p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if unbound:
        raise IndexingError(
            f"function {name!r}: parameter(s) {', '.join(unbound)} have no binding "
            "(the local host does not inject func.Context)"
        )
