"""docker-compose.yml starts the system in the right order, from the project image.

The one-off steps (topics, migrate) run once and finish before any service starts; every
long-running container says when it is healthy and is restarted when it dies; every
dependency waits for a stated condition; each service and step runs the right command from the
project image; and the image itself runs as a non-root user without dev dependencies.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.deploy.compose_file import (
    ONE_OFF_STEPS,
    as_argv,
    as_mapping,
    healthcheck_command,
    kafka_nodes,
    long_running,
)
from tests.unit.deploy.project_settings import REPO_ROOT, SERVICES, env_names

# --- what start-up is checked against ------------------------------------------------------------


DOCKERFILE = REPO_ROOT / "Dockerfile"
DEPENDENCY_CONDITIONS = {
    "service_started",
    "service_healthy",
    "service_completed_successfully",
}

# --- order of start-up ---------------------------------------------------------------------------


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


# --- what each container runs --------------------------------------------------------------------


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


# --- the image -----------------------------------------------------------------------------------


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
