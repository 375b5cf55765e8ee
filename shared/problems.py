"""RFC 9457 problem details: the one shape of every error response.

    ProblemError                    a refusal the caller can act on (4xx)
     ├── NotFoundError              404: no such resource (or not yours to see)
     ├── ConflictError              409: the state does not allow it, or a concurrent write
     └── InvalidInputError          422: input that breaks a rule, with field-level detail

Services raise these (or their own subclasses); one handler renders them. Validation errors
of FastAPI become 422 with one entry per offending field; anything unexpected becomes a 500
that says nothing about the internals (the log has the detail, under the correlation id).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import TRANSIENT_DB_ERRORS, is_transient
from shared.eventstore import ConcurrencyError
from shared.security_headers import secure

log = structlog.get_logger("shared.problems")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://mla.example/problems/"
CORRELATION_HEADER = "X-Correlation-ID"
_HTTP_TITLES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Content too large",
    429: "Too many requests",
}


class ProblemError(Exception):
    """A refusal rendered as problem+json; subclasses fix the status and type."""

    status = 400
    type_ = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra
        # Response headers a refusal needs (Retry-After of a 429); a subclass fills them in.
        self.headers: dict[str, str] = {}


class NotFoundError(ProblemError):
    status = 404
    type_ = "not-found"
    title = "Not found"


class ConflictError(ProblemError):
    status = 409
    type_ = "conflict"
    title = "Conflict"


class InvalidInputError(ProblemError):
    status = 422
    type_ = "validation-error"
    title = "Invalid input"


def problem_response(
    status: int, type_: str, title: str, detail: str, request: Request, **extra: Any
) -> JSONResponse:
    """A problem+json response; `instance` is the request path."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}`, the field a dotted path into the body."""
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header"}:
            loc = loc[1:] if loc[0] == "body" else loc
        result.append(
            {"field": ".".join(loc) or "<body>", "message": error["msg"], "type": error["type"]}
        )
    return result


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of `app` as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        response = problem_response(
            exc.status, exc.type_, exc.title, exc.detail, request, errors=exc.errors, **exc.extra
        )
        # getattr: a subclass whose own __init__ skips ProblemError's has none.
        response.headers.update(getattr(exc, "headers", {}))
        return response

    @app.exception_handler(ConcurrencyError)
    async def _concurrent(request: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem_response(
            409,
            "concurrent-modification",
            "Concurrent modification",
            "another command changed this request at the same time and was accepted first; "
            "nothing of this command was written: reload the request and decide again",
            request,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(exc.errors()))
        fields = ", ".join(error["field"] for error in errors)
        return problem_response(
            422,
            InvalidInputError.type_,
            InvalidInputError.title,
            f"{len(errors)} field(s) are invalid: {fields}",
            request,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _HTTP_TITLES.get(exc.status_code, "Error")
        response = problem_response(
            exc.status_code, f"http-{exc.status_code}", title, str(exc.detail), request
        )
        response.headers.update(exc.headers or {})  # Allow (405), WWW-Authenticate (401)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette calls this outside every middleware, after the correlation id was unbound
        # from the log context and before any header was added: it does both itself.
        correlation_id = getattr(request.state, "correlation_id", None)
        if is_transient(exc):
            # The database is unreachable: nothing was written, the caller may retry.
            log.warning(
                "http.database_unavailable", path=request.url.path, correlation_id=correlation_id
            )
            response = problem_response(
                503,
                "service-unavailable",
                "Service unavailable",
                "The database is unreachable; nothing was stored. Retry shortly.",
                request,
                correlation_id=correlation_id,
            )
            response.headers["Retry-After"] = "5"
        else:
            # The exception (SQL text included) goes to the log only, never to the caller.
            log.exception(
                "http.unexpected_error", path=request.url.path, correlation_id=correlation_id
            )
            response = problem_response(
                500,
                "internal-error",
                "Internal error",
                "The request could not be completed. Quote the correlation id to the operators.",
                request,
                correlation_id=correlation_id,
            )
        if correlation_id:
            response.headers[CORRELATION_HEADER] = correlation_id
        secure(response.headers)
        return response

    # The database's errors by their own classes too: Starlette answers those inside the
    # middleware, and the outage is told once, as a warning. Caught as `Exception` only, the
    # handler's answer went out and the error was raised again, logged by the server with
    # its whole traceback, for every request of an outage.
    for kind in (*TRANSIENT_DB_ERRORS, sqlalchemy.exc.DBAPIError, asyncpg.PostgresError):
        app.add_exception_handler(kind, _unexpected)
