"""Every input the four APIs take is bounded (OWASP API4, unrestricted resource consumption).

Walks each service's OpenAPI document, built in-process, and names every request-body or
parameter schema that would let a caller send an unbounded string, list or number, or a
field the service does not know. A new endpoint that forgets a limit fails here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

SERVICES = ("intake", "routing", "tracking", "notify")
# Strings whose format bounds them: the parser refuses anything long.
BOUNDED_FORMATS = {"date", "date-time"}
TEST_TOKEN_KEY = "k" * 48


def service_app(service: str) -> FastAPI:
    """The service's app as its bootstrap makes it; nothing connects until it starts."""
    settings_class = importlib.import_module(f"services.{service}.settings").Settings
    # Building the app reads the token key; a test key stands in for the one `make run` makes.
    given = (
        {"auth_shared_key": TEST_TOKEN_KEY}
        if "auth_shared_key" in settings_class.model_fields
        else {}
    )
    app: FastAPI = importlib.import_module(f"services.{service}.bootstrap").create(
        settings_class(**given)
    )
    return app


def unbounded(schema: dict[str, Any], components: dict[str, Any], where: str) -> Iterator[str]:
    """`where` and what is wrong, for every unbounded part of `schema`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        yield from unbounded(components[name], components, f"{where}<{name}>")
        return
    for combinator in ("anyOf", "oneOf", "allOf"):
        for index, option in enumerate(schema.get(combinator, ())):
            yield from unbounded(option, components, f"{where}|{index}")
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return
    if (
        kind == "string"
        and "maxLength" not in schema
        and schema.get("format") not in BOUNDED_FORMATS
    ):
        yield f"{where}: string without maxLength"
    lower = {"minimum", "exclusiveMinimum"} & schema.keys()
    upper = {"maximum", "exclusiveMaximum"} & schema.keys()
    if kind == "integer" and not (lower and upper):
        yield f"{where}: integer without minimum and maximum"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from unbounded(schema.get("items", {}), components, f"{where}[]")
    if kind == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            yield f"{where}: object that allows additional properties"
        for name, member in schema.get("properties", {}).items():
            yield from unbounded(member, components, f"{where}.{name}")


def input_violations(document: dict[str, Any]) -> list[str]:
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            here = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                where = f"{here} {parameter['in']} {parameter['name']}"
                found += unbounded(parameter.get("schema", {}), components, where)
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                found += unbounded(content.get("schema", {}), components, f"{here} {media} ")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_input_of_the_api_is_bounded_and_unknown_fields_are_refused(service: str) -> None:
    assert input_violations(service_app(service).openapi()) == []


def test_the_check_finds_an_unbounded_string_list_number_and_open_object() -> None:
    document = {
        "paths": {
            "/things": {
                "post": {
                    "parameters": [{"in": "query", "name": "q", "schema": {"type": "string"}}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                        "count": {"type": "integer", "minimum": 0},
                                    },
                                }
                            }
                        }
                    },
                }
            }
        }
    }

    assert input_violations(document) == [
        "POST /things query q: string without maxLength",
        "POST /things application/json : object that allows additional properties",
        "POST /things application/json .tags: array without maxItems",
        "POST /things application/json .tags[]: string without maxLength",
        "POST /things application/json .count: integer without minimum and maximum",
    ]
