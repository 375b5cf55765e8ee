"""`make bench` starts the lifecycles once every consumer has worked off the sustained load,
intake's own included (whose knowledge of the reports a closure needs), not after a fixed
pause: it reads each service's `mla_consumer_lag_messages` (bench/hops.py)."""

from __future__ import annotations

import asyncio

from bench import hops
from bench.http_client import Answer


class _Metrics:
    """A service whose consumer reports these lags, one reading after another."""

    def __init__(self, *lags: tuple[float, ...]) -> None:
        self._lags = list(lags)

    async def call(self, request: bytes) -> Answer:
        assert request.startswith(b"GET /metrics ")
        partitions = self._lags.pop(0) if len(self._lags) > 1 else self._lags[0]
        text = "".join(
            f'mla_consumer_lag_messages{{partition="{number}"}} {lag}\n'
            for number, lag in enumerate(partitions)
        )
        return Answer(200, f"# TYPE mla_consumer_lag_messages gauge\n{text}".encode())


def test_a_consumers_lag_is_the_sum_over_its_partitions() -> None:
    assert asyncio.run(hops.lag(_Metrics((3.0, 0.0, 4.0)), "token")) == 7  # type: ignore[arg-type]


def test_the_wait_ends_once_every_consumer_stayed_without_lag() -> None:
    intake = _Metrics((120.0, 5.0), (40.0, 0.0), (0.0, 0.0))
    notify = _Metrics((0.0,))

    seconds = asyncio.run(hops.settled([intake, notify], "token", within=30))  # type: ignore[list-item]

    # Two readings 0.2 s apart still found some left; quiet from the third on.
    assert 0.35 < seconds < 1.0


def test_the_wait_is_bounded() -> None:
    behind = _Metrics((1.0,))

    assert asyncio.run(hops.settled([behind], "token", within=0.5)) >= 0.5  # type: ignore[list-item]
