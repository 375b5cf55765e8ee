"""No personal data in a log line, whatever a caller passes by mistake."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure_logging
from shared.request.model import RequestDetails

NAME = "Zorana Tajnović"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the services' configuration writes, into a buffer instead of stdout."""
    configure_logging("test")
    buffer = io.StringIO()
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(buffer), cache_logger_on_first_use=False
    )
    yield buffer
    structlog.reset_defaults()


@pytest.fixture
def log(output: io.StringIO) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("test")
    return logger


def lines(output: io.StringIO) -> str:
    out = output.getvalue()
    for line in out.splitlines():
        json.loads(line)  # every line stays JSON
    return out


def test_personal_keys_are_redacted_at_any_depth(log, output) -> None:
    log.info(
        "request.seen",
        request_id="r-1",
        request={"persons": [{"name": NAME}], "measures": [{"details": NAME}]},
        items=[{"summary_of_facts": NAME}, ({"contact": {"email": "z@example.org"}},)],
    )
    out = lines(output)
    assert NAME not in out and "z@example.org" not in out
    assert '"request_id": "r-1"' in out


def test_a_validation_error_does_not_echo_the_input_it_refused(log, output) -> None:
    try:
        RequestDetails.model_validate({"persons": [{"name": NAME, "role": "nobody"}]})
    except ValueError as exc:
        log.warning("request.invalid", error=str(exc))
        log.exception("request.failed")
    out = lines(output)
    assert NAME not in out
    assert "persons" in out, "what was wrong is still said"


def test_a_database_error_does_not_echo_its_parameters(log, output) -> None:
    log.error(
        "db.failed",
        error=f"(IntegrityError) duplicate key\n[SQL: INSERT INTO t VALUES ($1)]\n"
        f"[parameters: ('{NAME}',)]\n(Background on this error at: https://sqlalche.me)",
    )
    out = lines(output)
    assert NAME not in out and "duplicate key" in out
