"""The figures of one run, printed as tables beside the targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.measure import Latency

TARGETS = {"replay": 50_000.0, "verify": 200_000.0, "query_p99_ms": 50.0}


@dataclass
class Report:
    events: int
    requests: int
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, str] = field(default_factory=dict)
    archived_requests: int = 0
    office: str | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)
    rates: list[tuple[str, int, float, dict[str, Any]]] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    stats_check: dict[str, Any] = field(default_factory=dict)
    comparison: list[tuple[str, str, int, float]] = field(default_factory=list)

    def step(self, name: str, seconds: float) -> None:
        self.steps.append((name, seconds))
        print(f"  {name}: {seconds:.1f} s", flush=True)

    def rate(self, name: str, events: int, seconds: float, outcome: dict[str, Any]) -> None:
        self.rates.append((name, events, seconds, outcome))
        print(f"  {name}: {events / seconds:,.0f} events/s ({seconds:.1f} s)", flush=True)
        print(f"    {_brief(outcome)}", flush=True)

    def seconds(self, prefix: str) -> float:
        """The seconds of the step or measure whose name starts with `prefix`."""
        found = [s for n, s in self.steps if n.startswith(prefix)]
        found += [s for n, _, s, _ in self.rates if n.startswith(prefix)]
        return found[0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def print(self) -> None:
        print(f"\n## tracking benchmark, {self.started}\n")
        for name, value in self.machine.items():
            print(f"- {name}: {value}")
        print(
            f"\n{self.events:,} events archived ({self.archived_requests:,} requests); "
            f"the list and stats run over {self.requests:,} requests.\n"
        )
        print("| step | seconds |\n|---|---:|")
        for name, seconds in self.steps:
            print(f"| {name} | {seconds:.1f} |")
        print("\n| measure | events/s | seconds | target | met |\n|---|---:|---:|---:|---|")
        for name, events, seconds, _ in self.rates:
            target = TARGETS["verify" if name.startswith("verify") else "replay"]
            rate = events / seconds
            print(
                f"| {name} | {rate:,.0f} | {seconds:.1f} | ≥ {target:,.0f} | "
                f"{'yes' if rate >= target else 'no'} |"
            )
        print("\n| query (50 a page) | rows | p50 ms | p99 ms | runs | met (p99 ≤ 50 ms) |")
        print("|---|---:|---:|---:|---:|---|")
        for latency in self.latencies:
            met = "yes" if latency.p99 <= TARGETS["query_p99_ms"] else "no"
            print(
                f"| {latency.name} | {latency.rows} | {latency.p50:.2f} | {latency.p99:.2f} | "
                f"{latency.runs} | {met} |"
            )
        if self.stats_check:
            check = ", ".join(f"{k}={v}" for k, v in self.stats_check.items())
            print(f"\nthe stats' tallies against an aggregation over every request: {check}")
        if self.comparison:
            print("\n| same events, same PostgreSQL | implementation | events | events/s |")
            print("|---|---|---:|---:|")
            for what, who, events, seconds in self.comparison:
                print(f"| {what} | {who} | {events:,} | {events / seconds:,.0f} |")


def _brief(outcome: dict[str, Any]) -> str:
    keys = ("equal_to_live", "differing_count", "requests", "rows_changed", "ok", "unreadable")
    return ", ".join(f"{k}={outcome[k]}" for k in keys if k in outcome)
