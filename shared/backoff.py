"""Exponential backoff with full jitter, for retrying infrastructure calls."""

from __future__ import annotations

import random


class Backoff:
    """Delays of `initial * 2**n`, capped, each drawn uniformly below the cap (full jitter),
    so that many instances retrying the same outage do not hammer it in step."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = maximum
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self._maximum, self._initial * 2**self.attempts)
        self.attempts += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0
