"""Stage durations kept as a histogram of 1 %-wide buckets still give each percentile to
within about one percent."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from services.tracking.domain.durations import bucket_of, middle_of, percentile

durations = st.floats(min_value=60, max_value=3e8, allow_nan=False)


@given(durations)
def test_each_duration_falls_in_a_bucket_whose_middle_is_within_half_a_percent(
    seconds: float,
) -> None:
    assert abs(middle_of(bucket_of(seconds)) - seconds) / seconds <= 0.0051


def test_durations_under_a_minute_share_the_first_bucket() -> None:
    assert {bucket_of(s) for s in (-3.0, 0.0, 30.0, 59.99)} == {0}
    assert bucket_of(60.0) == 1
    assert middle_of(0) == 30.0


@given(st.lists(durations, min_size=1, max_size=300), st.sampled_from([0.5, 0.9]))
def test_a_percentile_from_the_histogram_is_the_exact_one_within_half_a_percent(
    values: list[float], fraction: float
) -> None:
    histogram = sorted(Counter(bucket_of(v) for v in values).items())
    ordered, rank = sorted(values), fraction * (len(values) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    exact = low + (rank - math.floor(rank)) * (high - low)  # as percentile_cont interpolates

    found = percentile(histogram, fraction)

    assert found is not None
    assert abs(found - exact) / exact <= 0.0051


def test_no_durations_no_percentile() -> None:
    assert percentile([], 0.5) is None
