"""Everything the system needs on one machine, started by the project's own commands:
an embedded PostgreSQL, the embedded Kafka-compatible broker, databases, topic, migrations
and the four services."""
