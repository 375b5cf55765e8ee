"""Whoever writes the free text of a later step is told that it is not sealed.

Only a request's details are sealed under its key; a withdrawal's reason, a closure's
grounds and answer summary, a manual routing's or a decline's reason and an office's
execution details are kept and published as written, and stay readable after an erasure.
Each of those inputs says so in the API document its writer reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.personal_data import IN_THE_CLEAR
from tests.unit.test_api_input_limits import service_app

UNSEALED_INPUTS = [
    ("intake", "Withdrawal", "reason"),
    ("intake", "Closure", "grounds"),
    ("intake", "Closure", "answer_summary"),
    ("routing", "ManualRouting", "reason"),
    ("routing", "Declination", "reason"),
    ("routing", "ExecutionReport", "details"),
]


@pytest.mark.parametrize(("service", "schema", "field"), UNSEALED_INPUTS)
def test_a_text_kept_in_the_clear_says_so_where_it_is_written(
    service: str, schema: str, field: str
) -> None:
    document: dict[str, Any] = service_app(service).openapi()
    described = document["components"]["schemas"][schema]["properties"][field]["description"]
    assert IN_THE_CLEAR in described
