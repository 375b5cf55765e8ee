"""Fixtures shared by the routing unit tests: the seeded office directory and assignment ids."""

import json
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest

from services.routing.domain.directory import Directory
from services.routing.domain.seed import seed_directory

OFFICES_JSON = Path(__file__).resolve().parents[3] / "shared" / "reference" / "offices.json"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return seed_directory(json.loads(OFFICES_JSON.read_text(encoding="utf-8")))


@pytest.fixture
def new_id() -> Callable[[], str]:
    ids: Iterator[int] = count(1)
    return lambda: f"a-{next(ids)}"
