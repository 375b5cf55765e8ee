"""The assistance request as intake sees it: pure Python, no I/O."""
