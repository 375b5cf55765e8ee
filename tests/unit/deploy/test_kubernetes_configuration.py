"""deploy/k8s gives each service, and the migration Job, its settings and secrets.

The manifests are checked against the code: every setting a service needs is given under the
name its settings class reads, and none it does not read; every ConfigMap and Secret reference
names a key that exists; the personal-data services get the one key vault and the master key,
mounted read-only and never inlined; every service verifies tokens against the identity
provider; and the migration Job migrates the databases the services use.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.unit.deploy.manifests import (
    SECRETS_TEMPLATE,
    container_of,
    containers,
    deployment,
    env_of,
    literal,
    of_kind,
    pod_specs,
    read_documents,
)
from tests.unit.deploy.project_settings import (
    PREFIXES,
    REQUIRED_FOR_DEPLOYMENT,
    SERVICES,
    VAULT_MIGRATED_AT,
    default,
    env_names,
    personal_data_services,
    vault_database,
)

# --- what the configuration is checked against ---------------------------------------------------


# Every setting a Deployment gives explicitly (the brief of deploy/k8s): where to listen, the
# database, the broker and topic, the consumer group, the log level.
DEPLOYMENT_SETTINGS = (
    *REQUIRED_FOR_DEPLOYMENT,
    "topic",
    "topic_partitions",
    "consumer_group",
    "log_level",
)
PERSONAL_DATA_SERVICES = personal_data_services()
MASTER_KEY_SECRET = "mla-personal-data-key"

# --- settings and secrets of each service's Deployment -------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_a_service_needs_is_given(bundle, service):
    environment = env_of(container_of(bundle, service))
    names = env_names(service)
    missing = [names[field] for field in DEPLOYMENT_SETTINGS if names[field] not in environment]
    assert not missing, f"{service} is missing {missing}"
    assert literal(environment[names["host"]]) == "0.0.0.0"
    assert literal(environment[names["port"]]) == str(default(service, "port"))
    assert literal(environment[names["consumer_group"]]) == default(service, "consumer_group")


@pytest.mark.parametrize("service", SERVICES)
def test_no_variable_names_a_setting_the_service_does_not_have(bundle, service):
    environment = env_of(container_of(bundle, service))
    known = set(env_names(service).values())
    own_prefix = PREFIXES[service]
    unknown = sorted(v for v in environment if v.startswith(own_prefix) and v not in known)
    assert not unknown, f"{service} sets {unknown}: typo, or a setting that does not exist"
    other_prefixes = tuple(p for p in PREFIXES.values() if p != own_prefix)
    foreign = sorted(v for v in environment if v.startswith(other_prefixes))
    assert not foreign, f"{service} sets another service's variables {foreign}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_reads_its_database_url_from_the_secret(bundle, service, secret_keys):
    environment = env_of(container_of(bundle, service))
    variable = env_names(service)["database_url"]
    reference = environment[variable]["valueFrom"]["secretKeyRef"]
    assert reference["name"] == "mla-database-urls"
    assert reference["key"] == variable
    assert variable in secret_keys["mla-database-urls"], "documented in the Secret's template"
    assert not reference.get("optional", False), "no database, no service"


def test_every_reference_names_a_config_map_key_or_secret_key_that_exists(bundle, secret_keys):
    config_maps = {c["metadata"]["name"]: set(c["data"]) for c in of_kind(bundle, "ConfigMap")}
    for container in containers(bundle):
        for entry in container.get("env", []):
            source = entry.get("valueFrom", {})
            if "configMapKeyRef" in source:
                reference = source["configMapKeyRef"]
                assert reference["key"] in config_maps[reference["name"]], entry["name"]
            if "secretKeyRef" in source:
                reference = source["secretKeyRef"]
                assert reference["key"] in secret_keys[reference["name"]], entry["name"]
    for spec in pod_specs(bundle):
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                secret = volume["secret"]
                keys = {item["key"] for item in secret.get("items", [])}
                assert keys <= secret_keys[secret["secretName"]], volume["name"]


def test_tracking_signs_with_the_key_mounted_read_only_from_its_secret(bundle):
    container = container_of(bundle, "tracking")
    path = Path(literal(env_of(container)[env_names("tracking")["signing_key_path"]]))
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == path.parent]
    assert mount["readOnly"] is True
    spec = deployment(bundle, "tracking")["spec"]["template"]["spec"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "mla-tracking-signing-key"
    assert path.name in {item["path"] for item in volume["secret"]["items"]}
    assert volume["secret"]["defaultMode"] & 0o007 == 0, "not readable by others"


# --- personal data: the key vault and the master key ---------------------------------------------


def test_personal_data_is_sealed_by_intake_and_shown_by_tracking():
    # The tests below check each of these; a service that starts reading personal data
    # appears here through its settings class, and so in every one of them.
    assert set(PERSONAL_DATA_SERVICES) >= {"intake", "tracking"}


@pytest.mark.parametrize("service", PERSONAL_DATA_SERVICES)
def test_each_service_with_personal_data_reads_the_key_vault_url_from_the_secret(
    bundle, service, secret_keys
):
    # Named explicitly: the default (mla_vault beside the service's own database) would give
    # intake and tracking different vaults as soon as their databases are on different servers.
    environment = env_of(container_of(bundle, service))
    variable = env_names(service)["vault_database_url"]
    assert variable in environment, f"{service} must name the key vault ({variable})"
    reference = environment[variable]["valueFrom"]["secretKeyRef"]
    assert (reference["name"], reference["key"]) == ("mla-database-urls", variable)
    assert variable in secret_keys["mla-database-urls"], "documented in the Secret's template"
    assert not reference.get("optional", False), "no vault, no personal data"


def test_the_secret_template_names_one_key_vault_for_every_service_and_the_job():
    (urls,) = [
        s["stringData"]
        for s in read_documents(SECRETS_TEMPLATE)
        if s["metadata"]["name"] == "mla-database-urls"
    ]
    # The users may differ (intake writes keys, tracking only reads them); the database not.
    vaults = set()
    for service in {*PERSONAL_DATA_SERVICES, VAULT_MIGRATED_AT}:
        url = urlsplit(urls[env_names(service)["vault_database_url"]])
        vaults.add((url.scheme, url.hostname, url.port, url.path.lstrip("/")))
    assert len(vaults) == 1, f"intake makes the keys tracking reads: one vault, not {vaults}"
    (vault,) = vaults
    assert vault[0] == "postgresql+asyncpg"
    assert vault[3] == vault_database()


def test_the_job_migrates_the_key_vault_the_services_use(bundle):
    (job,) = of_kind(bundle, "Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    variable = env_names(VAULT_MIGRATED_AT)["vault_database_url"]
    reference = env_of(container)[variable]["valueFrom"]["secretKeyRef"]
    assert (reference["name"], reference["key"]) == ("mla-database-urls", variable)
    migrated = env_of(container_of(bundle, VAULT_MIGRATED_AT))[variable]
    assert env_of(container)[variable] == migrated


@pytest.mark.parametrize("service", PERSONAL_DATA_SERVICES)
def test_each_service_reads_the_master_key_mounted_read_only_from_its_secret(
    bundle, service, secret_keys
):
    container = container_of(bundle, service)
    path = Path(literal(env_of(container)[env_names(service)["personal_data_key_file"]]))
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == path.parent]
    assert mount["readOnly"] is True
    spec = deployment(bundle, service)["spec"]["template"]["spec"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == MASTER_KEY_SECRET
    assert not volume["secret"].get("optional", False), "no master key, no service"
    (item,) = [i for i in volume["secret"]["items"] if i["path"] == path.name]
    assert item["key"] in secret_keys[MASTER_KEY_SECRET], "documented in the template"
    assert volume["secret"]["defaultMode"] & 0o007 == 0, "not readable by others"


def test_the_master_key_is_never_inlined_in_a_variable(bundle):
    for container in containers(bundle):
        for entry in container.get("env", []):
            reference = entry.get("valueFrom", {}).get("secretKeyRef", {})
            assert reference.get("name") != MASTER_KEY_SECRET, entry["name"]


def test_only_the_services_with_personal_data_mount_the_master_key(bundle):
    for resource in of_kind(bundle, "Deployment") + of_kind(bundle, "Job"):
        name = resource["metadata"]["name"]
        secrets = {
            v["secret"]["secretName"]
            for v in resource["spec"]["template"]["spec"].get("volumes", [])
            if "secret" in v
        }
        if name not in PERSONAL_DATA_SERVICES:
            assert MASTER_KEY_SECRET not in secrets, f"{name} has no use for the master key"


# --- access: every service verifies tokens against the one identity provider ---------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_verifies_tokens_against_the_identity_provider(bundle, service):
    environment = env_of(container_of(bundle, service))
    names = env_names(service)
    for setting, key in (
        ("auth_jwks_url", "auth-jwks-url"),
        ("auth_issuer", "auth-issuer"),
        ("auth_audience", "auth-audience"),
    ):
        reference = environment[names[setting]]["valueFrom"]["configMapKeyRef"]
        assert (reference["name"], reference["key"]) == ("mla-config", key), setting
    # No shared key in a cluster: with a JWKS URL it would be ignored, and a key in every
    # pod could mint a token for anyone.
    assert names["auth_shared_key"] not in environment
    assert names["auth_shared_key_file"] not in environment


# --- the migration Job ---------------------------------------------------------------------------


def test_the_job_migrates_every_service_database_with_the_url_the_service_uses(bundle):
    (job,) = of_kind(bundle, "Job")
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == ["python", "-m", "devstack", "migrate"]
    environment = env_of(container)
    for service in SERVICES:
        variable = env_names(service)["database_url"]
        service_environment = env_of(container_of(bundle, service))
        assert environment.get(variable) == service_environment[variable], (
            f"migrations must run against the database {service} uses"
        )
    database_urls = {env_names(service)["database_url"] for service in SERVICES}
    vault_url = env_names(VAULT_MIGRATED_AT)["vault_database_url"]
    prefixed = {v for v in environment if v.startswith(tuple(PREFIXES.values()))}
    assert prefixed == database_urls | {vault_url}, (
        "the Job sets the databases and the key vault, nothing else of the services' settings"
    )
    assert spec["restartPolicy"] == "Never", "a failed attempt keeps its pod and its logs"
    assert 0 <= job["spec"]["backoffLimit"] <= 3
    assert job["spec"]["activeDeadlineSeconds"] > 0, "a hung migration does not hang a rollout"
