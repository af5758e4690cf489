"""Settings files, host.json and binding expressions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.settings import (
    HostConfig,
    QueueOptions,
    SettingsError,
    load_host_config,
    load_local_settings,
    merge_settings,
    parse_host_config,
    parse_timespan,
    resolve_binding_expression,
)


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


class TestLocalSettings:
    def test_values_are_read_as_strings(self, tmp_path: Path) -> None:
        """Values come back as strings, numbers included."""
        path = write_json(tmp_path / "s.json", {"IsEncrypted": False, "Values": {"A": "x", "N": 3}})
        assert load_local_settings(path) == {"A": "x", "N": "3"}

    def test_environment_overrides_file_values(self) -> None:
        """A real environment variable wins over the file's value of the same name."""
        merged = merge_settings({"A": "file", "B": "file"}, {"A": "env", "C": "env"})
        assert merged == {"A": "env", "B": "file"}

    def test_encrypted_file_is_refused(self, tmp_path: Path) -> None:
        """An encrypted settings file gets a clear error instead of garbage values."""
        path = write_json(tmp_path / "s.json", {"IsEncrypted": True, "Values": {}})
        with pytest.raises(SettingsError, match="encrypted settings are not supported"):
            load_local_settings(path)

    def test_missing_file_is_named(self, tmp_path: Path) -> None:
        """A missing file is reported with its path."""
        with pytest.raises(SettingsError, match=r"nope\.json: file not found"):
            load_local_settings(tmp_path / "nope.json")

    def test_broken_json_is_reported(self, tmp_path: Path) -> None:
        """A file that is not JSON is reported as such."""
        path = tmp_path / "s.json"
        path.write_text("{not json")
        with pytest.raises(SettingsError, match="not readable JSON"):
            load_local_settings(path)


class TestHostJson:
    def test_missing_host_json_means_defaults(self, tmp_path: Path) -> None:
        """Without host.json every documented default applies."""
        config = load_host_config(tmp_path)
        assert config == HostConfig()
        assert config.route_prefix == "api"
        assert config.queues == QueueOptions(
            max_dequeue_count=5,
            visibility_timeout=timedelta(0),
            batch_size=16,
            max_polling_interval=timedelta(minutes=1),
            base64=True,
        )

    def test_values_are_read(self) -> None:
        """Route prefix, queue options and hub name come from their documented keys."""
        config = parse_host_config(
            {
                "extensions": {
                    "http": {"routePrefix": "/v1/"},
                    "queues": {
                        "maxDequeueCount": 2,
                        "visibilityTimeout": "00:00:05",
                        "batchSize": 8,
                        "maxPollingInterval": "00:00:02.500",
                        "messageEncoding": "none",
                    },
                    "durableTask": {"hubName": "MyHub", "maxConcurrentActivityFunctions": 3},
                }
            }
        )
        assert config == HostConfig(
            route_prefix="v1",
            hub_name="MyHub",
            max_concurrent_activities=3,
            queues=QueueOptions(
                max_dequeue_count=2,
                visibility_timeout=timedelta(seconds=5),
                batch_size=8,
                max_polling_interval=timedelta(seconds=2.5),
                base64=False,
            ),
        )

    def test_empty_route_prefix_is_allowed(self) -> None:
        """An empty prefix serves functions at the root."""
        assert parse_host_config({"extensions": {"http": {"routePrefix": ""}}}).route_prefix == ""

    @pytest.mark.parametrize(
        ("queues", "message"),
        [
            pytest.param(
                {"batchSize": 33}, "batchSize must be an integer from 1 to 32", id="batch-33"
            ),
            pytest.param(
                {"maxDequeueCount": 0}, "maxDequeueCount must be a positive", id="dequeue-0"
            ),
            pytest.param(
                {"visibilityTimeout": 30}, "visibilityTimeout must be a duration", id="number"
            ),
            pytest.param({"messageEncoding": "utf8"}, "messageEncoding must be", id="encoding"),
        ],
    )
    def test_bad_queue_options_are_refused(self, queues: dict[str, object], message: str) -> None:
        """Out-of-range queue options fail with the option's name."""
        with pytest.raises(SettingsError, match=message):
            parse_host_config({"extensions": {"queues": queues}})


class TestTimespan:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param("00:00:00", timedelta(0), id="zero"),
            pytest.param("00:01:00", timedelta(minutes=1), id="minute"),
            pytest.param("00:00:00.200", timedelta(milliseconds=200), id="fraction"),
            pytest.param("1.02:00:00", timedelta(days=1, hours=2), id="days"),
        ],
    )
    def test_dotnet_timespans_parse(self, text: str, expected: timedelta) -> None:
        """.NET TimeSpan strings as host.json writes them are understood."""
        assert parse_timespan(text, name="x") == expected


class TestBindingExpressions:
    def test_percent_names_are_replaced_by_settings(self) -> None:
        """%Name% becomes the value of app setting Name."""
        assert resolve_binding_expression("q-%ENV%-in", {"ENV": "dev"}) == "q-dev-in"

    def test_unknown_setting_is_named(self) -> None:
        """An expression naming an unset setting fails with that name."""
        with pytest.raises(SettingsError, match="%MISSING%"):
            resolve_binding_expression("%MISSING%", {})
