"""App settings (`local.settings.json`, environment) and the parts of `host.json` the host obeys."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

# Defaults of the Functions host and its extensions when host.json leaves a value out.
DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_HUB_NAME = "TestHubName"
DEFAULT_MAX_DEQUEUE_COUNT = 5
DEFAULT_VISIBILITY_TIMEOUT = timedelta(0)
DEFAULT_BATCH_SIZE = 16
MAX_BATCH_SIZE = 32  # the storage service never returns more per receive
DEFAULT_MAX_POLLING_INTERVAL = timedelta(minutes=1)
# functionTimeout when host.json has none: 30 minutes on the plans that run this app (5 on the
# legacy Consumption plan); "-1" means no limit (ScriptJobHostOptionsSetup.cs).
DEFAULT_FUNCTION_TIMEOUT = timedelta(minutes=30)
# Durable's documented default for maxConcurrentActivityFunctions: 10 per processor.
DEFAULT_ACTIVITY_CONCURRENCY = 10 * (os.cpu_count() or 1)

_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$"
)


class SettingsError(ValueError):
    """A settings file or host.json cannot be used; the message names the file and the value."""


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` of host.json."""

    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT
    visibility_timeout: timedelta = DEFAULT_VISIBILITY_TIMEOUT
    batch_size: int = DEFAULT_BATCH_SIZE
    max_polling_interval: timedelta = DEFAULT_MAX_POLLING_INTERVAL
    base64: bool = True  # `messageEncoding`: "base64" (the extension's default) or "none"


@dataclass(frozen=True)
class HostConfig:
    """What the local host reads from host.json."""

    route_prefix: str = DEFAULT_ROUTE_PREFIX
    hub_name: str = DEFAULT_HUB_NAME
    max_concurrent_activities: int = DEFAULT_ACTIVITY_CONCURRENCY
    queues: QueueOptions = QueueOptions()
    function_timeout: timedelta | None = DEFAULT_FUNCTION_TIMEOUT  # None: unbounded


def load_local_settings(path: Path) -> dict[str, str]:
    """The `Values` of a local.settings.json file, as strings."""
    document = _read_json_object(path)
    if document.get("IsEncrypted"):
        raise SettingsError(f"{path}: encrypted settings are not supported; set IsEncrypted false")
    values = document.get("Values", {})
    if not isinstance(values, dict):
        raise SettingsError(f"{path}: 'Values' must be an object of setting names to strings")
    bad = [name for name, value in values.items() if not isinstance(value, str | int | float)]
    if bad:
        raise SettingsError(f"{path}: setting(s) {', '.join(bad)} must be strings")
    return {name: str(value) for name, value in values.items()}


def merge_settings(file_values: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """File values overridden by real environment variables of the same name, as in Functions."""
    return {name: environ.get(name, value) for name, value in file_values.items()}


def load_host_config(app_dir: Path) -> HostConfig:
    """Read `<app_dir>/host.json`; a missing file means every default."""
    path = app_dir / "host.json"
    if not path.exists():
        return HostConfig()
    return parse_host_config(_read_json_object(path), source=str(path))


def parse_host_config(document: Mapping[str, Any], *, source: str = "host.json") -> HostConfig:
    """The host settings in a parsed host.json document."""
    extensions = _section(document, "extensions", source)
    http = _section(extensions, "http", source)
    queues = _section(extensions, "queues", source)
    durable = _section(extensions, "durableTask", source)
    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX)
    hub = durable.get("hubName", DEFAULT_HUB_NAME)
    activities = durable.get("maxConcurrentActivityFunctions", DEFAULT_ACTIVITY_CONCURRENCY)
    if not isinstance(prefix, str) or not isinstance(hub, str) or not hub:
        raise SettingsError(f"{source}: routePrefix and hubName must be strings")
    if not isinstance(activities, int) or activities < 1:
        raise SettingsError(
            f"{source}: durableTask.maxConcurrentActivityFunctions must be a positive integer"
        )
    return HostConfig(
        route_prefix=prefix.strip("/"),
        hub_name=hub,
        max_concurrent_activities=activities,
        queues=_queue_options(queues, source),
        function_timeout=_function_timeout(document, source),
    )


def _function_timeout(document: Mapping[str, Any], source: str) -> timedelta | None:
    value = document.get("functionTimeout")
    if value is None:
        return DEFAULT_FUNCTION_TIMEOUT
    if value == "-1":
        return None
    timeout = parse_timespan(value, name=f"{source}: functionTimeout")
    if timeout <= timedelta(0):
        raise SettingsError(f'{source}: functionTimeout must be positive or "-1"')
    return timeout


def parse_timespan(value: object, *, name: str) -> timedelta:
    """A .NET TimeSpan string (`[d.]hh:mm:ss[.fff]`) as host.json writes durations."""
    match = _TIMESPAN.match(value) if isinstance(value, str) else None
    if match is None:
        raise SettingsError(f"{name} must be a duration like '00:00:30', got {value!r}")
    return timedelta(
        days=int(match["days"] or 0),
        hours=int(match["h"]),
        minutes=int(match["m"]),
        seconds=float(match["s"]),
    )


def resolve_binding_expression(value: str, settings: Mapping[str, str]) -> str:
    """Replace `%Name%` with the app setting Name, as the host does for binding properties."""

    def setting(match: re.Match[str]) -> str:
        name = match[1]
        if name not in settings:
            raise SettingsError(f"binding expression %{name}% names an app setting that is not set")
        return settings[name]

    return re.sub(r"%([^%]+)%", setting, value)


def _queue_options(queues: Mapping[str, Any], source: str) -> QueueOptions:
    max_dequeue = queues.get("maxDequeueCount", DEFAULT_MAX_DEQUEUE_COUNT)
    batch = queues.get("batchSize", DEFAULT_BATCH_SIZE)
    encoding = queues.get("messageEncoding", "base64")
    if not isinstance(max_dequeue, int) or max_dequeue < 1:
        raise SettingsError(f"{source}: queues.maxDequeueCount must be a positive integer")
    if not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH_SIZE:
        raise SettingsError(f"{source}: queues.batchSize must be an integer from 1 to 32")
    if encoding not in ("base64", "none"):
        raise SettingsError(f"{source}: queues.messageEncoding must be 'base64' or 'none'")
    visibility = queues.get("visibilityTimeout")
    polling = queues.get("maxPollingInterval")
    return QueueOptions(
        max_dequeue_count=max_dequeue,
        visibility_timeout=DEFAULT_VISIBILITY_TIMEOUT
        if visibility is None
        else parse_timespan(visibility, name=f"{source}: queues.visibilityTimeout"),
        batch_size=batch,
        max_polling_interval=DEFAULT_MAX_POLLING_INTERVAL
        if polling is None
        else parse_timespan(polling, name=f"{source}: queues.maxPollingInterval"),
        base64=encoding == "base64",
    )


def _section(document: Mapping[str, Any], name: str, source: str) -> Mapping[str, Any]:
    section = document.get(name, {})
    if not isinstance(section, dict):
        raise SettingsError(f"{source}: '{name}' must be an object")
    return section


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: file not found") from None
    except (OSError, ValueError) as err:
        raise SettingsError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(document, dict):
        raise SettingsError(f"{path}: expected a JSON object")
    return document
