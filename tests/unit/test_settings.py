"""The app settings: defaults, names, the ARM endpoint rules, bounds and error messages."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import SettingsError
from shared.settings import Settings
from tests.examples import DOC_SUBSCRIPTION as SUBSCRIPTION


def error_for(environ: dict[str, str]) -> str:
    """The SettingsError message for an environment that must be refused."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_environ(environ)
    return str(caught.value)


class TestDefaults:
    @pytest.mark.parametrize(
        ("field", "expected"),
        [
            pytest.param("arm_endpoint", "https://management.azure.com", id="arm-endpoint"),
            pytest.param("default_subscription_id", None, id="no-default-subscription"),
            pytest.param("default_resource_group", None, id="no-default-resource-group"),
            pytest.param("operation_deadline_seconds", 7200, id="deadline-2h"),
            pytest.param("polls_per_generation", 20, id="polls-per-generation-20"),
            pytest.param("poll_min_interval_seconds", 10.0, id="poll-min-10s"),
            pytest.param("poll_default_interval_seconds", 60.0, id="poll-default-60s"),
        ],
    )
    def test_empty_environment_gives_the_documented_default(
        self, field: str, expected: object
    ) -> None:
        """A setting that is not in the environment takes its documented default."""
        assert getattr(Settings.from_environ({}), field) == expected

    def test_unknown_variables_are_ignored(self) -> None:
        """Variables the app does not read neither fail nor change the settings."""
        environ = {"PATH": "/usr/bin", "FUNCTIONS_WORKER_RUNTIME": "python", "arm_endpoint": "x"}
        assert Settings.from_environ(environ) == Settings.from_environ({})

    def test_settings_are_immutable(self) -> None:
        """Settings read once cannot be changed afterwards."""
        settings = Settings.from_environ({})
        with pytest.raises(ValueError, match="frozen"):
            settings.polls_per_generation = 5  # type: ignore[misc]


class TestNames:
    @pytest.mark.parametrize(
        ("name", "raw", "field", "expected"),
        [
            pytest.param(
                "ARM_ENDPOINT",
                "http://127.0.0.1:10100",
                "arm_endpoint",
                "http://127.0.0.1:10100",
                id="ARM_ENDPOINT",
            ),
            pytest.param(
                "DEFAULT_SUBSCRIPTION_ID",
                SUBSCRIPTION,
                "default_subscription_id",
                SUBSCRIPTION,
                id="DEFAULT_SUBSCRIPTION_ID",
            ),
            pytest.param(
                "DEFAULT_RESOURCE_GROUP",
                "local-rg",
                "default_resource_group",
                "local-rg",
                id="DEFAULT_RESOURCE_GROUP",
            ),
            pytest.param(
                "OPERATION_DEADLINE_SECONDS",
                "600",
                "operation_deadline_seconds",
                600,
                id="OPERATION_DEADLINE_SECONDS",
            ),
            pytest.param(
                "POLLS_PER_GENERATION", "5", "polls_per_generation", 5, id="POLLS_PER_GENERATION"
            ),
            pytest.param(
                "POLL_MIN_INTERVAL_SECONDS",
                "1",
                "poll_min_interval_seconds",
                1.0,
                id="POLL_MIN_INTERVAL_SECONDS",
            ),
            pytest.param(
                "POLL_DEFAULT_INTERVAL_SECONDS",
                "2.5",
                "poll_default_interval_seconds",
                2.5,
                id="POLL_DEFAULT_INTERVAL_SECONDS",
            ),
        ],
    )
    def test_setting_is_read_by_its_app_setting_name(
        self, name: str, raw: str, field: str, expected: object
    ) -> None:
        """Each setting is read from the environment under its documented name, as text."""
        assert getattr(Settings.from_environ({name: raw}), field) == expected

    def test_local_sample_values_are_accepted(self) -> None:
        """The values of local.settings.sample.json make valid settings."""
        settings = Settings.from_environ(
            {
                "ARM_ENDPOINT": "http://127.0.0.1:10100",
                "DEFAULT_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
                "DEFAULT_RESOURCE_GROUP": "local-rg",
                "OPERATION_DEADLINE_SECONDS": "7200",
                "POLLS_PER_GENERATION": "20",
                "POLL_MIN_INTERVAL_SECONDS": "1",
                "POLL_DEFAULT_INTERVAL_SECONDS": "2",
            }
        )
        assert (settings.poll_min_interval_seconds, settings.poll_default_interval_seconds) == (
            1.0,
            2.0,
        )


