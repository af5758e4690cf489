"""The clock type the emulators inject so time-dependent rules can be tested without waiting."""

from collections.abc import Callable
from typing import TypeAlias

Clock: TypeAlias = Callable[[], float]
"""Returns the current time in seconds since the epoch, like `time.time`."""
