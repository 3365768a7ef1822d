"""Benchmark of the demo's engine against plain `generate()`: `python -m omni_demo.bench --help`."""
