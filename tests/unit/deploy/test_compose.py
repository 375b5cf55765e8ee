"""docker-compose.yml runs the whole system on one host, in the right order, fully configured.

These tests read the compose file as data (Docker is not needed): the file is valid against the
Compose specification (vendored in deploy/schemas); the infrastructure is a three-node Apache
Kafka cluster in KRaft mode whose topics survive one node down, and PostgreSQL with one
database per service; the one-off steps (topics, migrate) finish before any service starts;
every long-running container says when it is healthy; and every setting a service needs is
given, under the name the service's settings class actually reads, so that a typo in a
variable name fails here and not at 3 a.m.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.unit.deploy.project_settings import (
    PREFIXES,
    REPO_ROOT,
    REQUIRED_FOR_DEPLOYMENT,
    SERVICES,
    VAULT_MIGRATED_AT,
    env_names,
    lifecycle_topic,
    personal_data_services,
    settings_class,
    vault_database,
)

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
POSTGRES_INIT_SQL = REPO_ROOT / "deploy" / "compose" / "postgres-init.sql"
# The Compose specification's JSON Schema, as the check-jsonschema package ships it.
COMPOSE_SCHEMA = REPO_ROOT / "deploy" / "schemas" / "compose-spec.json"

ONE_OFF_STEPS = ("migrate", "topics")
DATABASES = {name: f"mla_{name}" for name in SERVICES}
PERSONAL_DATA_SERVICES = personal_data_services()
# Where Compose mounts a secret that names no target of its own.
SECRETS_DIR = "/run/secrets"
DEPENDENCY_CONDITIONS = {
    "service_started",
    "service_healthy",
    "service_completed_successfully",
}
READY_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(?P<port>\d+)/health/ready\b")
KAFKA_IMAGES = {"apache/kafka", "docker.io/apache/kafka"}
# A cluster that keeps every acknowledged event and keeps accepting writes with one node down.
BROKERS = 3
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


# --- reading the code and the compose file -------------------------------------------------


def as_mapping(environment: Any) -> dict[str, str]:
    """Compose accepts `environment` as a mapping or as a list of KEY=VALUE strings."""
    if environment is None:
        return {}
    if isinstance(environment, dict):
        return {str(key): "" if value is None else str(value) for key, value in environment.items()}
    pairs = (str(item).partition("=") for item in environment)
    return {key: value for key, _, value in pairs}


def as_argv(command: Any) -> list[str]:
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command or []]


def option(argv: list[str], name: str) -> str | None:
    for index, part in enumerate(argv):
        if part == name and index + 1 < len(argv):
            return argv[index + 1]
        if part.startswith(f"{name}="):
            return part.split("=", 1)[1]
    return None


def published_ports(service: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(host port, container port, protocol) for every published port, short or long syntax."""
    published = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if entry.get("published") is None:
                continue
            host, container = int(entry["published"]), int(entry["target"])
            protocol = entry.get("protocol", "tcp")
        else:
            spec, _, protocol = str(entry).partition("/")
            parts = spec.rsplit(":", 2)
            if len(parts) == 1:  # only a container port: Docker picks an ephemeral host port
                continue
            host, container = int(parts[-2]), int(parts[-1])
        published.append((host, container, protocol or "tcp"))
    return published


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as file:
        document = yaml.safe_load(file)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def long_running(services: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name in services if name not in ONE_OFF_STEPS]


