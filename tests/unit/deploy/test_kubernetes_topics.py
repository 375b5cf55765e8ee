"""deploy/k8s/strimzi: the Kafka topics the services use, and the configuration naming them.

The Strimzi KafkaTopic (a custom resource, absent from the Kubernetes schemas) is checked
against the fields its CRD defines; the topics are the lifecycle topic and its dead-letter
topic, replicated to take writes with one broker down; and the shared configuration names the
lifecycle topic and its partitions as the KafkaTopic defines them.
"""

from __future__ import annotations

import re

from tests.unit.deploy.manifests import find
from tests.unit.deploy.project_settings import import_project, lifecycle_topic

# --- what the topics are checked against ---------------------------------------------------------


TOPIC_REPLICAS = 3
MIN_INSYNC_REPLICAS = 2
# The fields of spec in the KafkaTopic CRD (kafka.strimzi.io/v1beta2).
KAFKA_TOPIC_SPEC = {"partitions": int, "replicas": int, "config": dict, "topicName": str}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# --- the topics ----------------------------------------------------------------------------------


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


def test_the_shared_configuration_names_the_lifecycle_topic_and_its_partitions(bundle, topics):
    data = find(bundle, "ConfigMap", "mla-config")["data"]
    assert data["topic"] == lifecycle_topic()
    assert int(data["topic-partitions"]) == topics[lifecycle_topic()]["spec"]["partitions"]
