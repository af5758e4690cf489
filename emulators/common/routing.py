"""Maps method and path templates such as `/hubs/{hub}/interactions/{name}` to handlers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.common.messages import Handler, Request, Response

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class NoRouteError(Exception):
    """No route matches; `allowed` lists the methods the path accepts (empty: unknown path)."""

    def __init__(self, method: str, path: str, allowed: frozenset[str]) -> None:
        super().__init__(f"no route for {method} {path}")
        self.method = method
        self.path = path
        self.allowed = allowed


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """An ordered table of routes; the first whose method and template match wins.

    A `{name}` placeholder matches one non-empty path segment. Literal segments compare
    case-insensitively when `case_sensitive=False` (ARM treats its paths that way).
    """

    def __init__(self, *, case_sensitive: bool = True) -> None:
        self._flags = 0 if case_sensitive else re.IGNORECASE
        self._routes: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register `handler` for `method` (upper case) on paths matching `template`."""
        self._routes.append(_Route(method.upper(), self._compile(template), handler))

    def dispatch(self, request: Request) -> Response:
        """Call the matching handler with the path parameters filled in; raise `NoRouteError`."""
        allowed: set[str] = set()
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if route.method == request.method:
                return route.handler(request.with_params(match.groupdict()))
            allowed.add(route.method)
        raise NoRouteError(request.method, request.path, frozenset(allowed))

    def _compile(self, template: str) -> re.Pattern[str]:
        pieces: list[str] = []
        position = 0
        for match in _PARAMETER.finditer(template):
            pieces.append(re.escape(template[position : match.start()]))
            pieces.append(f"(?P<{match.group(1)}>[^/]+)")
            position = match.end()
        pieces.append(re.escape(template[position:]))
        return re.compile("".join(pieces), self._flags)
