"""The four services of the MLA tracker: intake, routing, tracking and notify."""
