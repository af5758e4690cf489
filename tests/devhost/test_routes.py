"""Route templates and matching."""

from __future__ import annotations

import pytest

from devhost.routes import Route, RouteError, RouteTable, compile_template, split_prefix


def table(*routes: tuple[str, str, list[str] | None]) -> RouteTable:
    return RouteTable(
        [
            Route(
                template=compile_template(template),
                function_name=name,
                methods=frozenset(methods) if methods else None,
            )
            for template, name, methods in routes
        ]
    )


class TestRouteTemplate:
    @pytest.mark.parametrize(
        ("template", "path", "params"),
        [
            pytest.param("items/{id}", "items/42", {"id": "42"}, id="param"),
            pytest.param("items/{id}", "ITEMS/42", {"id": "42"}, id="literal-case-insensitive"),
            pytest.param("items/{id:int}", "items/42", {"id": "42"}, id="int-constraint"),
            pytest.param("items/{id?}", "items", {}, id="optional-absent"),
            pytest.param("items/{id?}", "items/7", {"id": "7"}, id="optional-present"),
            pytest.param("files/{*rest}", "files/a/b/c", {"rest": "a/b/c"}, id="catch-all"),
            pytest.param("items/{id}", "items/a%20b", {"id": "a b"}, id="decoded-param"),
            pytest.param("", "", {}, id="root"),
        ],
    )
    def test_matching_paths_yield_parameters(
        self, template: str, path: str, params: dict[str, str]
    ) -> None:
        """A matching path gives the template's parameters, decoded."""
        found = table((template, "f", None)).match("GET", path)
        assert found is not None
        assert found[1] == params

    @pytest.mark.parametrize(
        ("template", "path"),
        [
            pytest.param("items/{id:int}", "items/abc", id="int-constraint"),
            pytest.param("items/{id}", "items", id="missing-param"),
            pytest.param("items/{id}", "items/1/2", id="extra-segment"),
        ],
    )
    def test_non_matching_paths_find_nothing(self, template: str, path: str) -> None:
        """Paths that do not fit the template find no route."""
        assert table((template, "f", None)).match("GET", path) is None

    @pytest.mark.parametrize(
        ("template", "message"),
        [
            pytest.param("items/{id:regex(x)}", "is not supported", id="unknown-segment"),
            pytest.param(
                "items/{id:float}", "constraint 'float' is not supported", id="constraint"
            ),
            pytest.param("{*rest}/more", "must be the last segment", id="catch-all-not-last"),
        ],
    )
    def test_unsupported_templates_are_refused(self, template: str, message: str) -> None:
        """Templates the host cannot honour fail at start with the reason."""
        with pytest.raises(RouteError, match=message):
            compile_template(template)


class TestRouteTable:
    def test_literal_route_wins_over_parameter(self) -> None:
        """`items/new` beats `items/{id}` whatever the registration order."""
        routes = table(("items/{id}", "by_id", None), ("items/new", "new_item", None))
        found = routes.match("GET", "items/new")
        assert found is not None
        assert found[0].function_name == "new_item"

    def test_method_mismatch_finds_no_route(self) -> None:
        """A method the function does not accept means no match, as in the Functions host."""
        routes = table(("items", "list_items", ["GET"]))
        assert routes.match("DELETE", "items") is None
        assert routes.match("get", "items") is not None

    def test_same_path_is_shared_by_method(self) -> None:
        """Two functions may serve one template with different methods."""
        routes = table(("items", "list_items", ["GET"]), ("items", "add_item", ["POST"]))
        found = routes.match("POST", "items")
        assert found is not None
        assert found[0].function_name == "add_item"

    def test_duplicate_route_is_refused(self) -> None:
        """Two functions claiming the same template and methods are an error."""
        with pytest.raises(RouteError, match="both serve route"):
            table(("items", "a", ["GET"]), ("items", "b", ["GET"]))


class TestRoutePrefix:
    @pytest.mark.parametrize(
        ("path", "prefix", "expected"),
        [
            pytest.param("/api/items", "api", "items", id="below"),
            pytest.param("/API/items", "api", "items", id="case-insensitive"),
            pytest.param("/api", "api", "", id="prefix-itself"),
            pytest.param("/apix/items", "api", None, id="lookalike"),
            pytest.param("/items", "", "items", id="no-prefix"),
        ],
    )
    def test_paths_are_split_below_the_prefix(
        self, path: str, prefix: str, expected: str | None
    ) -> None:
        """Only paths under the prefix reach the function routes."""
        assert split_prefix(path, prefix) == expected
