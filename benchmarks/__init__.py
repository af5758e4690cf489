"""Scripts that print numbers; run as `python -m benchmarks.<name>` from the repo root."""
