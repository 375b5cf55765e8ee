"""Stage durations as a histogram of logarithmic buckets, and percentiles read from it.

Keeping every duration to compute an exact median means reading every request; a
histogram whose buckets are 1 % wide keeps a few hundred counters per stage and still
places each duration within half a percent of its exact value, and each percentile
within one percent (30 seconds for durations under a minute). The database computes the
same buckets
(`duration_bucket` in tracking's migration 0002); tests hold the two to each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

GROWTH = 1.01
FIRST_BOUND_SECONDS = 60.0


def bucket_of(seconds: float) -> int:
    """0 under a minute, else b such that 60·1.01^(b-1) ≤ seconds < 60·1.01^b."""
    if seconds < FIRST_BOUND_SECONDS:
        return 0
    return 1 + math.floor(math.log(seconds / FIRST_BOUND_SECONDS) / math.log(GROWTH))


def middle_of(bucket: int) -> float:
    """The duration (seconds) standing for a bucket: its geometric middle."""
    if bucket <= 0:
        return FIRST_BOUND_SECONDS / 2
    return FIRST_BOUND_SECONDS * GROWTH ** (bucket - 1) * math.sqrt(GROWTH)


def percentile(histogram: Sequence[tuple[int, int]], fraction: float) -> float | None:
    """The duration (seconds) at `fraction` (0..1) of the counts, interpolated between the
    two nearest ranks as `percentile_cont` does; `histogram` is (bucket, count) in bucket
    order."""
    total = sum(count for _, count in histogram)
    if total <= 0:
        return None
    rank = fraction * (total - 1)
    below, above = _at_rank(histogram, math.floor(rank)), _at_rank(histogram, math.ceil(rank))
    return below + (rank - math.floor(rank)) * (above - below)


def _at_rank(histogram: Sequence[tuple[int, int]], index: int) -> float:
    """The duration standing for the `index`-th smallest one (0-based)."""
    seen = 0
    for bucket, count in histogram:
        seen += count
        if seen > index:
            return middle_of(bucket)
    return middle_of(histogram[-1][0])
