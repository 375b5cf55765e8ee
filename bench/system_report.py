"""The figures of one `python -m bench.system` run: tables beside the targets of issue 8,
printed, and written into docs/benchmarks/system.md between its result markers (the prose
around them is kept) and as JSON beside it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import idle
from bench.figures import TARGETS, WINDOW_SECONDS, Backlog, Latencies, Rung
from bench.hops import Hop
from bench.resources import Phase

BEGIN, END = "<!-- bench.system results: begin -->", "<!-- bench.system results: end -->"
# Resident memory is read in mebibytes, as the kernel counts pages; the target is in
# megabytes (millions of bytes), which are the smaller unit: 150 MB is 143 MiB.
MIB = 1024 * 1024
MB = 1_000_000


@dataclass
class SystemReport:
    command: str
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    intake_rate: float = 0.0
    intake_latency: Latencies | None = None
    intake_refused: dict[int, int] = field(default_factory=dict)
    intake_broken: int = 0
    downstream_catch_up_seconds: float = 0.0
    # After that, until intake's and notify's consumers had nothing left to handle.
    consumers_settled_seconds: float = 0.0
    # intake with the machine to itself (routing, tracking and notify paused), and how the
    # others then worked off what it took in (bench/alone.py).
    intake_alone_rate: float = 0.0
    intake_alone_latency: Latencies | None = None
    alone_backlog: Backlog | None = None
    # How many submissions intake stored together in a batch, on average, under the closed
    # loop (its metric `mla_group_commit_calls_per_batch`); 0 when not read.
    submissions_per_batch: float = 0.0
    # Requests of the sustained load never seen routed within the wait, and where the first
    # of them stood in each service's records then (bench/whereabouts.py).
    catch_up_missing: int = 0
    catch_up_whereabouts: dict[str, str] = field(default_factory=dict)
    open_loop_rate: float = 0.0
    open_loop_intake: Latencies | None = None
    routed_visible: Latencies | None = None
    routed_missing: int = 0
    # Where the first of the requests never seen routed stood in each service's records.
    routed_whereabouts: dict[str, str] = field(default_factory=dict)
    # How many times each service's consumer read a partition again because the broker had
    # handed it messages past offsets it skipped (shared/consumer_gaps.py), over the run.
    rereads: dict[str, int] = field(default_factory=dict)
    # The same latencies by the five seconds of the run in which the request was sent: how
    # they move while the load lasts (the embedded broker's fetches grow dearer with its log).
    routed_windows: list[tuple[int, Latencies]] = field(default_factory=list)
    # Where that way spent its time, from the services' histograms (bench/hops.py).
    routed_hops: list[Hop] = field(default_factory=list)
    # received → routed at other rates than the main one, measured before it (the ladder).
    ladder: list[Rung] = field(default_factory=list)
    lifecycle_rate: float = 0.0
    lifecycle_duration: Latencies | None = None
    lifecycle_count: int = 0
    lifecycle_close_retries: int = 0
    lifecycle_failures: list[str] = field(default_factory=list)
    append: list[tuple[str, str, int, float]] = field(default_factory=list)
    peak_rss: dict[str, int] = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)

    def append_ratio(self) -> tuple[str, float] | None:
        """Ours over the library's, in the way the services append (several writers)."""
        for how, who, _, seconds in self.append:
            if "writers" in how and who.startswith("ours"):
                theirs = [
                    s for h, w, _, s in self.append if h == how and w.startswith("eventsourcing")
                ]
                if theirs:
                    return how, theirs[0] / seconds
        return None

    def rungs(self) -> list[Rung]:
        """received → routed at every rate it was measured at: the ladder's and the main one."""
        if self.routed_visible is None:
            return list(self.ladder)
        return [*self.ladder, Rung(self.open_loop_rate, self.routed_visible, self.routed_missing)]

    def rates_tried(self) -> list[float]:
        return sorted({rung.rate for rung in self.rungs()})

    def highest_rate_met(self) -> float:
        """The highest rate at which p99 stayed within the target; 0 for none."""
        return max((rung.rate for rung in self.rungs() if rung.met()), default=0.0)

    def idle_phase(self) -> Phase | None:
        return next((p for p in self.phases if p.name == idle.PHASE), None)

    def table(self) -> list[str]:
        rows = [
            "| measure | figure | target | met |",
            "|---|---:|---:|---|",
            _row(
                f"intake: accepted requests/s, sustained ({self.settings.get('intake', '')})",
                f"{self.intake_rate:,.0f}",
                "≥ 1,000",
                self.intake_rate >= TARGETS["intake_rate"],
            ),
        ]
        if self.intake_latency:
            rows.append(
                _row(
                    "intake: latency p50 / p99 at that load", self.intake_latency.brief(), "", None
                )
            )
        if self.intake_alone_latency:
            rows += [
                _row(
                    "intake alone, routing, tracking and notify paused: accepted requests/s "
                    f"({self.settings.get('intake alone', '')})",
                    f"{self.intake_alone_rate:,.0f}",
                    "",
                    None,
                ),
                _row(
                    "intake alone: latency p50 / p99 at that load",
                    self.intake_alone_latency.brief(),
                    "",
                    None,
                ),
            ]
        if self.alone_backlog:
            rows.append(
                _row(
                    "then, with the machine to themselves, routing and tracking worked off what "
                    f"it took in ({self.alone_backlog.requests:,} requests in "
                    f"{self.alone_backlog.seconds:.1f} s): requests/s routed",
                    f"{self.alone_backlog.rate():,.0f}",
                    "",
                    None,
                )
            )
        if self.routed_visible:
            rows.append(
                _row(
                    f"received → routed visible in tracking, p50 / p99 at "
                    f"{self.open_loop_rate:g} requests/s (seen in its "
                    f"{self.settings.get('follow', 'archive')})",
                    self.routed_visible.brief(),
                    "p99 ≤ 100 ms",
                    self.routed_visible.p99_ms <= TARGETS["routed_p99_ms"]
                    and not self.routed_missing,
                )
            )
        if self.open_loop_intake:
            rows.append(
                _row(
                    f"intake: latency p50 / p99 at {self.open_loop_rate:g} requests/s",
                    self.open_loop_intake.brief(),
                    "",
                    None,
                )
            )
        if self.ladder:
            rows.append(
                _row(
                    "the highest rate tried at which received → routed kept p99 ≤ 100 ms "
                    f"(of {', '.join(f'{r:g}' for r in self.rates_tried())} requests/s)",
                    f"{highest:g} requests/s" if (highest := self.highest_rate_met()) else "none",
                    "",
                    None,
                )
            )
        rows.append(
            _row(
                f"full lifecycle: requests/s from submission to closed "
                f"({self.settings.get('lifecycle', '')})",
                f"{self.lifecycle_rate:,.1f}",
                "",
                None,
            )
        )
        ratio = self.append_ratio()
        if ratio:
            rows.append(
                _row(
                    f"event append vs `eventsourcing` ({ratio[0]})",
                    f"{ratio[1]:.2f} times",
                    "≥ 2 times",
                    ratio[1] >= TARGETS["append_ratio"],
                )
            )
        for name, rss in self.peak_rss.items():
            rows.append(
                _row(
                    f"{name}: peak resident memory under load",
                    f"{rss / MIB:,.0f} MiB ({rss / MB:,.0f} MB)",
                    "≤ 150 MB",
                    rss / MB <= TARGETS["rss_mb"],
                )
            )
        return rows

    def details(self) -> list[str]:
        lines = []
        if self.append:
            lines += [
                "",
                "| append, same events, same PostgreSQL | implementation | events | events/s |",
                "|---|---|---:|---:|",
            ]
            lines += [
                f"| {how} | {who} | {events:,} | {events / seconds:,.0f} |"
                for how, who, events, seconds in self.append
            ]
        if self.phases:
            parts = list(self.phases[0].cpu)
            lines += [
                "",
                "CPU of each part during each phase, in cores (2 cores on this machine):",
                "",
                "| phase | seconds | " + " | ".join(parts) + " |",
                "|---|---:|" + "---:|" * len(parts),
            ]
            lines += [
                f"| {p.name} | {p.seconds:.0f} | "
                + " | ".join(f"{p.share(part):.2f}" for part in parts)
                + " |"
                for p in self.phases
            ]
        if self.routed_windows:
            lines += [
                "",
                f"received → routed at {self.open_loop_rate:g} requests/s by the five seconds of"
                " the run in which each request was sent:",
                "",
                "| seconds | requests | p50 | p99 | max |",
                "|---|---:|---:|---:|---:|",
            ]
            lines += [
                f"| {start}-{start + WINDOW_SECONDS} | {window.count:,} | {window.p50_ms:.0f} ms "
                f"| {window.p99_ms:.0f} ms | {window.max_ms:.0f} ms |"
                for start, window in self.routed_windows
            ]
        if self.routed_hops:
            lines += [
                "",
                "Where that time went, from the services' histograms over the same run (each"
                " age holds the publication before it; percentiles are the upper bounds of their"
                " buckets):",
                "",
                "| step | events | mean | p50 ≤ | p99 ≤ |",
                "|---|---:|---:|---:|---:|",
            ]
            lines += [
                f"| {hop.what} | {hop.count:,} | {hop.mean_ms:.1f} ms | {hop.p50_ms:g} ms "
                f"| {hop.p99_ms:g} ms |"
                for hop in self.routed_hops
            ]
        if self.ladder:
            lines += [
                "",
                "received → routed at each rate of the ladder (300 requests at each, before"
                " everything else):",
                "",
                "| requests/s | requests | p50 | p99 | max | p99 ≤ 100 ms |",
                "|---:|---:|---:|---:|---:|---|",
            ]
            lines += [
                f"| {rung.rate:g} | {rung.routed.count:,} | {rung.routed.p50_ms:.1f} ms "
                f"| {rung.routed.p99_ms:.1f} ms | {rung.routed.max_ms:.1f} ms "
                f"| {'yes' if rung.met() else '**no**'} |"
                for rung in self.ladder
            ]
        counted = [p for p in self.phases if p.requests]
        if counted:
            parts = list(counted[0].cpu)
            lines += [
                "",
                "CPU per request taken in, in milliseconds (everything each part did meanwhile,"
                " its consumers included, over the requests intake accepted in the phase):",
                "",
                "| phase | requests | " + " | ".join(parts) + " |",
                "|---|---:|" + "---:|" * len(parts),
            ]
            lines += [
                f"| {p.name} | {p.requests:,} | "
                + " | ".join(f"{p.cpu[part] / p.requests * 1000:.2f}" for part in parts)
                + " |"
                for p in counted
            ]
        notes = []
        if resting := self.idle_phase():
            shares = {part: resting.share(part) for part in resting.cpu if part != "load generator"}
            notes.append(
                f"with no request sent ({resting.seconds:.0f} s, before everything else), the "
                f"parts together used {sum(shares.values()):.2f} of a core: "
                + ", ".join(f"{part} {share:.3f}" for part, share in shares.items())
            )
        if self.intake_refused or self.intake_broken:
            notes.append(f"intake refused {self.intake_refused}, broken {self.intake_broken}")
        if self.catch_up_missing:
            notes.append(
                f"after the sustained load, {self.catch_up_missing} request(s) it accepted never "
                f"showed as routed in tracking within {self.downstream_catch_up_seconds:.0f} s; "
                "where the first stood then: "
                + "; ".join(f"{r} ({w})" for r, w in self.catch_up_whereabouts.items())
            )
        elif self.downstream_catch_up_seconds:
            notes.append(
                "after the sustained load, routing and tracking caught up with its backlog in "
                f"{self.downstream_catch_up_seconds:.0f} s, intake's and notify's consumers "
                f"{self.consumers_settled_seconds:.1f} s after them"
            )
        if self.submissions_per_batch:
            notes.append(
                "under the sustained load, intake stored its submissions "
                f"{self.submissions_per_batch:.1f} at a time on average (change 50)"
            )
        if self.routed_missing:
            notes.append(
                f"{self.routed_missing} request(s) never showed as routed"
                + (
                    "; where the first stood then: "
                    + "; ".join(f"{r} ({w})" for r, w in self.routed_whereabouts.items())
                    if self.routed_whereabouts
                    else ""
                )
            )
        if self.rereads:
            notes.append(
                "partitions read again because the broker had handed a consumer messages past "
                "offsets it skipped (change 63), over the run: "
                + ", ".join(f"{name} {count}" for name, count in self.rereads.items())
            )
        if self.alone_backlog and self.alone_backlog.missing:
            notes.append(
                f"of what intake took in alone, {self.alone_backlog.missing} request(s) never "
                f"showed as routed within {self.alone_backlog.seconds:.0f} s"
            )
        for rung in self.ladder:
            if rung.missing:
                notes.append(
                    f"at {rung.rate:g} requests/s (the ladder), {rung.missing} request(s) "
                    "refused or never shown as routed"
                )
        if self.lifecycle_duration:
            notes.append(
                f"{self.lifecycle_count} lifecycles, each {self.lifecycle_duration.brief()} "
                f"(p50 / p99) from submission to closed; {self.lifecycle_close_retries} closures "
                "asked again because intake had not yet heard of the last report"
            )
        if self.lifecycle_failures:
            notes.append(f"failed lifecycles: {self.lifecycle_failures[:3]}")
        if notes:
            lines += ["", *[f"- {note}" for note in notes]]
        return lines

    def markdown(self) -> str:
        lines = [
            f"Run of {self.started}: `{self.command}`",
            "",
            *[f"- {name}: {value}" for name, value in self.machine.items()],
            "",
            *self.table(),
            *self.details(),
        ]
        return "\n".join(lines)

    def print(self) -> None:
        print("\n## system benchmark\n")
        print(self.markdown(), flush=True)

    def write(self, markdown: Path) -> None:
        block = f"{BEGIN}\n{self.markdown()}\n{END}"
        text = markdown.read_text() if markdown.exists() else ""
        if BEGIN in text and END in text:
            text = re.sub(
                re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S
            )
        else:
            text = f"{text.rstrip()}\n\n{block}\n" if text else f"# System benchmark\n\n{block}\n"
        markdown.write_text(text)
        data = asdict(self)
        markdown.with_suffix(".json").write_text(json.dumps(data, indent=2, default=str) + "\n")


def _row(measure: str, figure: str, target: str, met: bool | None) -> str:
    verdict = "" if met is None else ("yes" if met else "**no**")
    return f"| {measure} | {figure} | {target} | {verdict} |"
