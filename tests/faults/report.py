"""The fault suite's table: each scenario's record (artifacts/faults/*.json), printed at the
end of the run by the controlling pytest process (tests/conftest.py), whichever worker ran
the scenarios."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

RECORDS = Path(__file__).resolve().parents[2] / "artifacts" / "faults"
STARTED = time.time()  # records older than this run are not this run's


def print_table(terminalreporter: Any) -> None:
    records = sorted(
        (p for p in RECORDS.glob("*.json") if p.stat().st_mtime >= STARTED),
        key=lambda p: p.stat().st_mtime,
    )
    if not records:
        return
    write = terminalreporter.write_line
    write("")
    write("fault suite: what each scenario did, and what was checked after it")
    for path in records:
        record = json.loads(path.read_text())
        write(f"  {record['fault']}")
        for step in record["did"]:
            write(f"      did: {step}")
        for check, figure in record["found"].items():
            write(f"      {check:<22} {figure}")
