"""`make bench` first says what the system costs doing nothing: the CPU of every part with no
request sent (bench/idle.py, bench/system_report.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from bench import idle
from bench.resources import Phase, Sampler
from bench.system_report import SystemReport


def test_the_idle_phase_measures_every_part_while_nothing_is_sent() -> None:
    service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sampler = Sampler({"intake": service.pid})

        phase = asyncio.run(idle.measure(sampler, settle=0, seconds=0.2))

        assert phase is not None and phase.name == idle.PHASE
        assert phase.seconds >= 0.2
        assert set(phase.cpu) == {"intake", "load generator"}
        assert phase.requests == 0, "no request is counted: it has no CPU per request"
        assert sampler.phases == [phase]
    finally:
        service.kill()
        service.wait()


def test_an_idle_phase_of_no_seconds_is_skipped() -> None:
    sampler = Sampler({})

    assert asyncio.run(idle.measure(sampler, settle=0, seconds=0)) is None
    assert sampler.phases == []


def test_the_report_says_what_the_idle_parts_cost_leaving_out_the_load_generator() -> None:
    report = SystemReport(command="python -m bench.system")
    report.phases = [
        Phase(
            name=idle.PHASE,
            seconds=10,
            cpu={"intake": 0.2, "routing": 0.4, "broker": 1.5, "load generator": 0.3},
            peak_rss={},
        )
    ]

    details = report.details()

    assert (
        "- with no request sent (10 s, before everything else), the parts together used 0.21 "
        "of a core: intake 0.020, routing 0.040, broker 0.150"
    ) in details
    assert "| idle, no request sent | 10 | 0.02 | 0.04 | 0.15 | 0.03 |" in details
    assert not any("CPU per request" in line for line in details)


def test_without_the_phase_the_report_says_nothing_of_it() -> None:
    report = SystemReport(command="python -m bench.system")

    assert not any("no request sent" in line for line in report.details())
