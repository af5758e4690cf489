"""The long-running operation behind a PUT: counts status reads and decides when it is done."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulators.arm.scenarios import FinalState, Scenario

IN_PROGRESS = "InProgress"


@dataclass(frozen=True)
class ResourceKey:
    """An interaction's identity, lower-cased because ARM names are case-insensitive."""

    subscription: str
    resource_group: str
    hub: str
    name: str

    @classmethod
    def of(cls, subscription: str, resource_group: str, hub: str, name: str) -> ResourceKey:
        """The key for names in any casing."""
        return cls(subscription.lower(), resource_group.lower(), hub.lower(), name.lower())


@dataclass
class Operation:
    """One PUT's operation; `observe` is called for every status read.

    Done after `scenario.polls_until_done` reads, or after `scenario.duration_seconds` of clock
    time when that is set; once done it stays done.
    """

    id: str
    key: ResourceKey
    subscription: str
    scenario: Scenario
    started_at: float
    reads: int = 0
    finished_at: float | None = field(default=None)

    @property
    def status(self) -> str:
        """`InProgress` or the scenario's final state."""
        return IN_PROGRESS if self.finished_at is None else self.scenario.final_state

    @property
    def final_state(self) -> FinalState:
        """The state the operation ends in."""
        return self.scenario.final_state

    def observe(self, now: float) -> bool:
        """Count one status read at `now`; True when this read is the one that finishes it."""
        if self.finished_at is not None:
            return False
        self.reads += 1
        if self.scenario.duration_seconds is not None:
            done = now - self.started_at >= self.scenario.duration_seconds
        else:
            done = self.reads >= self.scenario.polls_until_done
        if done:
            self.finished_at = now
        return done
