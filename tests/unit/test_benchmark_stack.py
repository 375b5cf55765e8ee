"""`make bench` runs on the embedded broker, or on a Kafka that MLA_BENCH_KAFKA_BOOTSTRAP_SERVERS
names: there each run has a topic and consumer groups of its own, since Kafka keeps what
earlier runs sent (bench/system_stack.py)."""

from __future__ import annotations

from pathlib import Path

from bench.system_stack import SERVICES, Stack
from devstack.broker import EmbeddedBroker
from shared.settings import LIFECYCLE_TOPIC


def _ready(stack: Stack) -> Stack:
    """The stack as `start()` leaves it, without starting anything."""
    for number, name in enumerate(SERVICES):
        stack.ports[name] = 18000 + number
    for name in (*SERVICES, "vault"):
        stack.database_urls[name] = f"postgresql+asyncpg://bench@/mla_bench_{name}"
    return stack


def test_on_a_kafka_each_run_has_a_topic_and_consumer_groups_of_its_own(tmp_path: Path) -> None:
    kafka = "kafka-0.bench:9092,kafka-1.bench:9092"
    first = _ready(Stack(tmp_path, server_url="", kafka=kafka))
    second = _ready(Stack(tmp_path, server_url="", kafka=kafka))

    routing = first.env_for("routing")

    assert routing["ROUTING_KAFKA_BOOTSTRAP_SERVERS"] == kafka
    assert routing["ROUTING_TOPIC"] == f"{LIFECYCLE_TOPIC}.bench-{first.run}"
    assert routing["ROUTING_CONSUMER_GROUP"] == f"mla-bench-{first.run}-routing"
    assert routing["ROUTING_CONSUMER_FETCH_MAX_WAIT_MS"] == "500"  # deploy/'s, for Kafka
    assert first.env_for("tracking")["TRACKING_TOPIC"] == routing["ROUTING_TOPIC"]
    assert second.topic != first.topic


def test_on_the_embedded_broker_the_services_keep_their_topic_and_groups(tmp_path: Path) -> None:
    stack = _ready(Stack(tmp_path, server_url="", kafka=None))
    stack.broker = EmbeddedBroker(19092)  # as start() makes it; not started here

    notify = stack.env_for("notify")

    assert notify["NOTIFY_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert notify["NOTIFY_TOPIC"] == LIFECYCLE_TOPIC
    assert "NOTIFY_CONSUMER_GROUP" not in notify
    assert "NOTIFY_CONSUMER_FETCH_MAX_WAIT_MS" not in notify
