"""docker-compose.yml: the Kafka cluster, PostgreSQL, and the topics the `topics` step creates.

The file is valid against the Compose specification (vendored in deploy/schemas); the
infrastructure is a three-node Apache Kafka cluster in KRaft mode whose topics survive one node
down, and PostgreSQL with one database per service and the key vault, each keeping its data in
a named volume of its own; the `topics` step creates the lifecycle topic and its dead-letter
topic, with the partitions and replicas the services and the brokers expect.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.unit.deploy.compose_file import (
    as_mapping,
    broker_default,
    healthcheck_command,
    kafka_nodes,
    listeners,
    published_ports,
    roles,
    topic_creations,
)
from tests.unit.deploy.project_settings import (
    REPO_ROOT,
    SERVICES,
    env_names,
    lifecycle_topic,
    settings_class,
    vault_database,
)

# --- what the infrastructure is checked against --------------------------------------------------


POSTGRES_INIT_SQL = REPO_ROOT / "deploy" / "compose" / "postgres-init.sql"
# The Compose specification's JSON Schema, as the check-jsonschema package ships it.
COMPOSE_SCHEMA = REPO_ROOT / "deploy" / "schemas" / "compose-spec.json"
DATABASES = {name: f"mla_{name}" for name in SERVICES}
KAFKA_IMAGES = {"apache/kafka", "docker.io/apache/kafka"}
# A cluster that keeps every acknowledged event and keeps accepting writes with one node down.
BROKERS = 3
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2

# --- the infrastructure --------------------------------------------------------------------------


def test_the_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_kafka_is_three_official_apache_nodes_in_kraft_mode_without_zookeeper(services):
    nodes = kafka_nodes(services)
    assert len(nodes) == BROKERS, f"Kafka nodes: {sorted(nodes)}"
    for name, environment in nodes.items():
        assert services[name]["image"].split(":")[0] in KAFKA_IMAGES, name
        assert roles(environment) <= {"broker", "controller"}, name
        assert "CONTROLLER" in listeners(environment["KAFKA_LISTENERS"]), name
        assert not any("ZOOKEEPER" in variable for variable in environment), name
    assert sum("broker" in roles(environment) for environment in nodes.values()) == BROKERS
    assert len({services[name]["image"] for name in nodes}) == 1, "one Kafka version"
    assert not any("zookeeper" in name.lower() for name in services)


def test_kafka_nodes_form_one_cluster_with_a_quorum_that_survives_one_node_down(services):
    nodes = kafka_nodes(services)
    ids = [environment["KAFKA_NODE_ID"] for environment in nodes.values()]
    assert len(set(ids)) == len(ids), f"node ids must differ: {ids}"
    cluster_id = broker_default(services, "CLUSTER_ID")
    assert cluster_id, "KRaft storage is formatted with one fixed cluster id"
    voters = set(broker_default(services, "KAFKA_CONTROLLER_QUORUM_VOTERS").split(","))
    controllers = {
        f"{environment['KAFKA_NODE_ID']}@{services[name].get('hostname', name)}:"
        f"{listeners(environment['KAFKA_LISTENERS'])['CONTROLLER'].rsplit(':', 1)[1]}"
        for name, environment in nodes.items()
        if "controller" in roles(environment)
    }
    assert voters == controllers, "the quorum voters are exactly the controller nodes"
    assert len(voters) >= 3 and len(voters) % 2 == 1, "an odd quorum of at least three"


def test_kafka_leaves_topic_creation_to_the_topics_step(services):
    assert broker_default(services, "KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false"


def test_internal_topics_are_replicated_to_survive_one_node_down(services):
    factors = (
        "KAFKA_DEFAULT_REPLICATION_FACTOR",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
    )
    for variable in factors:
        assert int(broker_default(services, variable)) == REPLICATION_FACTOR, variable
    min_isr = (
        "KAFKA_MIN_INSYNC_REPLICAS",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    )
    for variable in min_isr:
        assert int(broker_default(services, variable)) == MIN_INSYNC_REPLICAS, variable
    # With the replication factor no larger than the brokers, and one replica to spare.
    assert REPLICATION_FACTOR <= BROKERS
    assert MIN_INSYNC_REPLICAS == REPLICATION_FACTOR - 1
    assert broker_default(services, "KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE") == "false"


@pytest.mark.parametrize("service", SERVICES)
def test_services_bootstrap_from_every_broker_at_the_address_it_advertises(services, service):
    advertised = {
        listeners(environment["KAFKA_ADVERTISED_LISTENERS"])["PLAINTEXT"]
        for environment in kafka_nodes(services).values()
    }
    environment = as_mapping(services[service]["environment"])
    bootstrap = environment[env_names(service)["kafka_bootstrap_servers"]]
    assert set(bootstrap.split(",")) == advertised


def test_each_kafka_node_is_reachable_from_the_host_where_it_says(services):
    for name, environment in kafka_nodes(services).items():
        external = listeners(environment["KAFKA_ADVERTISED_LISTENERS"])["EXTERNAL"]
        host, port = external.rsplit(":", 1)
        assert host in {"localhost", "127.0.0.1"}, name
        listening = listeners(environment["KAFKA_LISTENERS"])["EXTERNAL"].rsplit(":", 1)[1]
        assert (int(port), int(listening)) in {
            (published, target) for published, target, _ in published_ports(services[name])
        }, f"{name} advertises {external} but does not publish it"


def test_each_kafka_node_checks_its_own_listener(services):
    for name, environment in kafka_nodes(services).items():
        command = healthcheck_command(services[name])
        client_port = listeners(environment["KAFKA_LISTENERS"])["PLAINTEXT"].rsplit(":", 1)[1]
        assert f"--bootstrap-server localhost:{client_port}" in command, name


def test_postgres_creates_the_four_service_databases_and_the_key_vault(services):
    postgres = services["postgres"]
    assert postgres["image"].split(":")[0] in {"postgres", "docker.io/library/postgres"}
    assert as_mapping(postgres["environment"])["POSTGRES_USER"] == "mla"
    mounts = [str(volume) for volume in postgres.get("volumes", [])]
    init_mounts = [m for m in mounts if ":/docker-entrypoint-initdb.d/" in m]
    assert init_mounts, "the init SQL is mounted into /docker-entrypoint-initdb.d"
    source = init_mounts[0].split(":", 1)[0]
    assert (REPO_ROOT / source).resolve() == POSTGRES_INIT_SQL.resolve()
    created = set(
        re.findall(r"CREATE\s+DATABASE\s+(\w+)", POSTGRES_INIT_SQL.read_text(), re.IGNORECASE)
    )
    assert created == {*DATABASES.values(), vault_database()}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_uses_its_own_database_on_the_compose_postgres(services, service):
    environment = as_mapping(services[service]["environment"])
    url = urlsplit(environment[env_names(service)["database_url"]])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.path.lstrip("/") == DATABASES[service]


def test_brokers_and_database_keep_their_data_in_named_volumes_of_their_own(compose, services):
    named_volumes = set(compose.get("volumes") or {})
    owners: dict[str, str] = {}
    for stateful in [*kafka_nodes(services), "postgres"]:
        sources = {str(volume).split(":", 1)[0] for volume in services[stateful]["volumes"]}
        data = sources & named_volumes
        assert data, f"{stateful} keeps its data in no named volume"
        for volume in data:
            other = owners.setdefault(volume, stateful)
            assert other == stateful, f"{stateful} and {other} share the volume {volume}"


# --- the topics step -----------------------------------------------------------------------------


def test_topics_step_creates_the_lifecycle_topic_and_its_dead_letter_topic(services):
    _, creations = topic_creations(services["topics"])
    topic = lifecycle_topic()
    assert set(creations) == {topic, f"{topic}.dlq"}
    for service in SERVICES:
        environment = as_mapping(services[service]["environment"])
        assert environment.get(env_names(service)["topic"], topic) == topic, service
    assert all(creation.if_not_exists for creation in creations.values()), (
        "a second `docker compose up` must not fail because the topics exist"
    )


def test_topics_step_creates_them_on_the_cluster_the_services_use(services):
    bootstrap, _ = topic_creations(services["topics"])
    advertised = {
        listeners(environment["KAFKA_ADVERTISED_LISTENERS"])["PLAINTEXT"]
        for environment in kafka_nodes(services).values()
    }
    assert set(bootstrap.split(",")) == advertised


def test_topics_step_creates_the_partitions_the_services_expect(services):
    _, creations = topic_creations(services["topics"])
    partitions = str(creations[lifecycle_topic()].partitions)
    for service in SERVICES:
        names = env_names(service)
        environment = as_mapping(services[service]["environment"])
        default = settings_class(service).model_fields["topic_partitions"].default
        assert environment.get(names["topic_partitions"], str(default)) == partitions, service


def test_every_topic_keeps_three_replicas_and_takes_writes_with_one_broker_down(services):
    _, creations = topic_creations(services["topics"])
    default_factor = int(broker_default(services, "KAFKA_DEFAULT_REPLICATION_FACTOR"))
    default_min_isr = broker_default(services, "KAFKA_MIN_INSYNC_REPLICAS")
    for topic, creation in creations.items():
        factor = creation.replication_factor or default_factor
        min_isr = int(creation.configs.get("min.insync.replicas", default_min_isr))
        assert factor == REPLICATION_FACTOR, f"{topic}: {factor} replicas"
        assert min_isr == MIN_INSYNC_REPLICAS, f"{topic}: min.insync.replicas={min_isr}"
