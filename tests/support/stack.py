"""The four services as real processes over HTTP, on a real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import os
import signal
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
# The services that seal or show personal data: they share the key vault and master key.
SEALING_SERVICES = ("intake", "tracking")


@dataclass
class RunningStack:
    urls: dict[str, str]
    topic: str
    bootstrap: str
    database_urls: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Settings of one service that differ from the tests' usual ones (name -> value).
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls[service]

    @property
    def personal_data_key(self) -> Path:
        return self.log_dir / "personal-data.key"

    def env_for(self, service: str) -> dict[str, str]:
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
        if service in SEALING_SERVICES:
            extra |= {
                f"{prefix}VAULT_DATABASE_URL": self.database_urls["vault"],
                f"{prefix}PERSONAL_DATA_KEY_FILE": str(self.personal_data_key),
            }
        return extra | self._usual(service) | self.overrides.get(service, {})

    def _usual(self, service: str) -> dict[str, str]:
        prefix = f"{service.upper()}_"
        port = self.urls[service].rsplit(":", 1)[1]
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

    async def start(self, service: str) -> None:
        env = {**os.environ, **self.env_for(service)}
        log = open(self.log_dir / f"{service}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        await self.wait_live(service)

    async def wait_live(self, service: str, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                process = self.processes[service]
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{service} exited with {process.returncode}: "
                        f"see {self.log_dir}/{service}.log"
                    )
                try:
                    if (await client.get(f"{self.urls[service]}/health/live")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{service} did not come up within {timeout}s")

    def stop(self, service: str, sig: int = signal.SIGTERM) -> int:
        process = self.processes.pop(service)
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def stop_all(self) -> None:
        """SIGTERM to every service at once, then wait for each to finish."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for service in list(self.processes):
            self.stop(service)


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