class TestArmEndpoint:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(
                "https://management.azure.com", "https://management.azure.com", id="origin-as-is"
            ),
            pytest.param(
                "https://management.azure.com/", "https://management.azure.com", id="slash-dropped"
            ),
            pytest.param(
                "  https://management.azure.com/ \n",
                "https://management.azure.com",
                id="whitespace-stripped",
            ),
            pytest.param(
                "HTTPS://management.azure.com", "https://management.azure.com", id="scheme-lowered"
            ),
            pytest.param("http://127.0.0.1:10100", "http://127.0.0.1:10100", id="http-with-port"),
            pytest.param("http://[::1]:8080/", "http://[::1]:8080", id="ipv6-literal"),
            pytest.param(
                "https://management.usgovcloudapi.net",
                "https://management.usgovcloudapi.net",
                id="sovereign-cloud",
            ),
        ],
    )
    def test_endpoint_is_normalised_to_an_origin(self, raw: str, expected: str) -> None:
        """ARM_ENDPOINT is kept as scheme://host[:port], without a trailing slash."""
        assert Settings.from_environ({"ARM_ENDPOINT": raw}).arm_endpoint == expected

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            pytest.param("https://management.azure.com/api", "origin", id="path"),
            pytest.param("https://management.azure.com/?x=1", "origin", id="query"),
            pytest.param("https://management.azure.com/#top", "origin", id="fragment"),
            pytest.param("ftp://management.azure.com", "http(s) URL", id="ftp-scheme"),
            pytest.param("management.azure.com", "http(s) URL", id="no-scheme"),
            pytest.param("https://", "http(s) URL", id="no-host"),
            pytest.param("", "http(s) URL", id="empty"),
        ],
    )
    def test_endpoint_that_is_not_an_http_origin_is_refused(self, raw: str, reason: str) -> None:
        """An ARM_ENDPOINT with a path, query, fragment, other scheme or no host is an error."""
        message = error_for({"ARM_ENDPOINT": raw})
        assert message.startswith("invalid app settings: ARM_ENDPOINT: ")
        assert reason in message

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("https://management.azure.com:99999", id="port-out-of-range"),
            pytest.param("https://management.azure.com:abc", id="port-not-a-number"),
            pytest.param("https://user:secret@management.azure.com", id="user-info"),
        ],
    )
    def test_endpoint_that_lro_cannot_use_is_refused_at_startup(self, raw: str) -> None:
        """An ARM_ENDPOINT that the polling logic would refuse is refused when settings load."""
        assert "ARM_ENDPOINT" in error_for({"ARM_ENDPOINT": raw})


class TestArmScope:
    @pytest.mark.parametrize(
        ("raw", "scope"),
        [
            pytest.param(
                "https://management.azure.com/",
                "https://management.azure.com/.default",
                id="public-cloud",
            ),
            pytest.param(
                "http://127.0.0.1:10100", "http://127.0.0.1:10100/.default", id="local-emulator"
            ),
        ],
    )
    def test_scope_is_the_endpoint_origin_plus_default(self, raw: str, scope: str) -> None:
        """The token scope is the normalised endpoint followed by /.default (one slash)."""
        assert Settings.from_environ({"ARM_ENDPOINT": raw}).arm_scope == scope

    def test_default_scope_is_public_arm(self) -> None:
        """Without ARM_ENDPOINT, tokens are requested for public-cloud ARM."""
        assert Settings.from_environ({}).arm_scope == "https://management.azure.com/.default"


