"""Prometheus metrics common to every service, exposed at `/metrics`."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "mla_http_request_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# How much a group commit gathers (shared/group_commit.py): mostly ones when the service is
# idle, larger batches as calls come faster than one batch is written.
CALLS_PER_BATCH = Histogram(
    "mla_group_commit_calls_per_batch",
    "Calls written together in one batch, by the work batched (intake: submissions).",
    ["work"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
# Requests an instance refused at once because it had its limit in hand (shared/load_shedding.py).
REQUESTS_SHED = Counter(
    "mla_http_requests_shed_total",
    "Requests answered 503 at once because the instance had its limit of requests in hand.",
)
OUTBOX_PUBLISHED = Counter("mla_outbox_published_total", "Events published from the outbox.")
# Where an event's time goes on its way between services: how long a committed event waited
# in its outbox until the broker acknowledged it, and how long after it happened a consumer
# committed what it did with it. A request's way from received to routed in tracking is
# routing's age of `received` (intake's publish delay in it) and tracking's age of `routed`
# (routing's in it); `make bench` prints the four (bench/hops.py).
_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 300
)  # fmt: skip
OUTBOX_PUBLISH_DELAY = Histogram(
    "mla_outbox_publish_delay_seconds",
    "From the start of the transaction that stored an event to its publication (acknowledged "
    "by the broker, taken out of the outbox).",
    buckets=_LATENCY_BUCKETS,
)
EVENT_AGE = Histogram(
    "mla_event_age_seconds",
    "From an event's time to the commit of what the consumer did with it, by type (events "
    "the service handled; those it passes over are not counted).",
    ["type"],
    buckets=_LATENCY_BUCKETS,
)
EVENTS_CONSUMED = Counter(
    "mla_events_consumed_total",
    "Events taken from the topic, by type and outcome (handled, duplicate, ignored: none of "
    "the service's concern, dead_lettered).",
    ["type", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "mla_consumer_retries_total", "Handling attempts retried after an error, by reason.", ["reason"]
)
# shared/consumer_gaps.py: how often a broker handed a consumer messages past some it skipped.
CONSUMER_REREADS = Counter(
    "mla_consumer_rereads_total",
    "Partitions read again from an offset the broker skipped (it handed over a message past it).",
)
CONSUMER_OFFSETS_SKIPPED = Counter(
    "mla_consumer_offsets_skipped_total",
    "Offsets read past because the broker did not hand them over within a second of the "
    "messages after them: events the service may never have seen.",
)
# What an operator is alerted by when events stop flowing (deploy/k8s/monitoring): events
# committed to a service's outbox and not yet acknowledged by the broker, the age of the
# oldest of them (shared/outbox_watch.py), and what a consumer has still to handle.
OUTBOX_PENDING = Gauge(
    "mla_outbox_pending", "Events in the service's outbox, not yet acknowledged by the broker."
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "mla_outbox_oldest_seconds", "Age of the oldest event waiting in the outbox (0: none)."
)
# When the client certificate the service presents to the broker expires (shared/broker_tls.py):
# renewed files are taken without a restart, so a date that comes near means the renewal
# itself stopped.
KAFKA_CERTIFICATE_EXPIRY = Gauge(
    "mla_kafka_certificate_expiry_timestamp_seconds",
    "When the client certificate the service presents to the broker expires (Unix time); "
    "absent without one.",
)
CONSUMER_LAG = Gauge(
    "mla_consumer_lag_messages",
    "Messages of a partition the consumer holds that it has not handled yet (the partition's "
    "end as last fetched, less the consumer's position).",
    ["partition"],
)
