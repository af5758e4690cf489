"""`python -m devhost`: serve a function app locally until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from devhost.host import Host, HostStartError
from devhost.indexing import IndexedFunction, IndexingError
from devhost.keys import FUNCTION_KEY_SETTING, MASTER_KEY_SETTING, HostKeys
from devhost.logs import configure_logging
from devhost.routes import RouteError
from devhost.settings import SettingsError, load_local_settings, merge_settings

_LOG = logging.getLogger("devhost")

# Exit codes: 0 stopped on request, 1 could not start, 2 bad command line or settings file.
EXIT_START_FAILED = 1
EXIT_USAGE = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m devhost", description="Run an Azure Functions Python app locally."
    )
    parser.add_argument("--app-dir", type=Path, default=Path("."), help="folder of function_app.py")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port (0: any free port)")
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file whose Values become environment variables "
        "(default: <app-dir>/local.settings.json, skipped if absent)",
    )
    parser.add_argument(
        "--function-key",
        default=None,
        help=f"function key of FUNCTION-level routes (default: setting {FUNCTION_KEY_SETTING})",
    )
    parser.add_argument(
        "--master-key",
        default=None,
        help=f"master key, accepted on every route (default: setting {MASTER_KEY_SETTING})",
    )
    parser.add_argument("--verbose", action="store_true", help="DEBUG logs with binding sizes")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="orchestration seconds per real second (durable timers fire this much sooner)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".local/devhost"),
        help="where durable state is kept across restarts",
    )
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def read_settings(args: argparse.Namespace) -> dict[str, str]:
    """Settings file values, overridden by real environment variables."""
    path = args.settings
    if path is None:
        path = args.app_dir / "local.settings.json"
        if not path.exists():
            _LOG.info("no %s; using the environment only", path)
            return {}
    return merge_settings(load_local_settings(path), os.environ)


def describe(function: IndexedFunction, url: str, route_prefix: str) -> str:
    """One line per function for the startup banner."""
    if function.trigger_type != "httpTrigger":
        return f"  {function.name}: {function.trigger_type}"
    methods = ",".join(function.trigger.get("methods") or ["*"])
    route = function.trigger.get("route") or function.name
    path = "/".join(p for p in (route_prefix, route) if p)
    return f"  {function.name}: [{methods}] {url}/{path}"


async def serve(host: Host) -> int:
    """Start the host, wait for SIGINT or SIGTERM, stop it."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await host.start()
    except (HostStartError, IndexingError, RouteError, SettingsError) as err:
        _LOG.error("devhost cannot start: %s", err)
        return EXIT_START_FAILED
    except Exception as err:
        _LOG.debug("startup failure", exc_info=True)
        _LOG.error("devhost cannot start: %s: %s", type(err).__name__, err)
        return EXIT_START_FAILED
    lines = [describe(f, host.url, host.route_prefix) for f in host.index.functions.values()]
    _LOG.info("Functions:\n%s", "\n".join(sorted(lines)))
    await stopping.wait()
    _LOG.info("stopping")
    await host.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    configure_logging(verbose=args.verbose)
    try:
        settings = read_settings(args)
    except SettingsError as err:
        _LOG.error("%s", err)
        return EXIT_USAGE
    host = Host(
        app_dir=args.app_dir.resolve(),
        settings=settings,
        port=args.port,
        keys=HostKeys(function=args.function_key, master=args.master_key),
        state_dir=args.state_dir.resolve(),
        time_scale=args.time_scale,
    )
    return asyncio.run(serve(host))


if __name__ == "__main__":
    sys.exit(main())
