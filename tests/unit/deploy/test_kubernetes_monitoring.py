"""deploy/k8s/monitoring: what the Prometheus Operator scrapes and alerts on.

The operator's resources (monitoring.coreos.com/v1) are absent from the Kubernetes schemas:
they are checked against the fields their CRDs define, the ServiceMonitor against the
Services it must find, and every alert against the metrics the services really export (a rule
on a metric nobody exports never fires, and nobody would notice).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.unit.deploy.manifests import K8S, build, find

MONITORING = K8S / "monitoring"
SEVERITIES = {"warning", "critical"}
SERVICES = {"intake", "routing", "tracking", "notify"}
# A duration as Prometheus writes it (5m, 1h30m, 15s).
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
METRIC = re.compile(r"\b(mla_[a-z0-9_]+)")


@pytest.fixture(scope="module")
def monitoring() -> list[dict[str, Any]]:
    return build(MONITORING)


@pytest.fixture(scope="module")
def rules(monitoring: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rule = find(monitoring, "PrometheusRule", "mla-tracker")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def exported_metrics() -> set[str]:
    """Every series name the services' processes register (each sample's name: a counter's
    `_total`, a histogram's `_bucket`, `_count`, `_sum`)."""
    import services.notify.entrypoints.worker  # noqa: F401  notify's delivery counter
    import shared.metrics  # noqa: F401

    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        for suffix in ("_total", "_bucket", "_count", "_sum", "_created"):
            names.add(family.name + suffix)
    return {name for name in names if name.startswith("mla_")}


def test_the_monitoring_resources_have_only_the_fields_of_their_crds(monitoring):
    assert {r["kind"] for r in monitoring} == {"ServiceMonitor", "PrometheusRule", "ConfigMap"}
    for resource in (r for r in monitoring if r["kind"] != "ConfigMap"):
        assert resource["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(resource) <= {"apiVersion", "kind", "metadata", "spec"}
        assert resource["metadata"]["namespace"] == "mla", "beside the services"
    monitor = find(monitoring, "ServiceMonitor", "mla-tracker")["spec"]
    assert set(monitor) <= {"selector", "jobLabel", "endpoints", "namespaceSelector"}
    for endpoint in monitor["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scheme", "authorization"}
        assert DURATION.match(endpoint["interval"])


def test_the_service_monitor_finds_every_service_and_scrapes_it_with_a_token(monitoring, base):
    monitor = find(monitoring, "ServiceMonitor", "mla-tracker")["spec"]
    wanted = monitor["selector"]["matchLabels"]
    services = [r for r in base if r["kind"] == "Service"]
    selected = {
        s["metadata"]["name"]
        for s in services
        if wanted.items() <= s["metadata"].get("labels", {}).items()
    }
    assert selected == SERVICES
    (endpoint,) = monitor["endpoints"]
    for service in services:
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    # /metrics needs the `metrics` scope: without a token every scrape is a 401.
    assert endpoint["authorization"]["type"] == "Bearer"
    assert endpoint["authorization"]["credentials"] == {"name": "mla-metrics-token", "key": "token"}
    # Series are labelled with the service's name, which the alerts group by.
    assert monitor["jobLabel"] == "app.kubernetes.io/name"
    for service in services:
        assert service["metadata"]["labels"][monitor["jobLabel"]] == service["metadata"]["name"]


def test_every_alert_is_complete_and_says_what_to_do(rules):
    assert len(rules) >= 6
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        if "for" in rule:
            assert DURATION.match(rule["for"]), rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


def test_every_alert_watches_a_metric_the_services_export(rules):
    exported = exported_metrics()
    watched = set()
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used <= exported, f"{rule['alert']}: {sorted(used - exported)} not exported"
        watched |= used
    # What an outage shows as first: events waiting in an outbox, consumers behind.
    assert {"mla_outbox_oldest_seconds", "mla_consumer_lag_messages"} <= watched


def test_the_alerts_are_explained_where_operators_read(rules):
    readme = (K8S.parent / "README.md").read_text(encoding="utf-8")
    for rule in rules:
        assert f"`{rule['alert']}`" in readme, f"{rule['alert']} is not in deploy/README.md"


# --- the dashboard -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(monitoring: list[dict[str, Any]]) -> dict[str, Any]:
    config_map = find(monitoring, "ConfigMap", "mla-tracker-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1", "what the sidecar loads"
    (document,) = config_map["data"].values()
    loaded: dict[str, Any] = json.loads(document)
    return loaded


def test_every_panel_of_the_dashboard_queries_metrics_the_services_export(dashboard):
    exported = exported_metrics()
    assert dashboard["uid"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(METRIC.findall(target["expr"]))
            assert used and used <= exported, f"{panel['title']}: {sorted(used - exported)}"
            assert target["expr"].count("(") == target["expr"].count(")"), panel["title"]


def test_the_dashboard_shows_what_every_alert_watches(dashboard, rules):
    shown = {
        m for p in dashboard["panels"] for t in p["targets"] for m in METRIC.findall(t["expr"])
    }
    for rule in rules:
        assert set(METRIC.findall(rule["expr"])) <= shown, rule["alert"]


def test_the_dashboard_panels_do_not_overlap_and_its_service_choice_is_the_four(dashboard):
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]
        mine = {
            (place["x"] + dx, place["y"] + dy)
            for dx in range(place["w"])
            for dy in range(place["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
    (choice,) = [v for v in dashboard["templating"]["list"] if v["name"] == "service"]
    assert set(choice["query"].split(",")) == SERVICES
    assert set(choice["allValue"].split("|")) == SERVICES
