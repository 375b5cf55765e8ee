"""The four services as real processes over HTTP, on a real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.broker import free_port
from shared.personal_data.master_key import ensure_master_key
from shared.personal_data.postgres_vault import MIGRATIONS as VAULT_MIGRATIONS
from tests.support.auth import write_test_key
from tests.support.infra import fresh_database, fresh_topic, kafka_bootstrap

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "tracking", "notify")
# How long a service may take to answer after it was started: only a hang reaches it (one
# that exits is seen at once). Starting three at once while the parallel suite and a load
# run, a slow machine took more than 30 s (19 s for the first four, started together).
STARTUP_SECONDS = 120.0
# The services that seal or show personal data: they share the key vault and master key.
SEALING_SERVICES = ("intake", "tracking")


def instance_name(service: str, instance: int = 1) -> str:
    """The name of one instance's URL, process and log file: `routing` for the first, as
    before there were more, then `routing-2`, ..."""
    return service if instance == 1 else f"{service}-{instance}"


@dataclass
class RunningStack:
    """The services' processes. A service may run several instances: each has its own port
    and log file, and shares the service's database, topic and consumer group."""

    urls: dict[str, str]  # by instance name
    topic: str
    bootstrap: str
    database_urls: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Settings of one service that differ from the tests' usual ones (name -> value).
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where each running instance's lines begin in its log file (kept across restarts).
    _log_starts: dict[str, int] = field(default_factory=dict)

    def url(self, service: str, instance: int = 1) -> str:
        return self.urls[instance_name(service, instance)]

    def log_file(self, service: str, instance: int = 1) -> Path:
        return self.log_dir / f"{instance_name(service, instance)}.log"

    def log_lines(self, service: str, instance: int = 1) -> list[str]:
        """What the instance has logged since its last start."""
        with self.log_file(service, instance).open("rb") as log:
            log.seek(self._log_starts[instance_name(service, instance)])
            return log.read().decode(errors="replace").splitlines()

    def running(self, service: str, instance: int = 1) -> bool:
        process = self.processes.get(instance_name(service, instance))
        return process is not None and process.poll() is None

    @property
    def personal_data_key(self) -> Path:
        return self.log_dir / "personal-data.key"

    def env_for(self, service: str, instance: int = 1) -> dict[str, str]:
        prefix = f"{service.upper()}_"
        extra = (
            {
                "TRACKING_SIGNING_KEY_PATH": str(self.log_dir / "tracking-ed25519.pem"),
                "TRACKING_CHECKPOINT_INTERVAL_SECONDS": "2",
                "TRACKING_DEADLINE_SCAN_SECONDS": "1",
            }
            if service == "tracking"
            else {}
        )
        if service == "intake":
            # A limit against a hang, not a measure of speed: the tests close a request as
            # soon as tracking shows its last report, and under the parallel suite on a slow
            # machine intake's consumer may take in the report later than the 2 s default.
            extra["INTAKE_CLOSURE_CATCH_UP_SECONDS"] = "10"
        if service in SEALING_SERVICES:
            extra |= {
                f"{prefix}VAULT_DATABASE_URL": self.database_urls["vault"],
                f"{prefix}PERSONAL_DATA_KEY_FILE": str(self.personal_data_key),
            }
        return extra | self._usual(service, instance) | self.overrides.get(service, {})

    def _usual(self, service: str, instance: int) -> dict[str, str]:
        prefix = f"{service.upper()}_"
        port = self.url(service, instance).rsplit(":", 1)[1]
        return {
            # Every service verifies the tokens of tests/support/auth.py.
            f"{prefix}AUTH_SHARED_KEY_FILE": str(write_test_key(self.log_dir / "auth-shared.key")),
            f"{prefix}DATABASE_URL": self.database_urls[service],
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}TOPIC": self.topic,
            f"{prefix}PORT": port,
            f"{prefix}CONSUMER_GROUP": f"{self.topic}-{service}",
            f"{prefix}TOPIC_PARTITIONS": "3",
            f"{prefix}RETRY_MAX_SECONDS": "1",
            f"{prefix}OUTBOX_POLL_SECONDS": "0.2",
            f"{prefix}PUBLISH_TIMEOUT_SECONDS": "4",
            f"{prefix}CONSUMER_SESSION_TIMEOUT_MS": "2000",
            f"{prefix}CONSUMER_REBALANCE_TIMEOUT_MS": "300",
            f"{prefix}CONSUMER_HEARTBEAT_MS": "300",
        }

    async def start(self, service: str, instance: int = 1) -> None:
        """Start the instance; one started again keeps its address, unless another process
        took its port while it was down (another test worker's stack may): then a new one."""
        name = instance_name(service, instance)
        for _ in range(3):
            url = self.urls.get(name)
            if url is None or not _port_free(int(url.rsplit(":", 1)[1])):
                self.urls[name] = f"http://127.0.0.1:{free_port()}"
            env = {**os.environ, **self.env_for(service, instance)}
            # The child writes to its own copy of the file descriptor.
            with open(self.log_file(service, instance), "ab") as log:
                self._log_starts[name] = log.tell()
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", f"services.{service}"],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                await self.wait_live(service, instance=instance)
                return
            except RuntimeError:
                # Taken between the look and the bind: once more, on another port.
                if "address already in use" not in "\n".join(self.log_lines(service, instance)):
                    raise
                self.processes.pop(name).wait()
                del self.urls[name]
        raise RuntimeError(f"{name} found no free port three times")

    async def wait_live(
        self, service: str, timeout: float = STARTUP_SECONDS, instance: int = 1
    ) -> None:
        name = instance_name(service, instance)
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}: see {self.log_dir}/{name}.log"
                    )
                try:
                    if (await client.get(f"{self.urls[name]}/health/live")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{name} did not come up within {timeout}s")

    def stop(self, service: str, sig: int = signal.SIGTERM, instance: int = 1) -> int:
        return self._stop(instance_name(service, instance), sig)

    def _stop(self, name: str, sig: int = signal.SIGTERM) -> int:
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def stop_all(self) -> None:
        """SIGTERM to every instance of every service at once, then wait for each to finish."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self._stop(name)


async def start_stack(
    log_dir: Path,
    *,
    bootstrap: str | None = None,
    server_url: str | None = None,
    overrides: dict[str, dict[str, str]] | None = None,
) -> RunningStack:
    """Fresh databases (on the test PostgreSQL, or `server_url`) and topic, and the four
    services started on free ports (with `overrides` of their settings)."""
    bootstrap = bootstrap or kafka_bootstrap()
    made = await asyncio.gather(*(fresh_database(s, server_url) for s in SERVICES))
    databases = dict(zip(SERVICES, made, strict=True))
    databases["vault"] = await fresh_database("vault", server_url, migrations=VAULT_MIGRATIONS)
    stack = RunningStack(
        urls={s: f"http://127.0.0.1:{free_port()}" for s in SERVICES},
        topic=await fresh_topic(bootstrap),
        bootstrap=bootstrap,
        database_urls=databases,
        log_dir=log_dir,
        overrides=overrides or {},
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    ensure_master_key(stack.personal_data_key)
    try:
        await asyncio.gather(*(stack.start(s) for s in SERVICES))
    except BaseException:
        stack.stop_all()
        raise
    return stack


def _port_free(port: int) -> bool:
    """Nothing listens on the port (a connection's TIME_WAIT aside, as a server's bind has)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
