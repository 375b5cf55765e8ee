"""docs/asyncapi.yaml tells other teams what is on the topic, and it is always the truth.

The committed document must be exactly what `shared.asyncapi` generates from the event
catalogue, so that a change to a payload model, a new event type or a new schema version fails
CI until the document is regenerated. And what it says must hold: its payload schemas are
valid JSON Schema, a real event as a service publishes it validates against its own message
(and against no other), every reference resolves, and the services, sources and dead-letter
headers it names are the ones in the code.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from shared import asyncapi
from shared.events.catalogue import (
    CATALOGUE,
    Assignment,
    AssignmentDeclined,
    DeadlineApproaching,
    DeadlineBreached,
    MeasureRef,
    Payload,
    PersonalDataErased,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    RuleStep,
    new_event,
    type_of,
)
from shared.events.vocabulary import ErasureGround, ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails
from shared.settings import LIFECYCLE_TOPIC, ServiceSettings
from tests.unit.deploy.project_settings import REPO_ROOT, SERVICES, import_project

DOCUMENT = REPO_ROOT / "docs" / "asyncapi.yaml"
DEAD_LETTERS_SOURCE = REPO_ROOT / "shared" / "dead_letters.py"
DOCUMENT_URI = "urn:mla:asyncapi"
# Where each producing service keeps the `source` it stamps on its events.
SOURCE_CONSTANTS = {
    "intake": "services.intake.handlers",
    "routing": "services.routing.handlers",
    "tracking": "services.tracking.deadline_monitor",
}

REQUEST_ID = "0f5c2c52-6b1e-4d0e-9a53-5b0c6f1f2a10"
TRACE = [RuleStep(rule="territorial_basic", matched=True, reason="Subotica: basic office")]
EVERY_PAYLOAD: list[Payload] = [
    RequestReceived(
        request_id=REQUEST_ID,
        domestic_reference="MPP-2026-000001",
        received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        details=RequestDetails.model_validate(EXAMPLE_REQUEST),
    ),
    RequestRouted(
        request_id=REQUEST_ID,
        assignments=[
            Assignment(
                assignment_id="a-1",
                office_id="vjt-subotica",
                office_name="Higher Public Prosecutor's Office in Subotica",
                measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
                rule="territorial_basic",
                basis="seat of the office",
            )
        ],
        directory_version=3,
        trace=TRACE,
        reason="first routing",
    ),
    RoutingFailed(request_id=REQUEST_ID, reason="no office", directory_version=3, trace=TRACE),
    AssignmentDeclined(
        request_id=REQUEST_ID, assignment_id="a-1", office_id="vjt-subotica", reason="not ours"
    ),
    RequestExecuted(
        request_id=REQUEST_ID,
        assignment_id="a-1",
        office_id="vjt-subotica",
        result=ExecutionResult.EXECUTED,
        outstanding=0,
    ),
    RequestWithdrawn(request_id=REQUEST_ID, reason="case dropped"),
    RequestClosed(request_id=REQUEST_ID, outcome=Outcome.COMPLETED, answer_summary="sent"),
    DeadlineApproaching(
        request_id=REQUEST_ID, deadline_id="d-1", kind="execution", due=date(2026, 4, 1), basis="x"
    ),
    DeadlineBreached(
        request_id=REQUEST_ID, deadline_id="d-1", kind="execution", due=date(2026, 4, 1), basis="x"
    ),
    PersonalDataErased(
        request_id=REQUEST_ID,
        erased_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        erased_by="admin",
        legal_ground=ErasureGround.RETENTION_ENDED,
    ),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def messages_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Event type -> its message."""
    messages = document["components"]["messages"].values()
    return {m["name"]: m for m in messages if m["name"] in CATALOGUE}


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), f"only local references: {reference}"
    node: Any = document
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def follow(document: dict[str, Any], reference: str) -> Any:
    """What a reference finally points to, through references to references."""
    node = resolve(document, reference)
    while isinstance(node, dict) and set(node) == {"$ref"}:
        node = resolve(document, node["$ref"])
    return node


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def payload_validator(document: dict[str, Any], message_id: str) -> Draft202012Validator:
    """A validator of one message's payload, its `#/components/...` references resolved."""
    registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document))
    schema = {"$ref": f"{DOCUMENT_URI}#/components/messages/{message_id}/payload"}
    return Draft202012Validator(schema, registry=registry)


