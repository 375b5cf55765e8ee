"""`make bench` tells intake's own ceiling from the system's: intake alone, the other services
paused, then how fast those work off what it took in (bench/alone.py, bench/system_report.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.figures import Backlog, Latencies
from bench.system_report import SystemReport
from bench.system_stack import Stack


def test_intake_alone_and_the_backlog_it_left_are_reported_beside_the_sustained_rate() -> None:
    report = SystemReport(command="python -m bench.system")
    report.settings["intake alone"] = "32 clients, 20 s"
    report.intake_alone_rate = 1146.2
    report.intake_alone_latency = Latencies(
        count=22924, p50_ms=27.2, p99_ms=43.6, max_ms=60.0, mean_ms=28.0
    )
    report.alone_backlog = Backlog(requests=17474, seconds=50.2, missing=0)

    table = "\n".join(report.table())

    assert (
        "| intake alone, routing, tracking and notify paused: accepted requests/s "
        "(32 clients, 20 s) | 1,146 |  |  |"
    ) in table
    assert "| intake alone: latency p50 / p99 at that load | 27.2 / 43.6 ms |" in table
    assert "(17,474 requests in 50.2 s): requests/s routed | 348 |" in table


def test_requests_of_the_backlog_never_seen_routed_are_named_and_not_counted() -> None:
    report = SystemReport(command="python -m bench.system")
    report.alone_backlog = Backlog(requests=1000, seconds=10.0, missing=100)

    assert report.alone_backlog.rate() == 90
    assert any("100 request(s) never showed as routed" in line for line in report.details())


def test_without_the_phase_the_table_says_nothing_of_it() -> None:
    report = SystemReport(command="python -m bench.system")

    assert not any("alone" in line for line in report.table() + report.details())


def _stopped(process: psutil.Process, stopped: bool = True) -> bool:
    """Whether the process comes to be stopped (or not), once the signal just sent reached it."""
    for _ in range(200):
        if (process.status() == psutil.STATUS_STOPPED) == stopped:
            return True
        time.sleep(0.01)
    return False


def test_paused_services_use_no_cpu_until_let_go(tmp_path: Path) -> None:
    stack = Stack(tmp_path, server_url="")
    busy = "while True: pass"
    stack.processes["routing"] = subprocess.Popen([sys.executable, "-c", busy])
    stack.processes["intake"] = subprocess.Popen([sys.executable, "-c", busy])
    try:
        routing, intake = (psutil.Process(stack.processes[n].pid) for n in ("routing", "intake"))
        with stack.paused(["routing"]):
            assert _stopped(routing)
            assert intake.status() != psutil.STATUS_STOPPED
        assert _stopped(routing, stopped=False)
    finally:
        for process in stack.processes.values():
            process.kill()
            process.wait()
