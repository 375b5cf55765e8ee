"""The routing domain: the office directory and the routing rules (standard library only)."""
