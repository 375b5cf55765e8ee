"""`make bench` judges each service's peak memory against the target in megabytes, the unit
the target names, and says the mebibytes it read as well (bench/system_report.py)."""

from __future__ import annotations

from bench.system_report import SystemReport

MIB = 1024 * 1024


def _row(service: str, report: SystemReport) -> str:
    return next(line for line in report.table() if f"{service}: peak resident memory" in line)


def test_a_peak_under_150_mib_but_over_150_million_bytes_misses_the_target() -> None:
    report = SystemReport(command="python -m bench.system")
    report.peak_rss = {"tracking": 145 * MIB, "routing": 121 * MIB}

    assert "| 145 MiB (152 MB) | ≤ 150 MB | **no** |" in _row("tracking", report)
    assert "| 121 MiB (127 MB) | ≤ 150 MB | yes |" in _row("routing", report)
