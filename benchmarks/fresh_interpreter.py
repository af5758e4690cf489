"""Run a probe script in a new Python interpreter and read the JSON object it prints.

A fresh interpreter is how a cold worker starts: nothing is imported yet, and the probe times
itself from inside, so the interpreter's own start-up stays out of the numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def probe_json(
    code: str,
    *,
    cwd: Path,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """Run `code` with `python [options] -c` in `cwd` (and `env`, if given); its JSON output."""
    out = subprocess.run(
        [sys.executable, *options, "-c", code],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result
