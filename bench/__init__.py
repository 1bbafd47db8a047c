"""Benchmarks; run the scripts directly, e.g. `python bench/bench_core.py`."""
