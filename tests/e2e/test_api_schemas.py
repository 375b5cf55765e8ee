"""Each service's API, explored from its own OpenAPI document by generated requests.

Schemathesis reads `/openapi.json` of each running service and sends, per operation, a
bounded number of requests generated from the schema (valid ones, and invalid ones that must
be refused). Every answer must be no 5xx, a status the document lists, of the content type it
lists, and conforming to the schema it gives. The services run on a stack of their own, so
that what the generator creates (offices, subscriptions, replays) disturbs no other test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ARTIFACTS
from tests.support.auth import department_bearer
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.e2e

# Per operation and mode (valid, invalid): enough to reach the branches of the schemas,
# bounded so that the four services are explored in under a minute on two cores. Set
# MLA_TEST_API_EXAMPLES higher for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("MLA_TEST_API_EXAMPLES", "20"))
# Left out: `positive_data_acceptance`, because a request valid by the schema may still break
# a rule of the domain (an unknown place, a past date, a state that forbids the command) and
# be refused rightly; the stateful checks (`use_after_free`, `ensure_resource_availability`)
# need links between operations, which the document does not declare.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def api_headers(service: str) -> dict[str, str]:
    """The headers every generated request to `service` carries.

    A token of every department role, so that the run explores the whole API and not only
    its 401 answers (the generator also sends requests without it, which must be 401).
    """
    return department_bearer()


@pytest.fixture(scope="module")
async def api_stack(pg_server: str, kafka: str, worker_id: str) -> AsyncIterator[RunningStack]:
    running = await start_stack(ARTIFACTS / "logs" / f"api-schemas-{worker_id}")
    yield running
    running.stop_all()


_EXPLORATION = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    # A failing request is reported as generated: shrinking it would replay it against
    # services whose state the first attempt already changed.
    phases=[Phase.explicit, Phase.generate],
)


def failures_of(service: str, base_url: str) -> list[str]:
    """Every operation of the service's document, explored with valid and invalid requests;
    one line per operation and mode that broke a check."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", headers=api_headers(service))
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @_EXPLORATION
            def explore(case: schemathesis.Case) -> None:
                # A case that leaves the token out on purpose (checking the 401) keeps it out.
                if not schema.is_security_param_negated(case):
                    case.headers = {**(case.headers or {}), **api_headers(service)}
                case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)

            try:
                explore()
            except Unsatisfiable:
                pass  # an operation without inputs (a probe) has no invalid request to send
            except Exception as failure:  # the check's report names the request and response
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    return failures


@pytest.mark.parametrize("service", ["intake", "routing", "tracking", "notify"])
def test_each_service_answers_every_generated_request_as_its_schema_says(
    api_stack: RunningStack, service: str
) -> None:
    failures = failures_of(service, api_stack.url(service))

    assert not failures, "\n\n".join(failures)