class TestBlankDefaults:
    @pytest.mark.parametrize(
        "name", ["DEFAULT_SUBSCRIPTION_ID", "DEFAULT_RESOURCE_GROUP"], ids=str.lower
    )
    @pytest.mark.parametrize(
        "blank", [pytest.param("", id="empty"), pytest.param("  \t", id="whitespace")]
    )
    def test_blank_default_is_unset(self, name: str, blank: str) -> None:
        """A default subscription or resource group set to blank text counts as not set."""
        settings = Settings.from_environ({name: blank})
        assert settings.default_subscription_id is None
        assert settings.default_resource_group is None


class TestNumericBounds:
    @pytest.mark.parametrize(
        ("name", "raw", "expected"),
        [
            pytest.param("OPERATION_DEADLINE_SECONDS", "60", 60, id="deadline-min-60"),
            pytest.param("OPERATION_DEADLINE_SECONDS", "604800", 604800, id="deadline-max-7d"),
            pytest.param("POLLS_PER_GENERATION", "1", 1, id="polls-min-1"),
            pytest.param("POLLS_PER_GENERATION", "1000", 1000, id="polls-max-1000"),
            pytest.param("POLL_MIN_INTERVAL_SECONDS", "0", 0.0, id="poll-min-0"),
            pytest.param("POLL_MIN_INTERVAL_SECONDS", "300", 300.0, id="poll-min-300"),
            pytest.param("POLL_DEFAULT_INTERVAL_SECONDS", "0.1", 0.1, id="poll-default-0.1"),
            pytest.param("POLL_DEFAULT_INTERVAL_SECONDS", "300", 300.0, id="poll-default-300"),
        ],
    )
    def test_value_on_a_bound_is_accepted(self, name: str, raw: str, expected: Any) -> None:
        """The smallest and largest allowed value of each numeric setting is accepted."""
        settings = Settings.from_environ({name: raw})
        assert settings.model_dump(by_alias=True)[name] == expected

    @pytest.mark.parametrize(
        ("name", "raw"),
        [
            pytest.param("OPERATION_DEADLINE_SECONDS", "59", id="deadline-below-60"),
            pytest.param("OPERATION_DEADLINE_SECONDS", "604801", id="deadline-above-7d"),
            pytest.param("POLLS_PER_GENERATION", "0", id="polls-zero"),
            pytest.param("POLLS_PER_GENERATION", "1001", id="polls-above-1000"),
            pytest.param("POLL_MIN_INTERVAL_SECONDS", "-1", id="poll-min-negative"),
            pytest.param("POLL_MIN_INTERVAL_SECONDS", "300.5", id="poll-min-above-300"),
            pytest.param("POLL_DEFAULT_INTERVAL_SECONDS", "0", id="poll-default-zero"),
            pytest.param("POLL_DEFAULT_INTERVAL_SECONDS", "301", id="poll-default-above-300"),
            pytest.param("OPERATION_DEADLINE_SECONDS", "two hours", id="deadline-not-a-number"),
            pytest.param("POLLS_PER_GENERATION", "2.5", id="polls-fractional"),
            pytest.param("POLL_DEFAULT_INTERVAL_SECONDS", "inf", id="poll-default-infinite"),
        ],
    )
    def test_value_out_of_range_is_refused_naming_the_setting(self, name: str, raw: str) -> None:
        """An out-of-range or non-numeric value fails, and the message names the setting."""
        assert error_for({name: raw}).startswith(f"invalid app settings: {name}: ")

    def test_every_invalid_setting_is_named_in_one_message(self) -> None:
        """With several bad settings, the one error lists each of them."""
        message = error_for(
            {"ARM_ENDPOINT": "ftp://x", "POLLS_PER_GENERATION": "0", "DEFAULT_RESOURCE_GROUP": ""}
        )
        assert "ARM_ENDPOINT: " in message
        assert "; POLLS_PER_GENERATION: " in message
        assert "DEFAULT_RESOURCE_GROUP" not in message

    def test_error_does_not_chain_the_validation_error(self) -> None:
        """The SettingsError stands alone, so the log shows one readable message."""
        with pytest.raises(SettingsError) as caught:
            Settings.from_environ({"POLLS_PER_GENERATION": "0"})
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__
