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
from tests.support.infra import fresh_database, fresh_topic, kafka_bootstrap

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "tracking", "notify")


@dataclass
class RunningStack:
    urls: dict[str, str]
    topic: str
    bootstrap: str
    database_urls: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls[service]

    def env_for(self, service: str) -> dict[str, str]:
        prefix = f"{service.upper()}_"
        port = self.urls[service].rsplit(":", 1)[1]
        extra = (
            {
                "TRACKING_SIGNING_KEY_PATH": str(self.log_dir / "tracking-ed25519.pem"),
                "TRACKING_CHECKPOINT_INTERVAL_SECONDS": "2",
                "TRACKING_DEADLINE_SCAN_SECONDS": "1",
            }
            if service == "tracking"
            else {}
        )
        return extra | {
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


async def start_stack(log_dir: Path, *, bootstrap: str | None = None) -> RunningStack:
    """Fresh databases and topic, and the four services started on free ports."""
    bootstrap = bootstrap or kafka_bootstrap()
    databases = dict(
        zip(SERVICES, await asyncio.gather(*(fresh_database(s) for s in SERVICES)), strict=True)
    )
    stack = RunningStack(
        urls={s: f"http://127.0.0.1:{free_port()}" for s in SERVICES},
        topic=await fresh_topic(bootstrap),
        bootstrap=bootstrap,
        database_urls=databases,
        log_dir=log_dir,
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        await asyncio.gather(*(stack.start(s) for s in SERVICES))
    except BaseException:
        stack.stop_all()
        raise
    return stack
