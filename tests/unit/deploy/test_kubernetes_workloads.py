"""deploy/k8s: the schemas, and how each service's Deployment runs, is reached and scales.

Every manifest (base and production overlay, rendered by tests/unit/deploy/manifests.py) is
validated against the Kubernetes JSON schemas that the pinned `kubernetes-validate` package
ships, for the oldest and the newest Kubernetes we support; every resource lands in the
restricted namespace. Then each Deployment: the project image and its own module, probes on
the port it listens on, requests and limits, unprivileged pods on a read-only root, time to
drain on SIGTERM; and around it the Services, disruption budgets and autoscalers, and what the
production overlay changes.
"""

from __future__ import annotations

import re

import kubernetes_validate
import pytest

from tests.unit.deploy.manifests import (
    BASE,
    CLUSTER_SCOPED,
    DOCKERFILE,
    SECRETS_TEMPLATE,
    container_of,
    containers,
    deployment,
    env_of,
    find,
    literal,
    named_port,
    of_kind,
    pod_specs,
    read_documents,
)
from tests.unit.deploy.project_settings import SERVICES, default, env_names, lifecycle_topic

# --- what the workloads are checked against ------------------------------------------------------


# The oldest Kubernetes the manifests are meant for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.28.0", kubernetes_validate.latest_version())
NAMESPACE = "mla"
PROJECT_IMAGE = "mla-tracker"
# On SIGTERM uvicorn lets in-flight requests finish (20 s) and the runtime then stops the
# consumer and flushes the outbox (15 s): shared/runtime.py.
DRAIN_SECONDS = 20 + 15


