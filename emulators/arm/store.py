"""In-memory interactions and their operations, behind one lock.

Contract: a PUT stores the new definition at once (hidden while a hidden creation runs) and
starts an operation unless the scenario is `sync`; every resource GET and every operation read
counts as a status read of the resource's current operation, and the read that finishes it
moves the resource to the final state and makes it visible. Lists do not count.

With a `state_file`, every change is written there (whole, by rename) and read back on start,
so a restarted emulator still knows the operations an app is polling: Azure does not forget an
operation because a client restarted.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from emulators.arm.operations import Operation, ResourceKey
from emulators.arm.resources import InteractionRecord
from emulators.arm.scenarios import Scenario
from emulators.common import Clock, iso_utc


@dataclass(frozen=True)
class Names:
    """Names in the casing a request used."""

    subscription: str
    resource_group: str
    hub: str
    name: str


@dataclass(frozen=True)
class PutResult:
    """What a PUT did: the stored record, its operation (None for `sync`) and create or update."""

    record: InteractionRecord
    operation: Operation | None
    created: bool


class InteractionStore:
    """Interactions keyed case-insensitively, and every operation started since the last reset."""

    def __init__(self, *, clock: Clock, state_file: Path | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[ResourceKey, InteractionRecord] = {}
        self._operations: dict[str, Operation] = {}
        self._current: dict[ResourceKey, str] = {}
        self._state_file = state_file
        if state_file is not None and state_file.exists():
            self._load(json.loads(state_file.read_text(encoding="utf-8")))

    def visible_state(self, key: ResourceKey) -> str | None:
        """The provisioning state a client can see, or None when the resource is not visible."""
        with self._lock:
            record = self._records.get(key)
            return record.provisioning_state if record is not None and record.visible else None

    def put(
        self, key: ResourceKey, names: Names, properties: dict[str, Any], scenario: Scenario
    ) -> PutResult:
        """Store a definition and start its operation as the scenario says."""
        with self._lock:
            now = self._clock()
            existing = self._records.get(key)
            created = existing is None or not existing.visible
            operation = None
            if scenario.mode != "sync":
                operation = Operation(
                    id=str(uuid.uuid4()),
                    key=key,
                    subscription=names.subscription,
                    scenario=scenario,
                    started_at=now,
                )
            # Responses keep the casing of the PUT that created the resource.
            shown = names if existing is None else _names_of(existing)
            record = InteractionRecord(
                subscription=shown.subscription,
                resource_group=shown.resource_group,
                hub=shown.hub,
                name=shown.name,
                properties=dict(properties),
                provisioning_state="Succeeded" if operation is None else "Provisioning",
                visible=not (created and operation is not None and scenario.hidden_until_done),
                last_changed=iso_utc(now),
            )
            self._records[key] = record
            if operation is None:
                self._current.pop(key, None)
            else:
                self._operations[operation.id] = operation
                self._current[key] = operation.id
            self._save()
            return PutResult(record, _copy(operation), created)

    def get(self, key: ResourceKey) -> InteractionRecord | None:
        """The visible resource after counting a status read; None when absent or hidden."""
        with self._lock:
            operation_id = self._current.get(key)
            if operation_id is not None:
                self._observe(self._operations[operation_id])
                self._save()
            record = self._records.get(key)
            return record if record is not None and record.visible else None

    def list(self, subscription: str, resource_group: str, hub: str) -> list[InteractionRecord]:
        """The visible resources of one hub, by name."""
        parent = (subscription.lower(), resource_group.lower(), hub.lower())
        with self._lock:
            found = [
                record
                for key, record in self._records.items()
                if (key.subscription, key.resource_group, key.hub) == parent and record.visible
            ]
        return sorted(found, key=lambda record: record.name.lower())

    def poll(
        self, operation_id: str, subscription: str
    ) -> tuple[Operation, InteractionRecord] | None:
        """Count a status read of an operation; its state and the resource, or None if there is
        no such operation in `subscription` (then nothing is counted, as nothing was read)."""
        with self._lock:
            operation = self._operations.get(operation_id)
            if operation is None or operation.subscription.lower() != subscription.lower():
                return None
            self._observe(operation)
            self._save()
            return replace(operation), self._records[operation.key]

    def hub_of_operation(self, operation_id: str) -> str | None:
        """The (lower-cased) hub an operation belongs to."""
        with self._lock:
            operation = self._operations.get(operation_id)
            return None if operation is None else operation.key.hub

    def clear(self) -> None:
        """Forget every resource and operation."""
        with self._lock:
            self._records.clear()
            self._operations.clear()
            self._current.clear()
            self._save()

    def _save(self) -> None:
        """Write the whole state to the state file, if any; called with the lock held."""
        if self._state_file is None:
            return
        state = {
            "records": [[asdict(key), asdict(record)] for key, record in self._records.items()],
            "operations": [
                {**asdict(operation), "scenario": operation.scenario.model_dump()}
                for operation in self._operations.values()
            ],
            "current": [[asdict(key), operation_id] for key, operation_id in self._current.items()],
        }
        temporary = self._state_file.with_name(f".{self._state_file.name}.tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        os.replace(temporary, self._state_file)

    def _load(self, state: dict[str, Any]) -> None:
        for key, record in state["records"]:
            self._records[ResourceKey(**key)] = InteractionRecord(**record)
        for fields in state["operations"]:
            operation = Operation(
                **{
                    **fields,
                    "key": ResourceKey(**fields["key"]),
                    "scenario": Scenario.model_validate(fields["scenario"]),
                }
            )
            self._operations[operation.id] = operation
        for key, operation_id in state["current"]:
            self._current[ResourceKey(**key)] = operation_id

    def _observe(self, operation: Operation) -> None:
        now = self._clock()
        if not operation.observe(now):
            return
        # A later PUT supersedes this operation; only the current one moves the resource on.
        if self._current.get(operation.key) != operation.id:
            return
        record = self._records[operation.key]
        self._records[operation.key] = replace(
            record,
            provisioning_state=operation.final_state,
            visible=True,
            last_changed=iso_utc(now),
        )
        del self._current[operation.key]


def _names_of(record: InteractionRecord) -> Names:
    return Names(record.subscription, record.resource_group, record.hub, record.name)


def _copy(operation: Operation | None) -> Operation | None:
    return None if operation is None else replace(operation)
