"""Function keys."""

from __future__ import annotations

import pytest

from devhost.keys import configured_key, key_required, presented_key_matches


class TestFunctionKeys:
    @pytest.mark.parametrize(
        ("level", "key", "required"),
        [
            pytest.param("FUNCTION", "k", True, id="function"),
            pytest.param("ADMIN", "k", True, id="admin"),
            pytest.param("ANONYMOUS", "k", False, id="anonymous"),
            pytest.param("FUNCTION", None, False, id="no-key-configured"),
        ],
    )
    def test_which_levels_need_the_key(self, level: str, key: str | None, required: bool) -> None:
        """FUNCTION and ADMIN need the configured key; ANONYMOUS never does."""
        assert key_required(level, key) is required

    @pytest.mark.parametrize(
        ("query", "headers", "ok"),
        [
            pytest.param({"code": "k"}, {}, True, id="code"),
            pytest.param({}, {"x-functions-key": "k"}, True, id="header"),
            pytest.param({"code": "wrong"}, {}, False, id="wrong-code"),
            pytest.param({}, {}, False, id="none"),
        ],
    )
    def test_presented_key_is_checked(
        self, query: dict[str, str], headers: dict[str, str], ok: bool
    ) -> None:
        """The key may come as `code` or `x-functions-key`."""
        assert presented_key_matches("k", query=query, headers=headers) is ok

    def test_explicit_key_wins_over_setting(self) -> None:
        """--function-key beats DEVHOST_FUNCTION_KEY; the setting is the fallback."""
        settings = {"DEVHOST_FUNCTION_KEY": "from-settings"}
        assert configured_key("explicit", settings) == "explicit"
        assert configured_key(None, settings) == "from-settings"
        assert configured_key(None, {}) is None
