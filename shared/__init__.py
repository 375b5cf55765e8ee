"""Common mechanics of the four services: the event contract, outbox, consumer loop,
settings, logging, problem responses and the HTTP scaffolding. Written once, used by all."""
