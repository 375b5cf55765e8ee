"""deploy/k8s in production: each service reaches Kafka over TLS as its own KafkaUser, allowed
only what it does.

The KafkaUsers (a Strimzi custom resource, absent from the Kubernetes schemas) are checked
against the fields their CRD defines; their ACLs against the code (which events each service
publishes, shared/asyncapi.py, and the consumer group each Deployment names); and each
production Deployment against its settings class: SSL, the cluster's CA and its own user's
certificate, mounted read-only from the Secret the User Operator writes, the settings
themselves accepted by the service (tests/unit/shared/test_broker_connection.py; the
connection itself: tests/integration/test_broker_tls.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.deploy.manifests import (
    container_of,
    deployment,
    env_of,
    find,
    literal,
)
from tests.unit.deploy.project_settings import (
    SERVICES,
    env_names,
    import_project,
    lifecycle_topic,
    settings_class,
)

# --- what the users are checked against ----------------------------------------------------------


# The fields of the KafkaUser CRD (kafka.strimzi.io/v1beta2) these resources may use.
KAFKA_USER_SPEC = {"authentication", "authorization", "quotas", "template"}
AUTHENTICATION_TYPES = {"tls", "tls-external", "scram-sha-512"}
ACL_RULE_FIELDS = {"resource", "type", "host", "operations"}
ACL_RESOURCE_TYPES = {"topic", "group", "cluster", "transactionalId"}
ACL_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
}
CLUSTER_CA_SECRET = "mla-kafka-cluster-ca-cert"


def user_of(service: str) -> str:
    return f"mla-{service}"


def granted(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> the operations the user is allowed on it."""
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        assert rule.get("type", "allow") == "allow", "only what is needed is allowed"
        resource = rule["resource"]
        assert resource.get("patternType", "literal") == "literal", "no user gets a prefix"
        key = (resource["type"], resource.get("name", "kafka-cluster"))
        grants.setdefault(key, set()).update(rule["operations"])
    return grants


def publishes(service: str) -> bool:
    return bool(import_project("shared.asyncapi").PRODUCERS[service])


def dead_letter_topic() -> str:
    return str(settings_class("intake")().dlq_topic)


# --- the KafkaUsers ------------------------------------------------------------------------------


def test_every_kafka_user_has_only_the_fields_of_the_strimzi_crd(kafka_users):
    for name, user in kafka_users.items():
        assert user["apiVersion"] == "kafka.strimzi.io/v1beta2", name
        assert set(user) <= {"apiVersion", "kind", "metadata", "spec"}, name
        assert set(user["spec"]) <= KAFKA_USER_SPEC, name
        assert user["spec"]["authentication"]["type"] in AUTHENTICATION_TYPES, name
        assert user["spec"]["authorization"]["type"] == "simple", name
        for rule in user["spec"]["authorization"]["acls"]:
            assert set(rule) <= ACL_RULE_FIELDS, name
            assert rule["resource"]["type"] in ACL_RESOURCE_TYPES, name
            assert set(rule["operations"]) <= ACL_OPERATIONS, name


def test_each_service_has_its_own_user_on_the_cluster_of_the_topics(kafka_users, topics):
    assert set(kafka_users) == {user_of(service) for service in SERVICES}
    (cluster,) = {topic["metadata"]["labels"]["strimzi.io/cluster"] for topic in topics.values()}
    for name, user in kafka_users.items():
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        assert user["metadata"]["namespace"] == "mla", "its Secret where the pods read it"
        assert user["spec"]["authentication"]["type"] == "tls", "a certificate, no password"


@pytest.mark.parametrize("service", SERVICES)
def test_each_user_may_do_what_its_service_does_and_nothing_more(kafka_users, production, service):
    group = literal(env_of(container_of(production, service))[env_names(service)["consumer_group"]])
    lifecycle = {"Describe", "Read", "Write"} if publishes(service) else {"Describe", "Read"}
    assert granted(kafka_users[user_of(service)]) == {
        ("topic", lifecycle_topic()): lifecycle,
        ("group", group): {"Read"},
        ("topic", dead_letter_topic()): {"Describe", "Write"},
    }


# --- the services in production ------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_reaches_kafka_over_tls_with_its_own_certificate(production, service):
    container = container_of(production, service)
    env = env_of(container)
    names = env_names(service)
    assert literal(env[names["kafka_security_protocol"]]) == "SSL"
    assert literal(env[names["provision_topics"]]) == "false", "the topics are Strimzi's"
    spec = deployment(production, service)["spec"]["template"]["spec"]
    mounted = {
        m["name"]: Path(m["mountPath"]) for m in container["volumeMounts"] if m.get("readOnly")
    }
    volumes = {v["name"]: v["secret"] for v in spec["volumes"] if "secret" in v}
    files = {}
    for setting in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
        path = Path(literal(env[names[setting]]))
        (volume,) = [name for name, where in mounted.items() if where == path.parent]
        secret = volumes[volume]
        assert path.name in {item["path"] for item in secret["items"]}, setting
        assert secret["defaultMode"] & 0o007 == 0, "not readable by others"
        files[setting] = (secret["secretName"], path.name)
    assert files == {
        "kafka_ssl_cafile": (CLUSTER_CA_SECRET, "ca.crt"),
        "kafka_ssl_certfile": (user_of(service), "user.crt"),
        "kafka_ssl_keyfile": (user_of(service), "user.key"),
    }
    # The settings, as the pod would give them, are ones the service starts with.
    given = {field: literal(env[names[field]]) for field in files}
    settings = settings_class(service)(
        kafka_security_protocol="SSL", provision_topics=False, **given
    )
    assert settings.broker.client_certificate is not None


def test_in_production_the_services_bootstrap_from_the_tls_listener(production):
    servers = find(production, "ConfigMap", "mla-config")["data"]["kafka-bootstrap-servers"]
    assert all(server.endswith(":9093") for server in servers.split(","))


def test_the_base_stays_in_the_clear_for_a_cluster_without_users(base):
    for service in SERVICES:
        env = env_of(container_of(base, service))
        assert env_names(service)["kafka_security_protocol"] not in env


def test_the_asyncapi_document_names_the_servers_and_how_services_prove_who_they_are(production):
    document = import_project("shared.asyncapi").build_document()
    servers = document["servers"]
    bootstrap = find(production, "ConfigMap", "mla-config")["data"]["kafka-bootstrap-servers"]
    assert servers["production"]["host"] == bootstrap
    assert servers["production"]["protocol"] == "kafka-secure"
    (scheme,) = servers["production"]["security"]
    name = scheme["$ref"].removeprefix("#/components/securitySchemes/")
    assert document["components"]["securitySchemes"][name]["type"] == "X509"
    local = import_project("shared.settings").ServiceSettings.model_fields
    assert servers["oneMachine"]["host"] == local["kafka_bootstrap_servers"].default
    assert servers["oneMachine"]["protocol"] == "kafka"
