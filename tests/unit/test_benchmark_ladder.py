"""`make bench` says up to which steady load its machine kept received → routed within the
target: the ladder of rates it tries after the lifecycles (bench/system_report.py)."""

from __future__ import annotations

from bench.figures import Latencies, Rung
from bench.system_report import SystemReport


def _latencies(p99_ms: float) -> Latencies:
    return Latencies(count=300, p50_ms=p99_ms / 2, p99_ms=p99_ms, max_ms=p99_ms, mean_ms=0)


def _report(main_p99_ms: float, *rungs: Rung) -> SystemReport:
    report = SystemReport(command="python -m bench.system")
    report.open_loop_rate = 100
    report.routed_visible = _latencies(main_p99_ms)
    report.ladder = list(rungs)
    return report


def test_the_highest_rate_kept_within_the_target_is_reported_with_every_rate_tried() -> None:
    report = _report(
        850.0,
        Rung(10, _latencies(92.0), missing=0),
        Rung(25, _latencies(120.2), missing=0),
        Rung(50, _latencies(260.0), missing=0),
    )

    assert report.highest_rate_met() == 10
    row = next(line for line in report.table() if "the highest rate tried" in line)
    assert "(of 10, 25, 50, 100 requests/s) | 10 requests/s |" in row
    assert "| 25 | 300 | 60.1 ms | 120.2 ms | 120.2 ms | **no** |" in report.details()


def test_the_main_rate_counts_when_it_met_the_target() -> None:
    report = _report(64.8, Rung(10, _latencies(40.0), missing=0))

    assert report.highest_rate_met() == 100


def test_a_rate_at_which_a_request_went_unseen_is_not_kept_within_the_target() -> None:
    report = _report(850.0, Rung(10, _latencies(40.0), missing=1))

    assert report.highest_rate_met() == 0
    assert "| none |" in next(line for line in report.table() if "the highest rate" in line)
    assert any("at 10 requests/s (the ladder), 1 request(s)" in line for line in report.details())


def test_without_a_ladder_the_table_says_nothing_of_it() -> None:
    report = _report(64.8)

    assert not any("the highest rate tried" in line for line in report.table())
