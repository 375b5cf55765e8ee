"""The event contract: the CloudEvents envelope and the catalogue of lifecycle events."""
