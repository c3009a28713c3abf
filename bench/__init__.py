"""Benchmarks that print figures: `python -m bench` runs every `bench/bench_*.py` module.

Each module has a `main()` that prints a table and returns a dict of figures; the runner
merges them into `bench/results/latest.json`, one key per module.
"""
