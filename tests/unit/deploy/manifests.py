"""What deploy/k8s renders to, read without a cluster: a small kustomize build and its helpers.

No cluster and no kubectl here: the kustomizations are rendered by a small loader below (it
follows `resources:`, applies the overlay's strategic-merge patches and `images:`, and refuses
any kustomize feature it does not implement, so that nothing is silently skipped). The helpers
after it pick resources, containers and their environment out of the rendered manifests; the
fixtures that render them are in conftest.py.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.unit.deploy.project_settings import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
STRIMZI = K8S / "strimzi"
STRIMZI_USERS = STRIMZI / "users"
# What Strimzi's User Operator puts in the Secret of a KafkaUser of type `tls`.
TLS_USER_SECRET_KEYS = ("ca.crt", "user.crt", "user.key", "user.p12", "user.password")
SECRETS_TEMPLATE = BASE / "secrets.example.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
CLUSTER_SCOPED = {"Namespace"}

# --- a kustomize build, small enough to read -----------------------------------------------------


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}


def read_documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [document for document in yaml.safe_load_all(file) if document is not None]


def build(directory: Path) -> list[dict[str, Any]]:
    """What `kustomize build directory` outputs, for the features these kustomizations use."""
    (kustomization,) = read_documents(directory / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    assert not unknown, f"{directory}: the test's loader does not implement {sorted(unknown)}"
    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources += build(path) if path.is_dir() else read_documents(path)
    for patch in kustomization.get("patches", []):
        assert set(patch) == {"path"}, f"{directory}: only strategic-merge patch files: {patch}"
        (patch_document,) = read_documents(directory / patch["path"])
        target = find(resources, patch_document["kind"], patch_document["metadata"]["name"])
        merge(target, patch_document)
    for image in kustomization.get("images", []):
        for container in containers(resources):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                tag = f":{image['newTag']}" if "newTag" in image else ""
                digest = f"@{image['digest']}" if "digest" in image else ""
                container["image"] = f"{image.get('newName', name)}{tag}{digest}"
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """A strategic merge: maps merge key by key, lists of named items merge by name."""
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        elif isinstance(value, list) and isinstance(current, list) and named(value + current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def named(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "name" in item for item in items)


def find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} resources {kind}/{name}"
    return matches[0]


def of_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [resource for resource in resources if resource["kind"] == kind]


def pod_specs(resources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for resource in resources:
        if resource["kind"] in {"Deployment", "Job"}:
            yield resource["spec"]["template"]["spec"]


def containers(resources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for spec in pod_specs(resources):
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


# --- reading the manifests -----------------------------------------------------------------------


BUNDLES = {"base": BASE, "production": PRODUCTION}


def deployment(resources: list[dict[str, Any]], service: str) -> dict[str, Any]:
    return find(resources, "Deployment", service)


def container_of(resources: list[dict[str, Any]], service: str) -> dict[str, Any]:
    (container,) = deployment(resources, service)["spec"]["template"]["spec"]["containers"]
    assert container["name"] == service
    return container


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Variable name -> its entry (`value` or `valueFrom`); a variable given twice fails."""
    entries = container.get("env", [])
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"a variable is given twice: {names}"
    assert not container.get("envFrom"), "every variable by name, so each can be checked"
    return {entry["name"]: entry for entry in entries}


def literal(entry: dict[str, Any]) -> str:
    assert "value" in entry, f"{entry['name']} must be a literal value here"
    return str(entry["value"])


def named_port(container: dict[str, Any], port: int | str) -> int:
    """The container port a probe or Service names (by name or by number)."""
    if isinstance(port, int):
        assert port in {p["containerPort"] for p in container["ports"]}, port
        return port
    (match,) = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return int(match)
