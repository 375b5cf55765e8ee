"""The benchmark's CPU of a part counts what its processes that ended had used: a part's
CPU never falls from one moment to the next (PostgreSQL's backends come and go)."""

from __future__ import annotations

import subprocess
import sys

from bench.resources import _cpu_seconds, _tree

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
# A parent that starts a child burning 0.3 s of CPU, reaps it, and waits to be told to go.
PARENT = (
    "import subprocess, sys\n"
    f"subprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
    "print('reaped', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_child_that_ended_still_counts_in_its_parts_cpu() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "reaped"
        used = _cpu_seconds(_tree(parent.pid))
        assert len(_tree(parent.pid)) == 1, "the child is gone"
        assert used >= 0.3, f"the child's 0.3 s of CPU went missing: {used:.2f} s counted"
    finally:
        parent.communicate("", timeout=10)
