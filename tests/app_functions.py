"""The app's functions as its decorators declare them, read once per test process."""

from __future__ import annotations

from functools import lru_cache

from azure.functions.decorators.function_app import Function


@lru_cache(maxsize=1)
def app_functions() -> tuple[Function, ...]:
    """function_app.app.get_functions(), cached: it registers the functions and refuses a
    second call in the same process (duplicate function names)."""
    import function_app

    return tuple(function_app.app.get_functions())