# --- the document is the catalogue's -------------------------------------------------------------


def test_the_committed_document_is_the_one_the_catalogue_generates(document):
    assert document == asyncapi.build_document(), (
        "docs/asyncapi.yaml is stale: run `python -m shared.asyncapi > docs/asyncapi.yaml`"
    )
    assert DOCUMENT.read_text(encoding="utf-8") == asyncapi.render()
    assert asyncapi.main(["--check", str(DOCUMENT)]) == 0


def test_the_check_fails_with_a_diff_when_the_document_is_stale(tmp_path, capsys):
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(asyncapi.render().replace("const: mla.request.routed", "const: routed"))

    assert asyncapi.main(["--check", str(stale)]) == 1

    diff = capsys.readouterr().out
    assert "-              const: routed" in diff
    assert "+              const: mla.request.routed" in diff


def test_the_generated_text_is_the_same_every_time():
    assert asyncapi.render() == asyncapi.render()
    assert yaml.safe_load(asyncapi.render()) == asyncapi.build_document()


def test_an_event_type_without_a_producing_service_stops_the_generator(monkeypatch):
    monkeypatch.setitem(CATALOGUE, "mla.request.reopened", (1, RequestWithdrawn))
    with pytest.raises(ValueError, match="exactly once"):
        asyncapi.build_document()


# --- what it says about the catalogue -----------------------------------------------------------


def test_every_catalogued_type_has_a_message_with_its_schema_version(document):
    messages = messages_of(document)
    assert set(messages) == set(CATALOGUE)
    for event_type, (version, model) in CATALOGUE.items():
        message = messages[event_type]
        assert message["x-schemaversion"] == version
        assert message["contentType"] == "application/cloudevents+json"
        _, envelope = message["payload"]["allOf"]
        assert envelope["properties"]["type"] == {"const": event_type}
        assert envelope["properties"]["schemaversion"] == {"const": version}
        data = resolve(document, envelope["properties"]["data"]["$ref"])
        assert data == resolve(asyncapi.build_document(), f"#/components/schemas/{model.__name__}")


def test_the_envelope_names_every_cloud_events_attribute_and_extension(document):
    envelope = document["components"]["schemas"]["CloudEvent"]
    attributes = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype"}
    extensions = {"schemaversion", "correlationid", "causationid"}
    assert attributes | extensions | {"data"} <= set(envelope["properties"])
    assert {"specversion", "id", "source", "type", "subject"} <= set(envelope["required"])


def test_the_channels_are_the_lifecycle_topic_and_its_dead_letter_topic(document):
    channels = document["channels"]
    lifecycle = channels[asyncapi.LIFECYCLE_CHANNEL]
    assert lifecycle["address"] == LIFECYCLE_TOPIC
    lifecycle_types = {resolve(document, m["$ref"])["name"] for m in lifecycle["messages"].values()}
    assert lifecycle_types == set(CATALOGUE)
    dead_letters = channels[asyncapi.DLQ_CHANNEL]
    assert dead_letters["address"] == ServiceSettings.model_construct().dlq_topic
    (message,) = dead_letters["messages"].values()
    headers = resolve(document, resolve(document, message["$ref"])["headers"]["$ref"])
    assert set(headers["required"]) == set(headers["properties"])


def test_the_dead_letter_headers_are_the_ones_the_consumer_writes(document):
    source = DEAD_LETTERS_SOURCE.read_text(encoding="utf-8")
    written = set(re.findall(r'\("(dlq-[a-z-]+)",', source))
    assert written, "shared/dead_letters.py no longer writes dlq-* headers where this test looks"
    headers = document["components"]["schemas"]["DeadLetterHeaders"]["properties"]
    assert set(headers) == written


