"""The AsyncAPI 3.0 document of the lifecycle topic, generated from the event catalogue.

Other teams read the topic through this document: its channels (the lifecycle topic and its
dead-letter topic), one message per catalogued event type with its CloudEvents envelope, its
schema version and its payload schema (from the pydantic model), and which service sends
what. Nothing in it is written by hand, so it cannot drift from the code:

    python -m shared.asyncapi > docs/asyncapi.yaml           # regenerate
    python -m shared.asyncapi --check docs/asyncapi.yaml     # exit 1, with a diff, if stale

A development tool: it needs PyYAML (a dev dependency), and no service imports it.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.events.catalogue import CATALOGUE
from shared.events.envelope import CONTENT_TYPE, CloudEvent
from shared.settings import LIFECYCLE_TOPIC, ServiceSettings

# The version of this document's contract. Each event carries its own `schemaversion`; bump
# the major here when a change breaks readers (an event type removed, a topic renamed).
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
TYPE_PREFIX = "mla.request."
LIFECYCLE_CHANNEL = "requestLifecycle"
DLQ_CHANNEL = "requestLifecycleDeadLetters"
SCHEMAS = "#/components/schemas/"

# Which service emits which event types (ARCHITECTURE.md: what each service owns).
PRODUCERS: dict[str, tuple[str, ...]] = {
    "intake": (
        "mla.request.received",
        "mla.request.withdrawn",
        "mla.request.closed",
        "mla.request.personal_data_erased",
    ),
    "routing": (
        "mla.request.routed",
        "mla.request.routing_failed",
        "mla.request.assignment_declined",
        "mla.request.executed",
    ),
    "tracking": ("mla.request.deadline_approaching", "mla.request.deadline_breached"),
    "notify": (),
}
# Every service consumes the whole lifecycle, each in its own consumer group.
CONSUMERS = tuple(PRODUCERS)

# The headers a consumer adds when it dead-letters a message (shared/dead_letters.py).
DLQ_HEADERS: dict[str, dict[str, str]] = {
    "dlq-reason": {"description": "Why the message could not be processed (free text)."},
    "dlq-error": {"description": "The class of the error, e.g. PayloadError, UnknownEventError."},
    "dlq-original-topic": {"description": "The topic the message was read from."},
    "dlq-original-partition": {"pattern": "^[0-9]+$", "description": "Its partition."},
    "dlq-original-offset": {"pattern": "^[0-9]+$", "description": "Its offset there."},
    "dlq-consumer-group": {"description": "The consumer group that gave up on it."},
    "dlq-failed-at": {"format": "date-time", "description": "When (ISO 8601, UTC)."},
}

DESCRIPTION = """\
Every fact about a request for international legal assistance in criminal matters, from
receipt to closure, as CloudEvents 1.0 in structured JSON mode
(`content-type: application/cloudevents+json`).

- Keyed by request id (the event's `subject`): the events of one request share a partition
  and every consumer reads them in the order they happened. Nothing is ordered across requests.
- Delivery is at least once. `source` + `id` identifies an event: a consumer records it and
  ignores a redelivery.
- `schemaversion` is the version of the payload schema of the event's `type`. A change that
  breaks readers makes a new version; readers upcast older versions, and an event once
  published is never rewritten.
- A message that cannot be processed goes, unchanged, to the dead-letter topic with the
  reason in its headers.
- The personal data of a request's details (persons concerned, facts of the case, urgency
  reasons, measures' details, contacts) travels sealed under the request's own key
  (`SealedValue`: AES-256-GCM); once the key is destroyed (`mla.request.personal_data_erased`)
  no copy of it can be read. The free text of later events (the `reason` of a withdrawal, a
  decline, a routing failure or a manual routing, an execution's `details`, a closure's
  `grounds` and `answer_summary`) is not sealed, and events published before sealing carry
  the details in the clear: treat the topic as holding personal data.
"""


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the lifecycle topic, as plain data."""
    produced = [t for types in PRODUCERS.values() for t in types]
    if sorted(produced) != sorted(CATALOGUE):
        raise ValueError("PRODUCERS must name each catalogued event type exactly once")
    schemas, payload_refs = _schemas()
    messages = {_message_id(t): _message(t, payload_refs) for t in CATALOGUE}
    messages["deadLetter"] = _dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "id": "urn:mla:request-lifecycle",
        "info": {
            "title": "MLA tracker: request lifecycle",
            "version": DOCUMENT_VERSION,
            "description": DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": _servers(),
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "securitySchemes": {
                "serviceCertificate": {
                    "type": "X509",
                    "description": "Mutual TLS: each service presents the certificate issued to "
                    "its own Kafka user (`mla-<service>`, CN=mla-<service>), whose ACLs allow it "
                    "its consumer group, the lifecycle topic (writing only the events it owns) "
                    "and writing dead letters.",
                }
            },
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "correlationid": {
                    "description": "Shared by every event that one command caused, directly "
                    "or not (the CloudEvents extension `correlationid`).",
                    "location": "$message.payload#/correlationid",
                }
            },
        },
    }


