"""HTTP trigger route templates (`items/{id}`, `{id:int}`, `{id?}`, `{*rest}`) and matching.

The Functions host uses ASP.NET route templates: literal segments match case-insensitively,
more specific templates win over less specific ones, and a method that a function does not
accept means the route does not match (404), not 405.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

# The constraints apps commonly use; others are refused at start rather than ignored.
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}",
}
_PARAMETER = re.compile(r"^\{(?P<star>\*)?(?P<name>[A-Za-z_]\w*)(?::(?P<c>\w+))?(?P<opt>\?)?\}$")

# Precedence of a segment kind: lower sorts first (more specific).
_LITERAL, _CONSTRAINED, _PLAIN, _OPTIONAL, _CATCH_ALL = range(5)


class RouteError(ValueError):
    """A route template the host cannot serve."""


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled route template."""

    template: str
    pattern: re.Pattern[str]
    precedence: tuple[int, ...]


@dataclass(frozen=True)
class Route:
    """A route template bound to the function and methods that serve it."""

    template: RouteTemplate
    function_name: str
    methods: frozenset[str] | None  # None: every method


def compile_template(template: str) -> RouteTemplate:
    """Compile a route template; raises RouteError naming the bad segment."""
    segments = [s for s in template.strip("/").split("/") if s] if template.strip("/") else []
    parts: list[str] = []
    precedence: list[int] = []
    for index, segment in enumerate(segments):
        regex, kind = _segment(segment, template, last=index == len(segments) - 1)
        parts.append(regex)
        precedence.append(kind)
    # Optional and catch-all segments swallow their own leading slash.
    body = "".join(p if p.startswith("(?:/") else "/" + p for p in parts)
    return RouteTemplate(
        template=template,
        pattern=re.compile(f"^{body}/?$", re.IGNORECASE),
        precedence=tuple(precedence),
    )


def _segment(segment: str, template: str, *, last: bool) -> tuple[str, int]:
    match = _PARAMETER.match(segment)
    if match is None:
        if "{" in segment or "}" in segment:
            raise RouteError(f"route {template!r}: segment {segment!r} is not supported")
        return re.escape(segment), _LITERAL
    name, constraint = match["name"], match["c"]
    if match["star"]:
        if not last:
            raise RouteError(
                f"route {template!r}: a catch-all {{*{name}}} must be the last segment"
            )
        return f"(?:/(?P<{name}>.*))?", _CATCH_ALL
    if constraint is not None and constraint not in _CONSTRAINTS:
        raise RouteError(
            f"route {template!r}: constraint {constraint!r} is not supported "
            f"(supported: {', '.join(sorted(_CONSTRAINTS))})"
        )
    value = _CONSTRAINTS.get(constraint or "", "[^/]+")
    if match["opt"]:
        if not last:
            raise RouteError(f"route {template!r}: optional {{{name}?}} must be the last segment")
        return f"(?:/(?P<{name}>{value}))?", _OPTIONAL
    return f"(?P<{name}>{value})", _CONSTRAINED if constraint else _PLAIN


class RouteTable:
    """Routes ordered by specificity; `match` finds the function for a method and path."""

    def __init__(self, routes: list[Route]) -> None:
        seen: dict[tuple[str, frozenset[str] | None], str] = {}
        for route in routes:
            key = (route.template.pattern.pattern.lower(), route.methods)
            if key in seen:
                raise RouteError(
                    f"functions {seen[key]!r} and {route.function_name!r} "
                    f"both serve route {route.template.template!r}"
                )
            seen[key] = route.function_name
        self._routes = sorted(routes, key=lambda r: r.template.precedence)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route serving `method path` (path relative to the prefix) and its parameters."""
        path = "/" + path.strip("/") if path.strip("/") else ""
        for route in self._routes:
            found = route.template.pattern.match(path)
            if found is None:
                continue
            if route.methods is not None and method.upper() not in route.methods:
                continue
            params = {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
            return route, params
        return None


def split_prefix(path: str, prefix: str) -> str | None:
    """The path below the route prefix, or None when the path is outside it."""
    path = path.strip("/")
    if not prefix:
        return path
    if path.lower() == prefix.lower():
        return ""
    head = prefix.lower() + "/"
    return path[len(head) :] if path.lower().startswith(head) else None
