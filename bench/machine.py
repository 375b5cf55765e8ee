"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import asyncpg


def describe(postgres_version: str) -> dict[str, str]:
    """CPU, cores, memory, load, Python and PostgreSQL of this run."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    mhz = _first("/proc/cpuinfo", "cpu MHz")
    memory_kb = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024**2:.1f} GiB" if memory_kb else "unknown"
    return {
        "cpu": f"{cpu} @ {float(mhz):.0f} MHz" if mhz else cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "load average (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "os": platform.platform(),
    }


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        version: str = await connection.fetchval("SHOW server_version")
        settings = await connection.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])",
            ["shared_buffers", "work_mem", "effective_cache_size", "fsync", "synchronous_commit"],
        )
    finally:
        await connection.close()
    tuned = ", ".join(f"{r['name']}={r['setting']}{r['unit'] or ''}" for r in settings)
    return f"{version} ({tuned})"


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None
