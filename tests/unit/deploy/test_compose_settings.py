"""docker-compose.yml gives every service its settings, its secrets and its ports.

Every setting a service needs is given, under the name the service's settings class actually
reads, so that a typo in a variable name fails here and not at 3 a.m.; each service listens and
is published and health-checked on its own port; the personal-data services share the one key
vault and read the master key from a Compose secret; and every service verifies tokens the
same way.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.unit.deploy.compose_file import as_argv, as_mapping, healthcheck_command, published_ports
from tests.unit.deploy.project_settings import (
    PREFIXES,
    REQUIRED_FOR_DEPLOYMENT,
    SERVICES,
    VAULT_MIGRATED_AT,
    env_names,
    personal_data_services,
    settings_class,
    vault_database,
)

# --- what the settings are checked against -------------------------------------------------------


PERSONAL_DATA_SERVICES = personal_data_services()
# Where Compose mounts a secret that names no target of its own.
SECRETS_DIR = "/run/secrets"
READY_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(?P<port>\d+)/health/ready\b")

# --- settings: every one a service needs, none it does not read ----------------------------------


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


# --- personal data: the key vault and the master key ---------------------------------------------


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


# --- access: every service verifies tokens the same way ------------------------------------------


def test_every_service_verifies_tokens_with_the_same_key_or_identity_provider(services):
    for setting in ("auth_shared_key", "auth_jwks_url"):
        values = {
            service: as_mapping(services[service]["environment"]).get(env_names(service)[setting])
            for service in SERVICES
        }
        assert None not in values.values(), f"{setting} is not given to every service: {values}"
        assert len(set(values.values())) == 1, f"the services disagree on {setting}: {values}"
