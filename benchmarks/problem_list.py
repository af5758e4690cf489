"""What a 200 KB body with 20,000 bad fields costs: validation time and the 400 body's size.

In process, through the same functions the HTTP handler calls (parse_envelope, problem_details),
so the numbers are the app's share of the answer, without the host and the worker hop.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from shared.errors import InvalidRequest
from shared.problems import problem_details
from shared.validation import decode_json, parse_envelope
from tests.examples import RESOURCE_GROUP, SUBSCRIPTION, envelope


def body(bad_fields: int) -> bytes:
    """An envelope whose definition lists `bad_fields` fields, each with three problems."""
    return json.dumps(envelope("BenchHub", fields=[{"x": 1}] * bad_fields)).encode("utf-8")


def answer(raw: bytes) -> tuple[int, int]:
    """The problem count and the size in bytes of the 400 body for `raw`."""
    try:
        parse_envelope(
            decode_json(raw, "request body"),
            default_subscription_id=SUBSCRIPTION,
            default_resource_group=RESOURCE_GROUP,
        )
    except InvalidRequest as invalid:
        problem = problem_details(invalid.problems, title="The interaction type request is invalid")
        return len(invalid.problems), len(json.dumps(problem).encode("utf-8"))
    raise AssertionError("the body was accepted")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bad-fields", type=int, default=20_000)
    args = parser.parse_args()
    raw = body(args.bad_fields)
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        problems, size = answer(raw)
        seconds.append(time.perf_counter() - started)
    print(f"request body         {len(raw) / 1024:8.1f} KB  ({args.bad_fields} bad fields)")
    print(f"problems found       {problems:8d}")
    print(f"400 body             {size / 1024:8.1f} KB")
    print(
        f"validate + answer    {statistics.median(seconds) * 1000:8.1f} ms  (median of {args.runs})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
