"""docker-compose.yml read as data (Docker is not needed), and the helpers its tests share.

Compose accepts several spellings of the same thing (environment as a mapping or a list,
commands as a string or a list, short or long port syntax); the helpers here read each of them
into one shape. The fixtures that load the file are in conftest.py.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from typing import Any

from tests.unit.deploy.project_settings import REPO_ROOT, lifecycle_topic

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ONE_OFF_STEPS = ("migrate", "topics")

# --- reading the compose file --------------------------------------------------------------------


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
