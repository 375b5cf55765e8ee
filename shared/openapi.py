"""The errors of every operation in the OpenAPI document, as the problems they really are.

Routes name the refusals they can make (`responses=problems(404, 409)`); the document then
describes each as `application/problem+json` with the `Problem` schema. FastAPI's own 422
(a JSON `HTTPValidationError`) is replaced, because the problem handler answers validation
errors as problems too, and the refusals every operation can meet whatever its route (413 for
a body too large, 429 for too many requests, 503 while the database is out) are added to all.
A client generated from the document, and a contract test, then expect what the API sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from shared.problems import PROBLEM_JSON
from shared.rate_limit import UNLIMITED_PREFIXES

_DESCRIPTIONS = {
    400: "The body is not a JSON document, or the request was refused",
    401: "No valid bearer token; see `WWW-Authenticate`",
    403: "The token does not allow this action",
    404: "Not found",
    409: "Not allowed in the current state, or a concurrent change",
    413: "The request body is larger than the limit",
    422: "Invalid input, with one entry per offending field",
    429: "Too many requests from this client; see `Retry-After`",
    503: "A dependency (the database) is unreachable, or the instance has its limit of "
    "requests in hand; retry later (see `Retry-After`)",
}
_REF = "#/components/schemas/{model}"


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path to the offending field.")
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem; some types add members of their own (e.g. `allowed_actions`)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None
    correlation_id: str | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can refuse with `statuses` (as problems)."""
    return {status: {"description": _DESCRIPTIONS.get(status, "Refused")} for status in statuses}


def install_problem_docs(app: FastAPI) -> None:
    """Make `app`'s OpenAPI document describe every error response as a problem."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldProblem, Problem):
        schemas[model.__name__] = model.model_json_schema(ref_template=_REF)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = {PROBLEM_JSON: {"schema": {"$ref": _REF.format(model="Problem")}}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _common_refusals(path, operation):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if int(status) >= 400 and _is_default_content(response):
                    response["content"] = problem
    return document


def _common_refusals(path: str, operation: dict[str, Any]) -> list[int]:
    statuses = [503] if path.startswith(UNLIMITED_PREFIXES) else [429, 503]
    if operation.get("security"):
        statuses += [401, 403]
    if "requestBody" in operation:
        statuses += [400, 413]
    if "requestBody" in operation or operation.get("parameters"):
        statuses.append(422)
    return statuses


def _is_default_content(response: dict[str, Any]) -> bool:
    """No content of its own, or FastAPI's JSON validation error."""
    content = response.get("content")
    if not content:
        return True
    schema = content.get("application/json", {}).get("schema", {})
    return list(content) == ["application/json"] and "HTTPValidationError" in str(schema)
