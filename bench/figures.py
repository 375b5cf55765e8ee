"""The figures a `python -m bench.system` run is made of: latencies by percentile, a rung of
the ladder, a backlog worked off, and the targets of issue 8 they are held against
(bench/system_report.py puts them in tables)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

TARGETS = {
    "intake_rate": 1000.0,
    "routed_p99_ms": 100.0,
    "append_ratio": 2.0,
    "rss_mb": 150.0,
}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


# The width of the windows in which received → routed is also reported.
WINDOW_SECONDS = 5


@dataclass
class Latencies:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latencies:
        return cls(
            count=len(seconds),
            p50_ms=percentile(seconds, 0.50) * 1000,
            p99_ms=percentile(seconds, 0.99) * 1000,
            max_ms=max(seconds, default=0.0) * 1000,
            mean_ms=statistics.fmean(seconds) * 1000 if seconds else 0.0,
        )

    def brief(self) -> str:
        return f"{self.p50_ms:.1f} / {self.p99_ms:.1f} ms"


@dataclass
class Rung:
    """received → routed at one rate of the ladder."""

    rate: float
    routed: Latencies
    missing: int  # accepted but never seen routed, and refused

    def met(self) -> bool:
        return self.routed.p99_ms <= TARGETS["routed_p99_ms"] and not self.missing


@dataclass
class Backlog:
    """Requests left to route at once, and how long the system took to show them routed."""

    requests: int
    seconds: float
    missing: int  # never shown routed within the wait

    def rate(self) -> float:
        return (self.requests - self.missing) / self.seconds if self.seconds else 0.0
