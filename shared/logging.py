"""structlog, configured once per process: JSON lines on stdout.

Every line carries the service name and whatever is bound in the context: `correlation_id`
for an HTTP request, `event_id` / `causation_id` / `correlation_id` while a message is
handled. Personal data never goes into a log line: `redact_personal_data` drops the values
of the keys that hold it, at any depth of what a caller passes by mistake, and
`scrub_echoed_input` cuts the input that error texts quote (a validation error repeats the
value it refused; a database error, the parameters of its statement).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values are personal data or free-text facts of a case.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "person",
        "persons",
        "date_of_birth",
        "address",
        "summary_of_facts",
        "urgency_reasons",
        "answer_summary",
        "contact",
        "email",
        "phone",
        "details",
        "body",
        "data",
    }
)
REDACTED = "[redacted]"
# What error texts quote of their input: pydantic's `input_value=...` (up to its
# `input_type`), and SQLAlchemy's `[parameters: ...]` / `[SQL parameters: ...]`.
_ECHOED_INPUT = (
    (re.compile(r"input_value=.*?(?=, input_type=)", re.DOTALL), f"input_value={REDACTED}"),
    (re.compile(r"\[(SQL )?parameters: .*?\](?=\s*(\(|$))", re.DOTALL | re.MULTILINE), ""),
)
_MAX_DEPTH = 8


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor replacing the values of personal-data keys, also inside
    the dicts, lists and tuples a line carries."""
    for key, value in event_dict.items():
        event_dict[key] = _redacted(key, value, 0)
    return event_dict


def scrub_echoed_input(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor (after `format_exc_info`) cutting quoted input out of every
    text of the line: exceptions, `error=str(exc)` and the message itself."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = scrub_text(value)
    return event_dict


def scrub_text(text: str) -> str:
    """`text` without the input an error message quotes."""
    if "input_value=" not in text and "parameters: " not in text:
        return text  # the common case, without running the expressions
    for pattern, replacement in _ECHOED_INPUT:
        text = pattern.sub(replacement, text)
    return text


def _redacted(key: object, value: Any, depth: int) -> Any:
    if isinstance(key, str) and key in PERSONAL_KEYS:
        return REDACTED
    if depth >= _MAX_DEPTH and isinstance(value, dict | list | tuple | set):
        return REDACTED  # deeper than any line we write on purpose: nothing is printed
    if isinstance(value, dict):
        return {k: _redacted(k, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redacted(None, v, depth + 1) for v in value]
    if isinstance(value, BaseException):
        return scrub_text(repr(value))
    return value


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route structlog and the standard library's logging to JSON on stdout."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_personal_data,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            scrub_echoed_input,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                scrub_echoed_input,
                structlog.processors.EventRenamer("message"),
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO))
    # aiokafka reports every reconnect attempt at ERROR; our own lines say what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
