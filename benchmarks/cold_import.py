"""Cold-start cost of importing function_app.py, against the SDKs it cannot avoid.

Each sample is a fresh interpreter (as a cold worker is), timed from inside the process so
interpreter start-up is excluded. Prints medians and the overhead ratio; the budget is 30%.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.fresh_interpreter import probe_json

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 0.30
PROBE = """
import json, sys, time
start = time.perf_counter()
{imports}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "modules": len(sys.modules)}}))
"""
BASELINE = "import azure.functions\nimport azure.durable_functions"
APP = "import function_app"


def sample(imports: str) -> dict[str, float]:
    """Import `imports` in a new interpreter and return its timing."""
    return probe_json(PROBE.format(imports=imports), cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # Interleave the two so machine noise hits both alike; the first pair warms the disk cache.
    sample(BASELINE)
    sample(APP)
    base, app = [], []
    for _ in range(args.runs):
        base.append(sample(BASELINE))
        app.append(sample(APP))
    base_s = statistics.median(s["seconds"] for s in base)
    app_s = statistics.median(s["seconds"] for s in app)
    ratio = app_s / base_s - 1
    print(f"runs per variant           {args.runs}")
    print(f"azure.functions + durable  {base_s * 1000:8.1f} ms  {base[-1]['modules']:.0f} modules")
    print(f"function_app               {app_s * 1000:8.1f} ms  {app[-1]['modules']:.0f} modules")
    print(f"overhead                   {ratio * 100:8.1f} %   (budget {BUDGET * 100:.0f} %)")
    heavy = [
        m
        for m in ("azure.identity", "msal", "cryptography", "azure.storage.queue")
        if m
        in subprocess.run(
            [sys.executable, "-c", "import function_app, sys; print(' '.join(sys.modules))"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    ]
    print(f"heavy modules at import    {', '.join(heavy) or 'none'}")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