def test_each_event_type_is_sent_by_one_service_and_received_by_all(document):
    operations = document["operations"].values()
    senders: dict[str, list[str]] = {event_type: [] for event_type in CATALOGUE}
    receivers: dict[str, set[str]] = {event_type: set() for event_type in CATALOGUE}
    for key, operation in document["operations"].items():
        channel = resolve(document, operation["channel"]["$ref"])
        if channel["address"] != LIFECYCLE_TOPIC:
            continue
        for reference in operation["messages"]:
            event_type = follow(document, reference["$ref"])["name"]
            if operation["action"] == "send":
                senders[event_type].append(key)
            else:
                group = operation["bindings"]["kafka"]["groupId"]["enum"][0]
                receivers[event_type].add(group)
    assert all(len(keys) == 1 for keys in senders.values()), senders
    groups = {f"mla-{service}" for service in SERVICES}
    assert all(found == groups for found in receivers.values()), receivers
    assert {o["action"] for o in operations} == {"send", "receive"}


def test_the_consumer_groups_are_the_ones_the_services_join():
    for service in SERVICES:
        settings = import_project(f"services.{service}.settings").Settings
        assert settings.model_fields["consumer_group"].default == f"mla-{service}"


@pytest.mark.parametrize("service", sorted(SOURCE_CONSTANTS))
def test_each_message_names_the_source_its_producer_stamps(document, service):
    source = import_project(SOURCE_CONSTANTS[service]).SOURCE
    messages = messages_of(document)
    for event_type in asyncapi.PRODUCERS[service]:
        _, envelope = messages[event_type]["payload"]["allOf"]
        assert envelope["properties"]["source"] == {"const": source}, event_type


def test_operations_use_only_messages_of_their_own_channel(document):
    for key, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        for reference in operation["messages"]:
            assert reference["$ref"].startswith(f"{channel}/messages/"), key
    for name, channel in document["channels"].items():
        for reference in channel["messages"].values():
            assert reference["$ref"].startswith("#/components/messages/"), name


def test_every_reference_resolves(document):
    found = references(document)
    assert found
    for reference in found:
        resolve(document, reference)


# --- what it says holds for real events --------------------------------------------------------


def test_every_schema_is_valid_json_schema(document):
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for message in document["components"]["messages"].values():
        Draft202012Validator.check_schema(message["payload"])
        if "headers" in message:
            Draft202012Validator.check_schema(message["headers"])


def test_the_examples_cover_the_whole_catalogue():
    assert {type_of(payload) for payload in EVERY_PAYLOAD} == set(CATALOGUE)


@pytest.mark.parametrize("payload", EVERY_PAYLOAD, ids=lambda p: type(p).__name__)
def test_a_published_event_validates_against_its_message_and_no_other(document, payload):
    event_type = type_of(payload)
    source = f"/mla/{next(s for s, ts in asyncapi.PRODUCERS.items() if event_type in ts)}"
    event = new_event(payload, source=source, correlation_id="c-1", causation_id="e-0")
    on_the_wire = json.loads(event.to_bytes())  # exactly what the outbox relay publishes

    matching = {
        message_id
        for message_id, message in document["components"]["messages"].items()
        if message["name"] in CATALOGUE
        and payload_validator(document, message_id).is_valid(on_the_wire)
    }

    assert {document["components"]["messages"][m]["name"] for m in matching} == {event_type}


def test_a_payload_that_breaks_its_schema_is_refused(document):
    received = json.loads(new_event(EVERY_PAYLOAD[0], source="/mla/intake").to_bytes())
    messages = document["components"]["messages"]
    message_id = next(k for k, m in messages.items() if m["name"] == received["type"])
    validator = payload_validator(document, message_id)
    assert validator.is_valid(received)

    del received["data"]["domestic_reference"]
    assert not validator.is_valid(received), "a missing payload field is refused"
    received["data"]["domestic_reference"] = "MPP-2026-000001"
    received["data"]["unexpected"] = True
    assert not validator.is_valid(received), "an unknown payload field is refused"


def test_the_document_has_the_shape_of_asyncapi_3(document):
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    for name, channel in document["channels"].items():
        assert isinstance(channel["address"], str), name
    for name, operation in document["operations"].items():
        assert operation["action"] in {"send", "receive"}, name
        assert set(operation["channel"]) == {"$ref"}, name
    key = re.compile(r"^[A-Za-z0-9.\-_]+$")  # component keys, as the specification allows
    for section in document["components"].values():
        assert all(key.match(name) for name in section)
