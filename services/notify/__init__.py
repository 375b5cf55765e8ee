"""notify: turns lifecycle events into messages for people and systems."""
