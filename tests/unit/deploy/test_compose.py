"""docker-compose.yml runs the whole system on one host, in the right order, fully configured.

These tests read the compose file as data (Docker is not needed): the infrastructure is the
official Apache Kafka in KRaft mode and PostgreSQL with one database per service; the one-off
steps (topics, migrate) finish before any service starts; every long-running container says
when it is healthy; and every setting a service needs is given, under the name the service's
settings class actually reads, so that a typo in a variable name fails here and not at 3 a.m.
"""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
POSTGRES_INIT_SQL = REPO_ROOT / "deploy" / "compose" / "postgres-init.sql"

# The four services and the prefix each reads its settings with (shared/settings.py).
PREFIXES = {
    "intake": "INTAKE_",
    "routing": "ROUTING_",
    "tracking": "TRACKING_",
    "notify": "NOTIFY_",
}
SERVICES = tuple(PREFIXES)
ONE_OFF_STEPS = ("migrate", "topics")
DATABASES = {name: f"mla_{name}" for name in SERVICES}
# Settings that have a default for a developer's laptop, but not one that works in a container.
REQUIRED_FOR_DEPLOYMENT = ("database_url", "kafka_bootstrap_servers", "host", "port")
DEPENDENCY_CONDITIONS = {
    "service_started",
    "service_healthy",
    "service_completed_successfully",
}
READY_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(?P<port>\d+)/health/ready\b")


# --- reading the code and the compose file -------------------------------------------------


def _import(module_name: str) -> ModuleType:
    """Imports a project module, also when the project is not installed (run from a checkout)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] not in {"shared", "services"}:
            raise
        if str(REPO_ROOT) in sys.path:
            raise
        sys.path.append(str(REPO_ROOT))
        return importlib.import_module(module_name)


def settings_class(service: str) -> type[Any]:
    """The class a service reads its settings with: its own `Settings` if it has one yet.

    Only a missing `services/<name>/settings.py` (or a missing service package) falls back to
    `shared.settings.ServiceSettings`; any other import error in the module is a real failure.
    """
    module_name = f"services.{service}.settings"
    try:
        module = _import(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if not (module_name == missing or module_name.startswith(f"{missing}.")):
            raise
        settings: type[Any] = _import("shared.settings").ServiceSettings
        return settings
    service_settings: type[Any] = module.Settings
    return service_settings


def env_names(service: str) -> dict[str, str]:
    """Field name -> the environment variable that sets it, for the service's prefix."""
    names = {}
    for field_name, field in settings_class(service).model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names[field_name] = (alias or f"{PREFIXES[service]}{field_name}").upper()
    return names


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


# --- the infrastructure ----------------------------------------------------------------------


def test_kafka_is_the_official_apache_image_in_kraft_mode_without_zookeeper(services):
    kafka = services["kafka"]
    assert kafka["image"].split(":")[0] in {"apache/kafka", "docker.io/apache/kafka"}
    environment = as_mapping(kafka["environment"])
    roles = {role.strip() for role in environment["KAFKA_PROCESS_ROLES"].split(",")}
    assert roles == {"broker", "controller"}, "one combined node for now"
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(
        f"{environment['KAFKA_NODE_ID']}@"
    )
    assert "CONTROLLER" in environment["KAFKA_LISTENERS"]
    assert environment.get("CLUSTER_ID"), "KRaft storage is formatted with a fixed cluster id"
    assert not any("zookeeper" in name.lower() for name in services)
    assert not any("ZOOKEEPER" in name for name in environment)


def test_kafka_leaves_topic_creation_to_the_topics_step(services):
    environment = as_mapping(services["kafka"]["environment"])
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_a_single_kafka_node_does_not_ask_for_more_replicas_than_it_has(services):
    environment = as_mapping(services["kafka"]["environment"])
    assert environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert environment["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"


@pytest.mark.parametrize("service", SERVICES)
def test_kafka_advertises_the_address_the_services_bootstrap_from(services, service):
    kafka_environment = as_mapping(services["kafka"]["environment"])
    advertised = {
        listener.split("://", 1)[1]
        for listener in kafka_environment["KAFKA_ADVERTISED_LISTENERS"].split(",")
    }
    environment = as_mapping(services[service]["environment"])
    bootstrap = environment[env_names(service)["kafka_bootstrap_servers"]]
    assert set(bootstrap.split(",")) <= advertised


def test_postgres_creates_the_four_service_databases(services):
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
    assert created == set(DATABASES.values())


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_uses_its_own_database_on_the_compose_postgres(services, service):
    environment = as_mapping(services[service]["environment"])
    url = urlsplit(environment[env_names(service)["database_url"]])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.path.lstrip("/") == DATABASES[service]


@pytest.mark.parametrize("stateful", ["kafka", "postgres"])
def test_broker_and_database_keep_their_data_in_a_named_volume(compose, services, stateful):
    named_volumes = set(compose.get("volumes") or {})
    sources = {str(volume).split(":", 1)[0] for volume in services[stateful]["volumes"]}
    assert sources & named_volumes


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
    for infrastructure in ("kafka", "postgres"):
        assert depends_on[infrastructure]["condition"] == "service_healthy"


def test_migrations_wait_for_postgres_and_topics_wait_for_kafka(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"


# --- what each container runs ------------------------------------------------------------------


def test_the_services_and_steps_run_from_the_project_image(services):
    for name in (*SERVICES, *ONE_OFF_STEPS):
        build = services[name].get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        assert context in {".", "./"}, f"{name} is not built from the project's Dockerfile"


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


def test_topics_step_creates_the_partitions_the_services_expect(services):
    argv = as_argv(services["topics"]["command"])
    assert argv[:4] == ["python", "-m", "devstack", "create-topics"]
    assert option(argv, "--bootstrap-servers") == "kafka:9092"
    partitions = option(argv, "--partitions")
    assert partitions is not None
    for service in SERVICES:
        names = env_names(service)
        environment = as_mapping(services[service]["environment"])
        default = settings_class(service).model_fields["topic_partitions"].default
        assert environment.get(names["topic_partitions"], str(default)) == partitions, service


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
