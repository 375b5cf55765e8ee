"""Benchmarks: scripts that measure the system at scale and print what they measured.

Not tests: nothing here asserts a target. `python -m bench.tracking` is the one for the
tracking service (docs/benchmarks/tracking.md records its figures).
"""
