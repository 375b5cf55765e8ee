"""Prometheus metrics common to every service, exposed at `/metrics`."""

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Histogram(
    "mla_http_request_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("mla_outbox_published_total", "Events published from the outbox.")
EVENTS_CONSUMED = Counter(
    "mla_events_consumed_total",
    "Events taken from the topic, by type and outcome (handled, duplicate, ignored: none of "
    "the service's concern, dead_lettered).",
    ["type", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "mla_consumer_retries_total", "Handling attempts retried after an error, by reason.", ["reason"]
)
