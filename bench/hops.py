"""Where a request's way from received to routed spends its time, from the services' own
histograms (shared/metrics.py), read before and after the open-loop phase:

- intake's `mla_outbox_publish_delay_seconds`: from the transaction that stored `received`
  to its publication;
- routing's `mla_event_age_seconds{type="mla.request.received"}`: from intake's time of
  `received` to the commit of routing's decision (intake's publication, the broker's hold
  of the fetch and routing's queue included);
- routing's publish delay, for `routed`;
- tracking's age of `routed`: from routing's time of it to the commit of the view (routing's
  publication included).

Means are exact (sum over count); percentiles are the upper bound of the bucket they fall
in, as Prometheus keeps them.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from bench.http_client import Pool, request_bytes
from bench.system_stack import HOST

# (service, metric, event type or None, what it measures)
HOPS = (
    ("intake", "mla_outbox_publish_delay_seconds", None, "intake: stored → published"),
    (
        "routing",
        "mla_event_age_seconds",
        "mla.request.received",
        "routing: received → routing's decision committed",
    ),
    ("routing", "mla_outbox_publish_delay_seconds", None, "routing: stored → published"),
    (
        "tracking",
        "mla_event_age_seconds",
        "mla.request.routed",
        "tracking: routing's decision → the view committed",
    ),
)

HOP_METRICS = frozenset(name for _, name, _, _ in HOPS)
_SAMPLE = re.compile(r"^(\w+?)_(bucket|sum|count)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class Reading:
    """One histogram as read: its sum, its count and each bucket's cumulative count."""

    sum: float = 0.0
    count: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)


Histograms = dict[tuple[str, str | None], Reading]  # by (metric, its label or None)


@dataclass
class Hop:
    what: str
    count: int
    mean_ms: float
    p50_ms: float  # the upper bound of the bucket the median falls in
    p99_ms: float


async def _metrics(pool: Pool, token: str) -> str:
    """What a service's `/metrics` shows the operator now."""
    answer = await pool.call(request_bytes("GET", HOST, "/metrics", token))
    if answer.status != 200:
        raise RuntimeError(f"/metrics answered {answer.status} to the operator")
    return answer.body.decode()


async def histograms(pool: Pool, token: str, names: frozenset[str] = HOP_METRICS) -> Histograms:
    """The histograms of these names a service exposes now (by default the hops')."""
    found: Histograms = {}
    for line in (await _metrics(pool, token)).splitlines():
        match = _SAMPLE.match(line)
        if match is None or match[1] not in names:
            continue
        labels = dict(_LABEL.findall(match[3] or ""))
        # Event types label the ages; intake's group commit labels its batches by `work`.
        reading = found.setdefault((match[1], labels.get("type", labels.get("work"))), Reading())
        value = float(match[4])
        if match[2] == "bucket":
            reading.buckets[float(labels["le"])] = value
        elif match[2] == "sum":
            reading.sum = value
        else:
            reading.count = value
    return found


async def lag(pool: Pool, token: str) -> float:
    """The messages a service's consumer has not handled yet in the partitions it holds (its
    gauge `mla_consumer_lag_messages`, set once a second, at each offset commit)."""
    return await _summed(pool, token, "mla_consumer_lag_messages")


async def rereads(pool: Pool, token: str) -> int:
    """How many times a service's consumer read a partition again because the broker handed
    it messages past offsets it skipped (`mla_consumer_rereads_total`, shared/consumer_gaps.py)."""
    return int(await _summed(pool, token, "mla_consumer_rereads_total"))


async def _summed(pool: Pool, token: str, name: str) -> float:
    """Every series of the metric `name` a service exposes now, whatever its labels, added up."""
    series = re.compile(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", re.M)
    return sum(float(value) for value in series.findall(await _metrics(pool, token)))


async def settled(pools: list[Pool], token: str, within: float) -> float:
    """Seconds until none of these services' consumers has anything left to handle, for
    longer than the gauge takes to be set again (at most `within`)."""
    started = time.perf_counter()
    quiet_since: float | None = None
    while (now := time.perf_counter()) - started < within:
        lags = [await lag(pool, token) for pool in pools]
        if any(lags):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > 1.2:
            return quiet_since - started
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


def hops(before: dict[str, Histograms], after: dict[str, Histograms]) -> list[Hop]:
    """Each hop over what happened between the two readings."""
    found = []
    for service, metric, kind, what in HOPS:
        now = after.get(service, {}).get((metric, kind))
        if now is None:
            continue
        then = before.get(service, {}).get((metric, kind), Reading())
        count = now.count - then.count
        if count <= 0:
            continue
        total = now.sum - then.sum
        buckets = {
            le: cumulative - then.buckets.get(le, 0.0)
            for le, cumulative in sorted(now.buckets.items())
        }
        found.append(
            Hop(
                what=what,
                count=int(count),
                mean_ms=total / count * 1000,
                p50_ms=_bound(buckets, 0.50 * count) * 1000,
                p99_ms=_bound(buckets, 0.99 * count) * 1000,
            )
        )
    return found


def _bound(buckets: dict[float, float], rank: float) -> float:
    """The upper bound of the first bucket holding `rank` observations (inf past the last)."""
    for le, cumulative in buckets.items():
        if cumulative >= rank:
            return le
    return float("inf")