HEADER = """\
# Generated from shared/events/catalogue.py by `python -m shared.asyncapi`: do not edit.
# CI fails when this file no longer matches the catalogue; regenerate it with `make asyncapi`.
"""


# PyYAML ships no type hints (types-PyYAML is not installed everywhere).
class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """Block style, key order as built (it reads top-down), multi-line text as `|` blocks."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> Any:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def render() -> str:
    """The document as YAML, the same bytes for the same catalogue."""
    text: str = yaml.dump(
        build_document(),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + text


def _schemas() -> tuple[dict[str, Any], dict[str, str]]:
    """components.schemas (the envelope and every payload model), and type -> payload $ref."""
    models: list[type[BaseModel]] = [CloudEvent, *(model for _, model in CATALOGUE.values())]
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in models]
    refs, top = models_json_schema(inputs, ref_template=SCHEMAS + "{model}")
    payload_refs = {
        event_type: refs[(model, "validation")]["$ref"]
        for event_type, (_, model) in CATALOGUE.items()
    }
    definitions: dict[str, Any] = top["$defs"]
    schemas = {name: definitions[name] for name in sorted(definitions)}
    schemas["DeadLetterHeaders"] = {
        "type": "object",
        "properties": {name: {"type": "string", **spec} for name, spec in DLQ_HEADERS.items()},
        "required": list(DLQ_HEADERS),
    }
    return schemas, payload_refs


def _message_id(event_type: str) -> str:
    short = event_type.removeprefix(TYPE_PREFIX)
    first, *rest = short.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _producer(event_type: str) -> str:
    owners = [service for service, types in PRODUCERS.items() if event_type in types]
    if len(owners) != 1:
        raise ValueError(f"{event_type} needs exactly one producing service, not {owners}")
    return owners[0]


def _message(event_type: str, payload_refs: dict[str, str]) -> dict[str, Any]:
    version, model = CATALOGUE[event_type]
    summary, _, details = inspect.cleandoc(model.__doc__ or event_type).partition("\n\n")
    envelope = {
        "type": "object",
        "properties": {
            "source": {"const": f"/mla/{_producer(event_type)}"},
            "type": {"const": event_type},
            "schemaversion": {"const": version},
            "datacontenttype": {"const": "application/json"},
            "data": {"$ref": payload_refs[event_type]},
        },
        "required": ["time", "schemaversion", "data"],
    }
    message: dict[str, Any] = {
        "name": event_type,
        "title": f"{event_type} v{version}",
        "summary": " ".join(summary.split()),
        "contentType": CONTENT_TYPE,
        "correlationId": {"$ref": "#/components/correlationIds/correlationid"},
        "payload": {"allOf": [{"$ref": SCHEMAS + "CloudEvent"}, envelope]},
        "bindings": {"kafka": _key_binding()},
        "x-schemaversion": version,
    }
    if details:
        message["description"] = " ".join(details.split())
    return message


def _key_binding() -> dict[str, Any]:
    return {
        "key": {"type": "string", "description": "The request id, equal to `subject`."},
        "bindingVersion": KAFKA_BINDING_VERSION,
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "dead-letter",
        "title": "A message no consumer could process",
        "summary": "The original message, key and value byte for byte, with the reason in "
        "its headers.",
        "description": "Unparseable, not in the catalogue, or a handler that kept failing. "
        "The value may not be a valid CloudEvent at all: that is why it is here.",
        "contentType": "application/octet-stream",
        "headers": {"$ref": SCHEMAS + "DeadLetterHeaders"},
        "payload": {"description": "The original value, unchanged."},
        "bindings": {"kafka": _key_binding()},
    }


# The production overlay's bootstrap servers (tests/unit/deploy/test_kubernetes_kafka_access.py
# holds the two to each other) and `make run`'s embedded broker.
PRODUCTION_BOOTSTRAP = "mla-kafka-kafka-bootstrap.kafka.svc:9093"
ONE_MACHINE_BOOTSTRAP = "127.0.0.1:9092"


def _servers() -> dict[str, Any]:
    return {
        "production": {
            "host": PRODUCTION_BOOTSTRAP,
            "protocol": "kafka-secure",
            "title": "Kafka of deploy/k8s, production overlay",
            "description": "The Strimzi cluster's TLS listener. A broker's certificate is "
            "checked against the cluster's CA; each service proves who it is by its own "
            "certificate (SCRAM-SHA-512 over TLS is taken too: deploy/README.md).",
            "security": [{"$ref": "#/components/securitySchemes/serviceCertificate"}],
        },
        "oneMachine": {
            "host": ONE_MACHINE_BOOTSTRAP,
            "protocol": "kafka",
            "title": "The embedded broker of `make run`",
            "description": "In the clear, listening on the loopback interface only.",
        },
    }


def _channels() -> dict[str, Any]:
    dlq_topic = ServiceSettings.model_construct().dlq_topic  # no environment read
    lifecycle_messages = {
        _message_id(t): {"$ref": f"#/components/messages/{_message_id(t)}"} for t in CATALOGUE
    }
    return {
        LIFECYCLE_CHANNEL: {
            "address": LIFECYCLE_TOPIC,
            "title": "Request lifecycle",
            "description": "Every event of every request, keyed by request id. The partition "
            "count is a deployment choice (6 on one machine, 12 in deploy/k8s); it bounds how "
            "many instances of one consumer group read in parallel. Do not rely on it.",
            "messages": lifecycle_messages,
            "bindings": {"kafka": _topic_binding(LIFECYCLE_TOPIC)},
        },
        DLQ_CHANNEL: {
            "address": dlq_topic,
            "title": "Dead letters of the request lifecycle",
            "description": "What a consumer could not process. Nothing reads it automatically: "
            "an operator triages it.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            "bindings": {"kafka": _topic_binding(dlq_topic)},
        },
    }


def _topic_binding(topic: str) -> dict[str, Any]:
    return {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}


def _operations() -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for service, types in PRODUCERS.items():
        if types:
            operations[f"{service}Sends"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{LIFECYCLE_CHANNEL}"},
                "summary": f"{service} publishes, through its outbox, the events it owns.",
                "messages": [_channel_message(LIFECYCLE_CHANNEL, t) for t in types],
            }
    defaults = ServiceSettings.model_construct()  # no environment read
    for service in CONSUMERS:
        group = defaults.consumer_group_of(service)
        operations[f"{service}Receives"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{LIFECYCLE_CHANNEL}"},
            "summary": f"{service} reads every event, in consumer group {group}.",
            "messages": [_channel_message(LIFECYCLE_CHANNEL, t) for t in CATALOGUE],
            "bindings": {
                "kafka": {
                    "groupId": {"type": "string", "enum": [group]},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        operations[f"{service}DeadLetters"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{DLQ_CHANNEL}"},
            "summary": f"{service} sets aside a message it cannot process.",
            "messages": [{"$ref": f"#/channels/{DLQ_CHANNEL}/messages/deadLetter"}],
        }
    return operations


def _channel_message(channel: str, event_type: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{channel}/messages/{_message_id(event_type)}"}


def main(argv: list[str] | None = None) -> int:
    """Print the document, write it to a file, or check that a file still matches it."""
    parser = argparse.ArgumentParser(prog="python -m shared.asyncapi", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if FILE is stale")
    action.add_argument("--output", type=Path, metavar="FILE", help="write the document here")
    args = parser.parse_args(argv)
    document = render()
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document, encoding="utf-8")
        return 0
    if args.check is None:
        sys.stdout.write(document)
        return 0
    committed = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
    if committed == document:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            document.splitlines(keepends=True),
            fromfile=str(args.check),
            tofile="generated from shared/events/catalogue.py",
        )
    )
    sys.stderr.write(f"{args.check} is stale: run `python -m shared.asyncapi > {args.check}`\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