def kafka_nodes(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Container name -> environment, for every Kafka node (a container with KRaft roles)."""
    nodes = {}
    for name, service in services.items():
        environment = as_mapping(service.get("environment"))
        if "KAFKA_PROCESS_ROLES" in environment:
            nodes[name] = environment
    return nodes


def roles(environment: dict[str, str]) -> set[str]:
    return {role.strip() for role in environment["KAFKA_PROCESS_ROLES"].split(",")}


def listeners(value: str) -> dict[str, str]:
    """`NAME://host:port,...` -> {NAME: host:port}."""
    pairs = (listener.split("://", 1) for listener in value.split(","))
    return {name.strip(): address.strip() for name, address in pairs}


def broker_default(services: dict[str, dict[str, Any]], variable: str) -> str:
    """A broker setting, which must be the same on every node."""
    values = {environment.get(variable) for environment in kafka_nodes(services).values()}
    assert len(values) == 1, f"the Kafka nodes disagree on {variable}: {values}"
    (value,) = values
    assert value is not None, f"{variable} is not set"
    return value


@dataclass(frozen=True)
class TopicCreation:
    partitions: int
    replication_factor: int | None  # None: the broker's default.replication.factor
    configs: dict[str, str] = dataclasses.field(default_factory=dict)
    if_not_exists: bool = True


def topic_creations(step: dict[str, Any]) -> tuple[str, dict[str, TopicCreation]]:
    """The bootstrap servers and the topics the `topics` step creates.

    It is either `python -m devstack create-topics` (the lifecycle topic and its DLQ, with one
    replica unless `--replication-factor` says otherwise, as shared/kafka.py does) or a shell
    script of `kafka-topics.sh --create` calls, one per topic.
    """
    argv = as_argv(step["command"])
    if argv[:4] == ["python", "-m", "devstack", "create-topics"]:
        topic = lifecycle_topic()
        replicas = option(argv, "--replication-factor")
        factor = int(replicas) if replicas else 1
        partitions = int(option(argv, "--partitions") or 6)
        creations = {
            topic: TopicCreation(partitions, factor),
            f"{topic}.dlq": TopicCreation(1, factor),
        }
        return option(argv, "--bootstrap-servers") or "", creations
    assert argv[0] in {"sh", "/bin/sh"} and argv[1] in {"-c", "-ec", "-ce"}, argv[:2]
    bootstrap_servers: set[str] = set()
    creations = {}
    for line in argv[2].replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        if not words:
            continue
        assert words[0].endswith("/kafka-topics.sh"), f"unexpected command in topics: {line}"
        assert "--create" in words, line
        configs = dict(
            words[index + 1].split("=", 1)
            for index, word in enumerate(words[:-1])
            if word == "--config"
        )
        replicas = option(words, "--replication-factor")
        creations[option(words, "--topic") or ""] = TopicCreation(
            partitions=int(option(words, "--partitions") or 0),
            replication_factor=int(replicas) if replicas else None,
            configs=configs,
            if_not_exists="--if-not-exists" in words,
        )
        bootstrap_servers.add(option(words, "--bootstrap-server") or "")
    assert len(bootstrap_servers) == 1, "every topic is created on the same cluster"
    return bootstrap_servers.pop(), creations


# --- the infrastructure ----------------------------------------------------------------------


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


# --- order of start-up --------------------------------------------------------------------------


def test_every_long_running_container_has_a_healthcheck(services):
    for name in long_running(services):
        healthcheck = services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), f"{name} disables its healthcheck"
        assert healthcheck_command(services[name]).strip(), f"{name}: empty healthcheck test"


def test_one_off_steps_run_once_and_are_not_restarted(services):
    for name in ONE_OFF_STEPS:
        # A bare `no` is YAML for false, which is not what compose expects: it must be "no".
        assert services[name]["restart"] == "no", name
        assert "healthcheck" not in services[name], f"{name} exits: nothing to check"


def test_long_running_containers_are_restarted_when_they_die(services):
    for name in long_running(services):
        assert services[name].get("restart") in {"unless-stopped", "always"}, name


def test_every_dependency_waits_for_a_stated_condition(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must give a condition"
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert spec.get("condition") in DEPENDENCY_CONDITIONS, f"{name} -> {dependency}"
            if dependency in ONE_OFF_STEPS:
                expected = "service_completed_successfully"
            else:
                assert "healthcheck" in services[dependency], f"{name} -> {dependency}"
                expected = "service_healthy"
            assert spec["condition"] == expected, f"{name} -> {dependency}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_waits_for_migrations_and_topics_to_finish_before_starting(services, service):
    depends_on = services[service]["depends_on"]
    for step in ONE_OFF_STEPS:
        assert depends_on[step]["condition"] == "service_completed_successfully"
    for infrastructure in (*kafka_nodes(services), "postgres"):
        assert depends_on[infrastructure]["condition"] == "service_healthy"


def test_migrations_wait_for_postgres_and_topics_wait_for_every_kafka_node(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for node in kafka_nodes(services):
        assert services["topics"]["depends_on"][node]["condition"] == "service_healthy"


# --- what each container runs ------------------------------------------------------------------


def build_context(service: dict[str, Any]) -> str | None:
    build = service.get("build")
    return build if isinstance(build, str) else (build or {}).get("context")


def test_the_services_and_steps_run_from_the_project_image(services):
    for name in (*SERVICES, "migrate"):
        assert build_context(services[name]) in {".", "./"}, (
            f"{name} is not built from the project's Dockerfile"
        )
    # `topics` runs devstack from the project image, or the CLI of the brokers' own image.
    topics = services["topics"]
    broker_images = {services[name]["image"] for name in kafka_nodes(services)}
    assert build_context(topics) in {".", "./"} or topics.get("image") in broker_images


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_its_own_module(services, service):
    assert as_argv(services[service]["command"]) == ["python", "-m", f"services.{service}"]


def test_migrate_step_runs_devstack_migrate_on_every_service_database(services):
    migrate = services["migrate"]
    assert as_argv(migrate["command"]) == ["python", "-m", "devstack", "migrate"]
    migrate_environment = as_mapping(migrate["environment"])
    for service in SERVICES:
        variable = env_names(service)["database_url"]
        service_environment = as_mapping(services[service]["environment"])
        assert migrate_environment.get(variable) == service_environment[variable], (
            f"migrations must run against the database {service} uses"
        )


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


# --- settings: every one a service needs, none it does not read ---------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_the_settings_class_reads_the_prefix_the_compose_file_uses(service):
    cls = settings_class(service)
    if cls.__module__ == "shared.settings":
        pytest.skip(f"services/{service}/settings.py does not exist yet")
    assert cls.model_config.get("env_prefix", "").upper() == PREFIXES[service]


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_a_service_needs_is_given_explicitly(services, service):
    environment = as_mapping(services[service]["environment"])
    names = env_names(service)
    missing = [names[field] for field in REQUIRED_FOR_DEPLOYMENT if names[field] not in environment]
    assert not missing, f"{service} is missing {missing}"
    assert all(environment[names[field]].strip() for field in REQUIRED_FOR_DEPLOYMENT)


@pytest.mark.parametrize("service", SERVICES)
def test_no_variable_names_a_setting_the_service_does_not_have(services, service):
    environment = as_mapping(services[service]["environment"])
    known = set(env_names(service).values())
    own_prefix = PREFIXES[service]
    unknown = sorted(v for v in environment if v.startswith(own_prefix) and v not in known)
    assert not unknown, f"{service} sets {unknown}: typo, or a setting that does not exist"
    other_prefixes = tuple(p for p in PREFIXES.values() if p != own_prefix)
    foreign = sorted(v for v in environment if v.startswith(other_prefixes))
    assert not foreign, f"{service} sets another service's variables {foreign}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_listens_on_all_interfaces_of_its_container(services, service):
    environment = as_mapping(services[service]["environment"])
    assert environment[env_names(service)["host"]] == "0.0.0.0"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_published_and_checked_on_the_port_it_listens_on(services, service):
    environment = as_mapping(services[service]["environment"])
    port = int(environment[env_names(service)["port"]])
    assert [(host, container) for host, container, _ in published_ports(services[service])] == [
        (port, port)
    ]
    match = READY_URL.search(healthcheck_command(services[service]))
    assert match, "the healthcheck asks the service whether it is ready (database and broker)"
    assert int(match["port"]) == port


def test_the_four_services_listen_on_ports_8001_to_8004(services):
    ports = [int(as_mapping(services[s]["environment"])[env_names(s)["port"]]) for s in SERVICES]
    assert ports == [8001, 8002, 8003, 8004]


@pytest.mark.parametrize("service", SERVICES)
def test_healthchecks_do_not_rely_on_curl_which_slim_images_lack(services, service):
    test = services[service]["healthcheck"]["test"]
    argv = as_argv(test[1:] if isinstance(test, list) else test)
    assert argv[0] == "python"
    assert "curl" not in healthcheck_command(services[service])
    assert "wget" not in healthcheck_command(services[service])


def test_published_host_ports_do_not_clash(services):
    seen: dict[tuple[int, str], str] = {}
    for name, service in services.items():
        for host, _, protocol in published_ports(service):
            clash = seen.setdefault((host, protocol), name)
            assert clash == name, f"{name} and {clash} both publish host port {host}/{protocol}"


# --- personal data: the key vault and the master key -------------------------------------------


def test_personal_data_is_sealed_by_intake_and_shown_by_tracking():
    # The tests below check each of these; a service that starts reading personal data
    # appears here through its settings class, and so in every one of them.
    assert set(PERSONAL_DATA_SERVICES) >= {"intake", "tracking"}


def secret_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Secret name -> the path it appears at in the container (short or long syntax)."""
    mounts = {}
    for entry in service.get("secrets", []):
        if isinstance(entry, str):
            mounts[entry] = f"{SECRETS_DIR}/{entry}"
        else:
            target = str(entry.get("target", entry["source"]))
            mounts[entry["source"]] = (
                target if target.startswith("/") else f"{SECRETS_DIR}/{target}"
            )
    return mounts


@pytest.mark.parametrize("service", PERSONAL_DATA_SERVICES)
def test_each_service_with_personal_data_uses_the_one_key_vault(services, service):
    environment = as_mapping(services[service]["environment"])
    variable = env_names(service)["vault_database_url"]
    assert environment.get(variable), f"{service} must name the key vault ({variable})"
    url = urlsplit(environment[variable])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.path.lstrip("/") == vault_database()
    vaults = {
        as_mapping(services[other]["environment"]).get(env_names(other)["vault_database_url"])
        for other in PERSONAL_DATA_SERVICES
    }
    assert len(vaults) == 1, f"intake makes the keys tracking reads: one vault, not {vaults}"


def test_migrate_step_creates_and_migrates_the_key_vault_the_services_use(services):
    migrate_environment = as_mapping(services["migrate"]["environment"])
    variable = env_names(VAULT_MIGRATED_AT)["vault_database_url"]
    assert migrate_environment.get(variable), f"migrate must name the key vault ({variable})"
    for service in PERSONAL_DATA_SERVICES:
        service_environment = as_mapping(services[service]["environment"])
        assert (
            migrate_environment[variable]
            == service_environment[env_names(service)["vault_database_url"]]
        ), f"the vault {service} uses is not the one migrated"


@pytest.mark.parametrize("service", PERSONAL_DATA_SERVICES)
def test_each_service_with_personal_data_reads_the_master_key_from_a_secret(
    compose, services, service
):
    environment = as_mapping(services[service]["environment"])
    key_file = environment.get(env_names(service)["personal_data_key_file"])
    assert key_file, f"{service} must be told where its master key is"
    mounted_at = {path: name for name, path in secret_mounts(services[service]).items()}
    assert key_file in mounted_at, f"{key_file} is not where a secret of {service} is mounted"
    secret = (compose.get("secrets") or {}).get(mounted_at[key_file])
    assert secret is not None, f"the secret {mounted_at[key_file]} is not declared"
    # From a file the operator makes (python -m shared.personal_data create-master-key),
    # never a value in this file or in an environment variable. (The settings have no field
    # for the key itself, so a variable holding it fails the unknown-variable test.)
    assert set(secret) == {"file"}, f"{mounted_at[key_file]}: {secret}"


def test_the_master_key_file_defaults_to_the_one_make_run_keeps(compose):
    # One key per machine: the operator may point MLA_PERSONAL_DATA_KEY_FILE elsewhere.
    secret_files = [str(secret["file"]) for secret in (compose.get("secrets") or {}).values()]
    default = str(settings_class("intake").model_fields["personal_data_key_file"].default)
    assert f"${{MLA_PERSONAL_DATA_KEY_FILE:-./{default}}}" in secret_files


def test_only_the_services_with_personal_data_get_the_master_key(services):
    for name, service in services.items():
        if name not in PERSONAL_DATA_SERVICES:
            assert not service.get("secrets"), f"{name} has no use for a secret"


# --- access: every service verifies tokens the same way --------------------------------------


def test_every_service_verifies_tokens_with_the_same_key_or_identity_provider(services):
    for setting in ("auth_shared_key", "auth_jwks_url"):
        values = {
            service: as_mapping(services[service]["environment"]).get(env_names(service)[setting])
            for service in SERVICES
        }
        assert None not in values.values(), f"{setting} is not given to every service: {values}"
        assert len(set(values.values())) == 1, f"the services disagree on {setting}: {values}"


# --- the image ---------------------------------------------------------------------------------


def test_the_image_runs_as_a_non_root_user_and_exposes_the_service_ports():
    instructions = [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip()]
    bases = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert bases == ["python:3.11-slim"], "one stage, on the slim Python 3.11 image"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users, "the image sets a USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    exposed = {
        int(port)
        for line in instructions
        if line.startswith("EXPOSE ")
        for port in line.split()[1:]
    }
    assert {8001, 8002, 8003, 8004} <= exposed
    installs = [line for line in instructions if "pip install" in line]
    assert installs, "the image installs the project with pip"
    assert not any("[dev]" in line for line in installs), "no dev dependencies in the image"
