"""Resident memory and CPU of each process of the run, sampled while the load runs.

Memory: the resident set (RSS) of each service, summed over its processes (a service run
with several workers counts them all), sampled twice a second; the peak is what the
target speaks of. CPU: the seconds each part used during a phase (the services, PostgreSQL,
the broker, and the load generator, this process), as a share of one core: where the two
cores went.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import psutil


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    """The CPU the processes used, with that of their children that ended: PostgreSQL's
    connections come and go, and a backend that exited during a phase took its seconds out
    of the tree (the catching-up phase once showed PostgreSQL at -0.19 of a core). Its
    parent, having reaped it, counts them in its children's times, each second once."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
        total += getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
    return total


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class Phase:
    name: str
    seconds: float
    # CPU seconds per part, over the phase.
    cpu: dict[str, float]
    # Peak RSS per service during the phase, in bytes.
    peak_rss: dict[str, int]
    # Requests taken in during the phase, when it counts them (for the CPU per request).
    requests: int = 0

    def share(self, part: str) -> float:
        """The part's CPU as a share of one core (1.0: one core busy the whole phase)."""
        return self.cpu.get(part, 0.0) / self.seconds if self.seconds else 0.0


@dataclass
class Sampler:
    """Samples the services' memory in a thread; `phase` measures CPU around a block."""

    services: dict[str, int]  # name -> pid
    others: dict[str, int] = field(default_factory=dict)  # postgres, broker -> pid
    interval: float = 0.5
    peak_rss: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    phases: list[Phase] = field(default_factory=list)
    _phase_peak: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        for name, pid in self.services.items():
            rss = _rss(_tree(pid))
            self.peak_rss[name] = max(self.peak_rss[name], rss)
            self._phase_peak[name] = max(self._phase_peak[name], rss)

    def cpu_now(self) -> dict[str, float]:
        every = {**self.services, **self.others}
        parts = {name: _cpu_seconds(_tree(pid)) for name, pid in every.items()}
        own = os.times()
        parts["load generator"] = own.user + own.system
        return parts

    def begin(self) -> tuple[float, dict[str, float]]:
        self._phase_peak = defaultdict(int)
        self.sample()
        return time.perf_counter(), self.cpu_now()

    def end(self, name: str, started: tuple[float, dict[str, float]]) -> Phase:
        self.sample()
        at, before = started
        after = self.cpu_now()
        phase = Phase(
            name=name,
            seconds=time.perf_counter() - at,
            cpu={part: after[part] - before.get(part, 0.0) for part in after},
            peak_rss=dict(self._phase_peak),
        )
        self.phases.append(phase)
        return phase
