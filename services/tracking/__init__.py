"""tracking: projects every event into read models and keeps the record."""
