"""routing: finds the competent office(s), lets operators route by hand, takes execution reports."""
