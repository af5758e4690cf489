"""The router: templates, path parameters, case handling and what it says when nothing fits."""

from __future__ import annotations

import pytest

from emulators.common import NoRouteError, Request, Response, Router, json_response


def echo_params(request: Request) -> Response:
    """Answer with the path parameters the router filled in."""
    return json_response(200, dict(request.params))


class TestRouter:
    def test_placeholders_become_path_parameters(self) -> None:
        """Each `{name}` captures one path segment."""
        router = Router()
        router.add("GET", "/hubs/{hub}/interactions/{name}", echo_params)
        response = router.dispatch(Request("GET", "/hubs/h1/interactions/visit"))
        assert response.json() == {"hub": "h1", "name": "visit"}

    def test_placeholder_does_not_span_segments(self) -> None:
        """A slash inside a would-be parameter means no match."""
        router = Router()
        router.add("GET", "/hubs/{hub}", echo_params)
        with pytest.raises(NoRouteError) as caught:
            router.dispatch(Request("GET", "/hubs/a/b"))
        assert caught.value.allowed == frozenset()

    def test_case_insensitive_router_matches_literals_in_any_case(self) -> None:
        """ARM-style routing ignores the case of literal segments and keeps parameter casing."""
        router = Router(case_sensitive=False)
        router.add("GET", "/resourceGroups/{rg}", echo_params)
        assert router.dispatch(Request("GET", "/RESOURCEGROUPS/MyRg")).json() == {"rg": "MyRg"}

    def test_case_sensitive_router_refuses_other_casing(self) -> None:
        """By default literal segments must match exactly."""
        router = Router()
        router.add("GET", "/resourceGroups/{rg}", echo_params)
        with pytest.raises(NoRouteError):
            router.dispatch(Request("GET", "/resourcegroups/x"))

    def test_wrong_method_lists_the_allowed_ones(self) -> None:
        """A known path with another method reports which methods it accepts."""
        router = Router()
        router.add("GET", "/things/{id}", echo_params)
        router.add("PUT", "/things/{id}", echo_params)
        with pytest.raises(NoRouteError) as caught:
            router.dispatch(Request("DELETE", "/things/1"))
        assert caught.value.allowed == frozenset({"GET", "PUT"})

    def test_first_matching_route_wins(self) -> None:
        """Routes are tried in the order they were added."""
        router = Router()
        router.add("GET", "/things/special", lambda _: json_response(200, "special"))
        router.add("GET", "/things/{id}", echo_params)
        assert router.dispatch(Request("GET", "/things/special")).json() == "special"