def quantity(value: str | int) -> float:
    """A Kubernetes quantity (250m, 1, 150Mi, 1Gi) as a number."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|)", str(value))
    assert match, f"unexpected quantity {value!r}"
    return float(match[1]) * units[match[2]]


def dockerfile_uid() -> int:
    match = re.search(r"useradd\b.*?--uid\s+(\d+)", DOCKERFILE.read_text(), re.DOTALL)
    assert match, "the Dockerfile creates its user with a fixed --uid"
    return int(match[1])


# --- the schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(bundle, version):
    secrets = read_documents(SECRETS_TEMPLATE)
    errors = []
    for resource in [*bundle, *secrets]:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(map(str, error.absolute_path))
            errors.append(f"{resource['kind']}/{resource['metadata']['name']} {where}: {error}")
    assert not errors, "\n".join(errors)


def test_every_manifest_file_is_rendered_and_no_secret_is(base):
    (kustomization,) = read_documents(BASE / "kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {SECRETS_TEMPLATE.name}, "a manifest file is not rendered"
    # Placeholders applied with the rest would overwrite the real Secrets on every rollout.
    assert not of_kind(base, "Secret")


def test_every_resource_lands_in_the_namespace_which_enforces_the_restricted_policy(bundle):
    for resource in bundle:
        if resource["kind"] not in CLUSTER_SCOPED:
            assert resource["metadata"]["namespace"] == NAMESPACE, resource["metadata"]["name"]
    namespace = find(bundle, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- each service's Deployment -------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_its_own_module_from_the_one_project_image(bundle, service):
    container = container_of(bundle, service)
    assert container["command"] == ["python", "-m", f"services.{service}"]
    images = {c["image"] for c in containers(bundle)}
    assert len(images) == 1, f"one image for every service and the Job: {images}"
    assert container["image"].rsplit("/", 1)[-1].split(":")[0].split("@")[0] == PROJECT_IMAGE


@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_the_service_on_the_port_it_listens_on(bundle, service):
    container = container_of(bundle, service)
    port = int(literal(env_of(container)[env_names(service)["port"]]))
    (http,) = container["ports"]
    assert (http["name"], http["containerPort"]) == ("http", port)
    probes = {
        "readinessProbe": "/health/ready",  # the database and the broker answer
        "livenessProbe": "/health/live",  # the process serves; never restart for an outage
        "startupProbe": "/health/live",
    }
    for probe, path in probes.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert named_port(container, get["port"]) == port, probe


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_requests_and_limits_within_bounds(bundle, service):
    resources = container_of(bundle, service)["resources"]
    for name in ("cpu", "memory"):
        request = quantity(resources["requests"][name])
        limit = quantity(resources["limits"][name])
        assert 0 < request <= limit, f"{service} {name}: request {request} > limit {limit}"
    # Room for Python, uvicorn, SQLAlchemy and aiokafka (about 120 MiB resident), not more.
    assert quantity(resources["requests"]["memory"]) >= 150 * 2**20
    assert 256 * 2**20 <= quantity(resources["limits"]["memory"]) <= 1 * 2**30


def test_the_base_sizes_every_service_as_agreed(base):
    for service in SERVICES:
        resources = container_of(base, service)["resources"]
        assert resources["requests"]["memory"] == "150Mi", service
        assert resources["limits"]["memory"] == "256Mi", service


def test_every_pod_runs_unprivileged_as_the_image_user_on_a_read_only_root(bundle):
    uid = dockerfile_uid()
    for spec in pod_specs(bundle):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == uid
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False, "no API token in the pods"
        # Service links would inject INTAKE_PORT=tcp://... : the names the settings read.
        assert spec["enableServiceLinks"] is False
        scratch = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            assert not security.get("capabilities", {}).get("add")
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert [m["name"] for m in tmp] and tmp[0]["name"] in scratch, "/tmp is writable"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_time_to_drain_on_sigterm(bundle, service):
    spec = deployment(bundle, service)["spec"]["template"]["spec"]
    pause = 0
    pre_stop = container_of(bundle, service).get("lifecycle", {}).get("preStop")
    if pre_stop:
        assert pre_stop["exec"]["command"][0] == "sleep"
        pause = int(pre_stop["exec"]["command"][1])
    assert spec["terminationGracePeriodSeconds"] >= max(30, pause + DRAIN_SECONDS)


@pytest.mark.parametrize("service", SERVICES)
def test_the_autoscaler_alone_owns_the_replica_count(bundle, service):
    # A `replicas` in the Deployment would reset the autoscaler's count on every apply.
    assert "replicas" not in deployment(bundle, service)["spec"]
    rolling = deployment(bundle, service)["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0, "a rollout never drops below the current count"


# --- Services, disruption budgets, autoscalers ---------------------------------------------------


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_reachable_on_its_port_through_a_service(bundle, service):
    workload = deployment(bundle, service)
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]
    assert selects(workload["spec"]["selector"]["matchLabels"], pod_labels)
    port = default(service, "port")
    (exposed,) = [
        s for s in of_kind(bundle, "Service") if selects(s["spec"]["selector"], pod_labels)
    ]
    (service_port,) = exposed["spec"]["ports"]
    assert service_port["port"] == port
    assert named_port(container_of(bundle, service), service_port["targetPort"]) == port


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_disruption_budget_that_lets_nodes_drain(bundle, service):
    pod_labels = deployment(bundle, service)["spec"]["template"]["metadata"]["labels"]
    budgets = [
        b
        for b in of_kind(bundle, "PodDisruptionBudget")
        if selects(b["spec"]["selector"]["matchLabels"], pod_labels)
    ]
    assert len(budgets) == 1, f"{service}: {len(budgets)} budgets"
    # One pod at a time may go. A minAvailable as high as the replica count would block every
    # node drain; maxUnavailable cannot.
    assert budgets[0]["spec"].get("maxUnavailable") == 1
    assert "minAvailable" not in budgets[0]["spec"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_scales_within_the_partitions_of_the_topic(bundle, service, topics):
    autoscalers = [
        h
        for h in of_kind(bundle, "HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == service
    ]
    assert len(autoscalers) == 1, f"{service}: {len(autoscalers)} autoscalers"
    (autoscaler,) = autoscalers
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    deployment(bundle, target["name"])  # exists
    partitions = topics[lifecycle_topic()]["spec"]["partitions"]
    minimum, maximum = autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"]
    # Two at least, so that one pod lost is not an outage; no more consumers than partitions.
    assert 2 <= minimum <= maximum <= partitions, f"{service}: {minimum}..{maximum}"
    metrics = {m["resource"]["name"] for m in autoscaler["spec"]["metrics"]}
    assert metrics, "scales on a measured resource"


def test_the_production_overlay_changes_the_image_replicas_and_resources(base, production):
    (image,) = {c["image"] for c in containers(production)}
    registry, _, tag = image.rpartition(":")
    assert "/" in registry and tag and tag != "latest", f"a released, tagged image: {image}"
    for service in SERVICES:
        base_hpa = find(base, "HorizontalPodAutoscaler", service)["spec"]
        production_hpa = find(production, "HorizontalPodAutoscaler", service)["spec"]
        assert production_hpa["minReplicas"] >= 3, "one replica per zone at least"
        assert production_hpa["minReplicas"] >= base_hpa["minReplicas"]
        base_memory = container_of(base, service)["resources"]["limits"]["memory"]
        production_memory = container_of(production, service)["resources"]["limits"]["memory"]
        assert quantity(production_memory) > quantity(base_memory), service
