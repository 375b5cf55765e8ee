"""What a consumer gets from the lifecycle topic: a CloudEvent it can read back exactly as it
was sent and recognise when delivered twice, or a poison message it can dead-letter with a
reason an operator understands."""

from datetime import UTC, datetime

import orjson
import pytest

from shared.events.envelope import CloudEvent, EnvelopeError


def an_event() -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id="3f1c9f52-6b7e-4a43-9a43-0c0f3f6f1d11",
        source="/mla/intake",
        type="mla.request.received",
        subject="req-1",
        time=datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC),
        schemaversion=1,
        correlationid="corr-1",
        causationid="cause-1",
        data={"request_id": "req-1", "domestic_reference": "MLA-2026-0001"},
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )


def document(**changes: object) -> bytes:
    """The bytes of a valid event, with some attributes replaced (None: left out)."""
    fields = orjson.loads(an_event().to_bytes())
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return orjson.dumps(fields)


def test_an_event_read_back_from_its_bytes_is_the_event_that_was_sent() -> None:
    event = an_event()

    assert CloudEvent.from_bytes(event.to_bytes()) == event


def test_the_bytes_are_structured_mode_json_without_empty_attributes() -> None:
    event = CloudEvent.create(source="/mla/routing", type="mla.request.routed", subject="req-1")

    sent = orjson.loads(event.to_bytes())

    assert sent["specversion"] == "1.0"
    assert sent["id"] == event.id
    assert sent["subject"] == "req-1"
    assert "correlationid" not in sent
    assert "causationid" not in sent


def test_a_redelivered_event_has_the_same_dedup_key_made_of_source_and_id() -> None:
    event = an_event()

    redelivered = CloudEvent.from_bytes(event.to_bytes())

    assert event.dedup_key == "/mla/intake#3f1c9f52-6b7e-4a43-9a43-0c0f3f6f1d11"
    assert redelivered.dedup_key == event.dedup_key


def test_the_same_id_from_two_services_is_not_a_duplicate() -> None:
    from_intake = CloudEvent(
        specversion="1.0", id="e-1", source="/mla/intake", type="t", subject="req-1"
    )
    from_routing = CloudEvent(
        specversion="1.0", id="e-1", source="/mla/routing", type="t", subject="req-1"
    )

    assert from_intake.dedup_key != from_routing.dedup_key


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(b"", "empty message", id="empty"),
        pytest.param(None, "empty message", id="no value (tombstone)"),
        pytest.param(b"<request>1</request>", "not JSON", id="not JSON"),
        pytest.param(b'[{"type": "mla.request.received"}]', "JSON object", id="JSON array"),
        pytest.param(b'"mla.request.received"', "JSON object", id="JSON string"),
        pytest.param(document(type=None), "type: Field required", id="missing type"),
        pytest.param(document(source=None), "source: Field required", id="missing source"),
        pytest.param(document(subject=""), "subject:", id="empty subject"),
        pytest.param(document(specversion="0.3"), "specversion:", id="CloudEvents 0.3"),
        pytest.param(document(specversion="2.0"), "specversion:", id="CloudEvents 2.0"),
        pytest.param(document(schemaversion=0), "schemaversion:", id="schema version 0"),
        pytest.param(document(data=["x"]), "data:", id="data not an object"),
    ],
)
def test_a_poison_message_is_refused_with_a_message_naming_the_problem(
    raw: bytes | None, problem: str
) -> None:
    with pytest.raises(EnvelopeError, match=problem):
        CloudEvent.from_bytes(raw)


def test_a_message_without_id_cannot_be_deduplicated_so_it_is_poison() -> None:
    raw = document(id=None)

    with pytest.raises(EnvelopeError, match="id: Field required"):
        CloudEvent.from_bytes(raw)
