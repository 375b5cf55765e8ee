"""Fixtures shared by the deployment tests: the rendered k8s manifests and the compose file."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.unit.deploy.compose_file import COMPOSE_FILE
from tests.unit.deploy.manifests import (
    BASE,
    BUNDLES,
    PRODUCTION,
    SECRETS_TEMPLATE,
    STRIMZI,
    STRIMZI_USERS,
    TLS_USER_SECRET_KEYS,
    build,
    read_documents,
)

# --- deploy/k8s, rendered ------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(BUNDLES))
def bundle(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The rendered base, and the rendered production overlay: both must be right."""
    return build(BUNDLES[request.param])


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return build(BASE)


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return build(PRODUCTION)


@pytest.fixture(scope="module")
def topics() -> dict[str, dict[str, Any]]:
    """Topic name -> its KafkaTopic resource."""
    resources = build(STRIMZI)
    assert {resource["kind"] for resource in resources} == {"KafkaTopic"}
    return {r["spec"].get("topicName", r["metadata"]["name"]): r for r in resources}


@pytest.fixture(scope="module")
def kafka_users() -> dict[str, dict[str, Any]]:
    """User name -> its KafkaUser resource (deploy/k8s/strimzi/users)."""
    resources = build(STRIMZI_USERS)
    assert {resource["kind"] for resource in resources} == {"KafkaUser"}
    return {resource["metadata"]["name"]: resource for resource in resources}


@pytest.fixture(scope="module")
def secret_keys(kafka_users: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Secret name -> its keys, as the template documents them, and as Strimzi's User Operator
    writes them for each KafkaUser of type `tls` (a Secret named after the user)."""
    keys = {name: set(TLS_USER_SECRET_KEYS) for name in kafka_users}
    for secret in read_documents(SECRETS_TEMPLATE):
        assert secret["kind"] == "Secret"
        keys[secret["metadata"]["name"]] = set(secret.get("stringData", {})) | set(
            secret.get("data", {})
        )
    return keys


# --- docker-compose.yml --------------------------------------------------------------------------


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
