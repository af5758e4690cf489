"""Host keys: which key was presented, what it is, and which routes it opens."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from devhost.keys import (
    NO_KEYS,
    HostKeys,
    KeyMatch,
    Level,
    Refusal,
    check_admin,
    check_function,
    check_webhook,
    configured_keys,
    presented_key,
)

KEYS = HostKeys(
    function="fn", master="master", eventgrid_extension="eg", durabletask_extension="dt"
)
OK = None
UNAUTHORIZED = HTTPStatus.UNAUTHORIZED
FORBIDDEN = HTTPStatus.FORBIDDEN


def status(refusal: Refusal | None) -> HTTPStatus | None:
    return None if refusal is None else refusal.status


class TestPresentedKey:
    @pytest.mark.parametrize(
        ("query", "headers", "presented"),
        [
            pytest.param({"code": "q"}, {}, "q", id="code"),
            pytest.param({}, {"x-functions-key": "h"}, "h", id="header"),
            pytest.param({"code": "q"}, {"x-functions-key": "h"}, "h", id="header-beats-code"),
            pytest.param({"code": "q"}, {"x-functions-key": ""}, "", id="empty-header-hides-code"),
            pytest.param({}, {}, None, id="none"),
        ],
    )
    def test_header_first_then_code(
        self, query: dict[str, str], headers: dict[str, str], presented: str | None
    ) -> None:
        """The header, when there, is the key (AuthenticationLevelHandler); else `code`."""
        assert presented_key(query, headers) == presented


class TestMatch:
    @pytest.mark.parametrize(
        ("presented", "match"),
        [
            pytest.param("master", KeyMatch(Level.ADMIN), id="master"),
            pytest.param("eg", KeyMatch(Level.SYSTEM, "eventgrid_extension"), id="eventgrid"),
            pytest.param("dt", KeyMatch(Level.SYSTEM, "durabletask_extension"), id="durable"),
            pytest.param("fn", KeyMatch(Level.FUNCTION), id="function"),
            pytest.param("other", None, id="unknown"),
            pytest.param("", None, id="empty"),
            pytest.param(None, None, id="none"),
        ],
    )
    def test_each_key_is_recognised(self, presented: str | None, match: KeyMatch | None) -> None:
        """A presented key is the master, a named system key, the function key or nothing."""
        assert KEYS.match(presented) == match

    def test_master_is_matched_first(self) -> None:
        """A value that is both master and function key counts as master (SecretManager order)."""
        assert HostKeys(function="same", master="same").match("same") == KeyMatch(Level.ADMIN)

    def test_unset_key_matches_nothing(self) -> None:
        """With only a function key configured, no other kind of key exists."""
        keys = HostKeys(function="fn")
        assert keys.enforced
        assert keys.match("fn") == KeyMatch(Level.FUNCTION)
        assert keys.system_keys() == {}


class TestFunctionRoutes:
    @pytest.mark.parametrize(
        ("level", "presented", "expected"),
        [
            pytest.param("FUNCTION", "fn", OK, id="function-key"),
            pytest.param("FUNCTION", "master", OK, id="function-master"),
            pytest.param("FUNCTION", "eg", UNAUTHORIZED, id="function-system-key"),
            pytest.param("FUNCTION", "wrong", UNAUTHORIZED, id="function-wrong"),
            pytest.param("FUNCTION", None, UNAUTHORIZED, id="function-none"),
            pytest.param("function", "fn", OK, id="level-in-any-case"),
            pytest.param("ADMIN", "master", OK, id="admin-master"),
            pytest.param("ADMIN", "fn", UNAUTHORIZED, id="admin-function-key"),
            pytest.param("ADMIN", "dt", UNAUTHORIZED, id="admin-system-key"),
            pytest.param("ANONYMOUS", None, OK, id="anonymous"),
            pytest.param("ANONYMOUS", "wrong", OK, id="anonymous-wrong-key"),
        ],
    )
    def test_levels(self, level: str, presented: str | None, expected: HTTPStatus | None) -> None:
        """Function level: function or master key; admin: master; a refusal is always 401."""
        assert status(check_function(KEYS, level, presented)) == expected

    def test_no_keys_configured_is_open(self) -> None:
        """Without any key, FUNCTION and ADMIN routes are open, as under Core Tools."""
        assert check_function(NO_KEYS, "FUNCTION", None) is None
        assert check_function(NO_KEYS, "ADMIN", "anything") is None

    def test_refusal_says_why_without_the_key(self) -> None:
        """The logged reason names the kind of key presented and needed, never a value."""
        refusal = check_function(KEYS, "ADMIN", "fn")
        assert refusal is not None
        assert refusal.reason == "the function key was presented; needs the master key"


class TestHostRoutes:
    @pytest.mark.parametrize(
        ("extension", "presented", "expected"),
        [
            pytest.param("eventgrid", "eg", OK, id="eventgrid-own-key"),
            pytest.param("eventgrid", "master", OK, id="eventgrid-master"),
            pytest.param("eventgrid", "dt", FORBIDDEN, id="eventgrid-other-system-key"),
            pytest.param("eventgrid", "fn", FORBIDDEN, id="eventgrid-function-key"),
            pytest.param("eventgrid", "wrong", UNAUTHORIZED, id="eventgrid-wrong"),
            pytest.param("eventgrid", None, UNAUTHORIZED, id="eventgrid-none"),
            pytest.param("durabletask", "dt", OK, id="durable-own-key"),
            pytest.param("durabletask", "master", OK, id="durable-master"),
            pytest.param("durabletask", "eg", FORBIDDEN, id="durable-other-system-key"),
            pytest.param("durabletask", None, UNAUTHORIZED, id="durable-none"),
            pytest.param("DurableTask", "dt", OK, id="extension-name-lowercased"),
        ],
    )
    def test_webhooks(
        self, extension: str, presented: str | None, expected: HTTPStatus | None
    ) -> None:
        """A webhook takes its extension's system key or the master key; another known key is
        403, no key or an unknown one 401."""
        assert status(check_webhook(KEYS, extension, presented)) == expected

    @pytest.mark.parametrize(
        ("presented", "expected"),
        [
            pytest.param("master", OK, id="master"),
            pytest.param("fn", FORBIDDEN, id="function-key"),
            pytest.param("eg", FORBIDDEN, id="system-key"),
            pytest.param("wrong", UNAUTHORIZED, id="wrong"),
            pytest.param(None, UNAUTHORIZED, id="none"),
        ],
    )
    def test_admin(self, presented: str | None, expected: HTTPStatus | None) -> None:
        """/admin/... takes only the master key."""
        assert status(check_admin(KEYS, presented)) == expected

    def test_no_keys_configured_is_open(self) -> None:
        """Without any key the webhooks and the admin routes are open."""
        assert check_webhook(NO_KEYS, "eventgrid", None) is None
        assert check_admin(NO_KEYS, None) is None

    def test_unset_master_key_opens_nothing(self) -> None:
        """With keys configured but no master key, nothing reaches the admin routes."""
        assert status(check_admin(HostKeys(function="fn"), "")) == UNAUTHORIZED


class TestConfiguredKeys:
    def test_explicit_keys_win_over_settings(self) -> None:
        """--function-key and --master-key beat their settings; the settings fill the rest."""
        settings = {
            "DEVHOST_FUNCTION_KEY": "fn-setting",
            "DEVHOST_MASTER_KEY": "master-setting",
            "DEVHOST_EVENTGRID_EXTENSION_KEY": "eg-setting",
            "DEVHOST_DURABLETASK_EXTENSION_KEY": "dt-setting",
        }
        explicit = HostKeys(function="fn-option", master="master-option")
        assert configured_keys(explicit, settings) == HostKeys(
            function="fn-option",
            master="master-option",
            eventgrid_extension="eg-setting",
            durabletask_extension="dt-setting",
        )
        assert configured_keys(NO_KEYS, settings).master == "master-setting"

    def test_empty_settings_are_no_keys(self) -> None:
        """An empty value is an unset key, so an empty settings file leaves the host open."""
        keys = configured_keys(NO_KEYS, {"DEVHOST_MASTER_KEY": ""})
        assert keys == NO_KEYS
        assert not keys.enforced
