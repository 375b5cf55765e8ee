"""The whole system as the benchmark runs it: the embedded broker, a database per service and
the key vault on the benchmark's PostgreSQL, and the four services as processes, with their
production settings except for what a load test must change (named in `env_for`).

`MLA_BENCH_KAFKA_BOOTSTRAP_SERVERS` names a Kafka to run on instead of the embedded broker
(reached in the clear; a cluster set aside for the benchmark, never one in service). Kafka
keeps what it was sent, so each run there has a topic and consumer groups of its own
(`mla.request-lifecycle.bench-<run>`, `mla-bench-<run>-<service>`): nothing of an earlier
run is read again, and nothing is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import psutil

from bench.server import empty_database
from devstack.broker import EmbeddedBroker, free_port
from devstack.provision import create_topics, migrate
from devstack.services import ROOT, ServiceSpec
from shared.auth.cli import principal_of
from shared.auth.keys import create_shared_key, read_shared_key
from shared.auth.tokens import issue_token
from shared.database_url import asyncpg_dsn
from shared.personal_data.master_key import ensure_master_key
from shared.personal_data.postgres_vault import MIGRATIONS as VAULT_MIGRATIONS
from shared.settings import LIFECYCLE_TOPIC

SERVICES = ("intake", "routing", "tracking", "notify")
KAFKA_VARIABLE = "MLA_BENCH_KAFKA_BOOTSTRAP_SERVERS"
KAFKA_FETCH_MAX_WAIT_MS = "500"  # as deploy/ sets it for Kafka (deploy/README.md)
SEALING = ("intake", "tracking")  # the services that hold the vault and the master key
HOST = "127.0.0.1"
# Far above anything the generator sends: the limiter still runs on every call (its cost is
# part of the figures), it just never refuses the generator's single principal.
UNLIMITED = "1000000"


@dataclass
class Stack:
    workdir: Path
    server_url: str
    partitions: int = 12
    # Settings of a service beyond the benchmark's own (name -> value, without the prefix).
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    broker: EmbeddedBroker | None = None
    # A Kafka's bootstrap servers to run on instead of the embedded broker (see above).
    kafka: str | None = field(default_factory=lambda: os.environ.get(KAFKA_VARIABLE) or None)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    database_urls: dict[str, str] = field(default_factory=dict)
    postgres_pid: int | None = None

    @property
    def key_file(self) -> Path:
        return self.workdir / "auth-shared.key"

    @property
    def bootstrap_servers(self) -> str:
        if self.kafka:
            return self.kafka
        assert self.broker is not None, "the embedded broker is started by start()"
        return self.broker.bootstrap_servers

    @property
    def topic(self) -> str:
        """The embedded broker starts empty; on a Kafka, a topic of this run's own."""
        return f"{LIFECYCLE_TOPIC}.bench-{self.run}" if self.kafka else LIFECYCLE_TOPIC

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.kafka:
            self.broker = EmbeddedBroker(free_port(), log_file=self.workdir / "broker.log")
            self.broker.start()
        for name in (*SERVICES, "vault"):
            self.database_urls[name] = empty_database(self.server_url, f"mla_bench_{name}")
            folder = VAULT_MIGRATIONS if name == "vault" else ServiceSpec(name).migrations
            migrate(self.database_urls[name], folder)
        create_topics(self.bootstrap_servers, self.partitions, self.topic)
        create_shared_key(self.key_file)
        ensure_master_key(self.workdir / "personal-data.key")
        self.postgres_pid = asyncio.run(_postmaster_pid(self.server_url))
        for name in SERVICES:
            self.ports[name] = free_port()
        for name in SERVICES:
            self._start(name)
        self._wait_ready()

    def env_for(self, name: str) -> dict[str, str]:
        settings = {
            "DATABASE_URL": self.database_urls[name],
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "TOPIC": self.topic,
            "TOPIC_PARTITIONS": str(self.partitions),
            "PORT": str(self.ports[name]),
            "AUTH_SHARED_KEY_FILE": str(self.key_file),
            # A log line per request would measure the terminal, not the service.
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_SECOND": UNLIMITED,
            "RATE_LIMIT_BURST": UNLIMITED,
            "RATE_LIMIT_PER_ADDRESS_PER_SECOND": UNLIMITED,
            "RATE_LIMIT_PER_ADDRESS_BURST": UNLIMITED,
        }
        if self.kafka:
            # And deploy/'s fetch wait: Kafka answers a fetch as soon as a message arrives.
            settings["CONSUMER_GROUP"] = f"mla-bench-{self.run}-{name}"
            settings["CONSUMER_FETCH_MAX_WAIT_MS"] = KAFKA_FETCH_MAX_WAIT_MS
        if name in SEALING:
            settings |= {
                "VAULT_DATABASE_URL": self.database_urls["vault"],
                "PERSONAL_DATA_KEY_FILE": str(self.workdir / "personal-data.key"),
            }
        if name == "tracking":
            settings |= {
                "SIGNING_KEY_PATH": str(self.workdir / "tracking-ed25519.pem"),
                "STREAM_MAX_SECONDS": "7200",
            }
        settings |= self.overrides.get(name, {})
        prefix = f"{name.upper()}_"
        return {f"{prefix}{key}": value for key, value in settings.items()}

    def _start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env={**os.environ, **self.env_for(name)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the benchmark, which stops them in order
        )

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for name in SERVICES:
            url = f"http://{HOST}:{self.ports[name]}/health/ready"
            while True:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited: see {self.workdir / (name + '.log')}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} was not ready within {timeout:.0f} s")
                time.sleep(0.2)

    def token(self, subject: str, **claims: object) -> str:
        """A token the services accept: `roles=[...]`, `authority=...` or `office_id=...`."""
        return issue_token(
            read_shared_key(self.key_file),
            principal_of(subject, **claims),  # type: ignore[arg-type]
            issuer="mla-tracker",
            audience="mla-tracker",
            lifetime=timedelta(hours=6),
        )

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def others(self) -> dict[str, int]:
        found = {}
        if self.postgres_pid is not None:
            found["postgresql"] = self.postgres_pid
        if self.broker is not None and self.broker._process is not None:
            found["broker"] = self.broker._process.pid
        return found

    @contextlib.contextmanager
    def paused(self, names: Iterable[str]) -> Iterator[None]:
        """The named services stopped where they stand (SIGSTOP: no CPU, their connections
        and consumer-group memberships kept) for the block, then let go on (SIGCONT)."""
        held = [self.processes[name] for name in names]
        for process in held:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in held:
                process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.broker is not None:
            self.broker.stop()


async def _postmaster_pid(server_url: str) -> int | None:
    """The server's main process: the parent of a backend (for its CPU, children included);
    None when the server is not on this machine."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        backend = await connection.fetchval("SELECT pg_backend_pid()")
        # Asked while the backend lives: once it exits, its number means nothing.
        return psutil.Process(backend).ppid()
    except psutil.NoSuchProcess:
        return None
    finally:
        await connection.close()
