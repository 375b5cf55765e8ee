"""deploy/k8s runs the four services on a cluster, fully configured, and safely.

No cluster and no kubectl here: the kustomizations are rendered by a small loader below (it
follows `resources:`, applies the overlay's strategic-merge patches and `images:`, and refuses
any kustomize feature it does not implement, so that nothing is silently skipped), and every
manifest is validated against the Kubernetes JSON schemas that the pinned
`kubernetes-validate` package ships, for the oldest and the newest Kubernetes we support. The
Strimzi KafkaTopic (a custom resource, absent from those schemas) is checked against the
fields its CRD defines. Then the manifests are checked against the code: every setting a
service needs is given under the name its settings class reads, and none it does not read.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.unit.deploy.project_settings import (
    PREFIXES,
    REPO_ROOT,
    REQUIRED_FOR_DEPLOYMENT,
    SERVICES,
    VAULT_MIGRATED_AT,
    default,
    env_names,
    import_project,
    lifecycle_topic,
    personal_data_services,
    vault_database,
)

K8S = REPO_ROOT / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
STRIMZI = K8S / "strimzi"
SECRETS_TEMPLATE = BASE / "secrets.example.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"

# The oldest Kubernetes the manifests are meant for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.28.0", kubernetes_validate.latest_version())
NAMESPACE = "mla"
PROJECT_IMAGE = "mla-tracker"
# Every setting a Deployment gives explicitly (the brief of deploy/k8s): where to listen, the
# database, the broker and topic, the consumer group, the log level.
DEPLOYMENT_SETTINGS = (
    *REQUIRED_FOR_DEPLOYMENT,
    "topic",
    "topic_partitions",
    "consumer_group",
    "log_level",
)
# On SIGTERM uvicorn lets in-flight requests finish (20 s) and the runtime then stops the
# consumer and flushes the outbox (15 s): shared/runtime.py.
DRAIN_SECONDS = 20 + 15
TOPIC_REPLICAS = 3
MIN_INSYNC_REPLICAS = 2
# The fields of spec in the KafkaTopic CRD (kafka.strimzi.io/v1beta2).
KAFKA_TOPIC_SPEC = {"partitions": int, "replicas": int, "config": dict, "topicName": str}
PERSONAL_DATA_SERVICES = personal_data_services()
MASTER_KEY_SECRET = "mla-personal-data-key"
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CLUSTER_SCOPED = {"Namespace"}


# --- a kustomize build, small enough to read ---------------------------------------------------

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


# --- reading the manifests ---------------------------------------------------------------------


BUNDLES = {"base": BASE, "production": PRODUCTION}


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
def secret_keys() -> dict[str, set[str]]:
    """Secret name -> its keys, as the template documents them."""
    keys = {}
    for secret in read_documents(SECRETS_TEMPLATE):
        assert secret["kind"] == "Secret"
        keys[secret["metadata"]["name"]] = set(secret.get("stringData", {})) | set(
            secret.get("data", {})
        )
    return keys


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


def test_every_kafka_topic_has_only_the_fields_of_the_strimzi_crd(topics):
    for name, topic in topics.items():
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2", name
        assert set(topic) <= {"apiVersion", "kind", "metadata", "spec"}, name
        assert DNS_SUBDOMAIN.match(topic["metadata"]["name"]), "a valid resource name"
        for field, expected in KAFKA_TOPIC_SPEC.items():
            if field in topic["spec"]:
                assert isinstance(topic["spec"][field], expected), f"{name}: spec.{field}"
        assert set(topic["spec"]) <= set(KAFKA_TOPIC_SPEC), f"{name}: unknown spec fields"
        assert topic["spec"]["partitions"] >= 1
        assert 1 <= topic["spec"]["replicas"] <= 32767


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


def test_the_shared_configuration_names_the_lifecycle_topic_and_its_partitions(bundle, topics):
    data = find(bundle, "ConfigMap", "mla-config")["data"]
    assert data["topic"] == lifecycle_topic()
    assert int(data["topic-partitions"]) == topics[lifecycle_topic()]["spec"]["partitions"]


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


# --- access: every service verifies tokens against the one identity provider --------------------


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


# --- the topics ----------------------------------------------------------------------------------


def test_the_topics_are_the_lifecycle_topic_and_its_dead_letter_topic(topics):
    settings = import_project("shared.settings").ServiceSettings()
    assert set(topics) == {settings.topic, settings.dlq_topic}
    clusters = {topic["metadata"]["labels"]["strimzi.io/cluster"] for topic in topics.values()}
    assert len(clusters) == 1, "both topics on the same Kafka cluster"


def test_every_topic_keeps_three_replicas_and_takes_writes_with_one_broker_down(topics):
    for name, topic in topics.items():
        spec = topic["spec"]
        assert spec["replicas"] == TOPIC_REPLICAS, name
        assert int(spec["config"]["min.insync.replicas"]) == MIN_INSYNC_REPLICAS, name
        assert spec["replicas"] > MIN_INSYNC_REPLICAS, name
        assert spec["config"].get("unclean.leader.election.enable") is False, name
        assert int(spec["config"]["retention.ms"]) > 0, f"{name}: retention is bounded"
