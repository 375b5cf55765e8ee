"""A principal's rate allowance, one for every instance of a service, kept in its database.

The token buckets of shared/rate_limit.py live in one process: three instances of intake
behind one address would let a principal send three times its rate. Here the principal's
allowance is a row of the service's database (`rate_allowances`, created by
`shared.migrations.create_rate_allowances`), which every instance takes from: the moment
its bucket would be full again (the GCRA's "theoretical arrival time"), moved on by each
token taken. An instance takes a few tokens at a time (a lease, `lease_size`: a tenth of a
second's worth, at most a tenth of the burst) and spends them itself, so that the database
sees one short statement for every few requests, not one for each.

Tokens are taken from the allowance before they are spent and never given back: across the
instances a principal never gets more than its rate and burst; a lease left unspent for
`LEASE_SECONDS` is dropped, so the limit is at most a lease per instance stricter than set.

The calls of one principal that find its lease spent while another call of theirs is taking
the next one wait for that one (they would each take a lease, and strand all but one).

While the database cannot be reached, an instance limits by its own bucket (the limit of one
instance, as before), and looks again after `STORE_DOWN_SECONDS`: an outage of the store
must neither refuse every caller nor make each wait for a connection that fails.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import autocommit_driver, is_transient
from shared.rate_limit import MAX_CLIENTS, RateLimiter

log = structlog.get_logger("shared.rate_allowance")

# How long a lease stays spendable: a principal that moves to another instance (a new
# connection) leaves at most this long's worth of its lease behind.
LEASE_SECONDS = 1.0
STORE_DOWN_SECONDS = 5.0
# One statement, one transaction (the table is unlogged: no commit waits for the disk).
_CLAIM = "SELECT granted, wait FROM claim_rate_allowance($1, $2, $3, $4)"


@dataclass
class _Lease:
    tokens: int
    until: float


class SharedRateLimiter:
    """The principals' allowance of a service, taken through its database once `share`d;
    until then (an app without its runtime, as in unit tests) the instance's own bucket."""

    def __init__(self, local: RateLimiter, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.local = local
        self.lease_size = max(1, min(local.burst // 10, math.ceil(local.per_second / 10)))
        self._clock = clock
        self._engine: AsyncEngine | None = None
        self._leases: OrderedDict[str, _Lease] = OrderedDict()
        # The claim under way for a principal: the seconds to wait when it was refused, else 0.
        self._claims: dict[str, asyncio.Future[float]] = {}
        self._store_down_until: float | None = None

    @property
    def per_second(self) -> float:
        return self.local.per_second

    @property
    def burst(self) -> int:
        return self.local.burst

    def share(self, engine: AsyncEngine) -> None:
        """Take from the allowances kept in the database `engine` reaches."""
        self._engine = engine

    async def take(self, key: str) -> float:
        """Take one token for `key`: 0 when granted, else the seconds until one is back."""
        while True:
            engine = self._engine
            if engine is None or self._store_is_down():
                return self.local.take(key)
            if self._spend(key):
                return 0.0
            under_way = self._claims.get(key)
            if under_way is None:
                return await self._claim_lease(engine, key)
            wait = await asyncio.shield(under_way)
            if wait:
                return wait

    def _spend(self, key: str) -> bool:
        lease = self._leases.get(key)
        if lease is None or lease.tokens <= 0 or lease.until <= self._clock():
            return False
        lease.tokens -= 1
        return True

    def _store_is_down(self) -> bool:
        if self._store_down_until is None:
            return False
        if self._clock() < self._store_down_until:
            return True
        self._store_down_until = None
        return False

    async def _claim_lease(self, engine: AsyncEngine, key: str) -> float:
        """Take the next lease for `key` and one token of it: 0, or the seconds to wait."""
        under_way: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._claims[key] = under_way
        wait = 0.0
        try:
            granted, wait = await self._claim(engine, key)
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("rate_allowance.store_unreachable", error=type(exc).__name__)
            self._store_down_until = self._clock() + STORE_DOWN_SECONDS
            return self.local.take(key)
        else:
            if granted == 0:
                wait = max(wait, 1 / self.per_second)
                return wait
            self._leases.pop(key, None)
            self._leases[key] = _Lease(granted - 1, self._clock() + LEASE_SECONDS)
            if len(self._leases) > MAX_CLIENTS:
                self._leases.popitem(last=False)
            return 0.0
        finally:
            # Those waiting look at the lease again (or, refused, wait as long); after an
            # outage they find the store down and take from the instance's own bucket.
            del self._claims[key]
            under_way.set_result(wait)

    async def _claim(self, engine: AsyncEngine, key: str) -> tuple[int, float]:
        async with autocommit_driver(engine) as connection:
            row = await connection.fetchrow(
                _CLAIM, key, self.lease_size, self.burst, 1 / self.per_second
            )
        assert row is not None
        return int(row["granted"]), float(row["wait"])
