"""A running service: its engine, its outbox relay and its consumer, started and stopped
together by the app's lifespan, and served by uvicorn until SIGTERM.

On SIGTERM uvicorn stops taking connections and lets in-flight requests finish; the
lifespan then stops the consumer (the message in hand is finished and its offset committed)
and the relay (what is committed is flushed to the broker), and closes the engine.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
import sqlalchemy as sa
import structlog
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.broker_tls import certificate_watch
from shared.consumer import EventConsumer
from shared.db import UnitOfWork, autocommit_driver, create_engine, session_factory
from shared.event_handlers import BatchHandler, Interest, everything
from shared.kafka import make_producer
from shared.logging import configure_logging
from shared.outbox import OutboxRelay
from shared.outbox_watch import outbox_watch
from shared.rate_allowance import SharedRateLimiter
from shared.rate_limit import PRINCIPAL_LIMITER_STATE
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.runtime")


class Worker(Protocol):
    """A long-running part of a service: runs until asked to stop."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Runtime:
    """The resources of one service process."""

    service: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay | None = None
    consumer: EventConsumer | None = None
    # Other workers of the service (a deadline monitor, a delivery worker, ...).
    workers: dict[str, Worker] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def unit_of_work(self) -> UnitOfWork:
        """A transaction whose commit wakes the relay."""
        return UnitOfWork(self.sessions, on_commit=self.relay.wake if self.relay else None)

    @asynccontextmanager
    async def single_statements(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection whose statements are each a transaction of its own
        (`shared.db.autocommit_driver`); the relay is woken when the block ends without an
        error (what it put on the outbox is committed)."""
        async with autocommit_driver(self.engine) as connection:
            yield connection
        if self.relay is not None:
            self.relay.wake()

    def _all_workers(self) -> dict[str, Worker]:
        named: dict[str, Worker] = {}
        if self.relay is not None:
            named["outbox-relay"] = self.relay
        if self.consumer is not None:
            named["consumer"] = self.consumer
        return named | self.workers

    def start(self) -> None:
        for name, worker in self._all_workers().items():
            self._tasks.append(asyncio.create_task(worker.run(), name=name))
        log.info("service.started", host=self.settings.host, port=self.settings.port)

    async def stop(self) -> None:
        # Everything that may still put events on the outbox first (the consumer finishing
        # the message in hand, a periodic job mid-run), the relay last: it then flushes what
        # they committed, and nothing is left behind for the next start.
        workers = self._all_workers()
        tasks = {task.get_name(): task for task in self._tasks}
        writers = [name for name in workers if name != "outbox-relay"]
        for names in (writers, ["outbox-relay"]):
            for name in names:
                if name in workers:
                    workers[name].stop()
            await self._wait_for([tasks[name] for name in names if name in tasks])
        await self.engine.dispose()
        log.info("service.stopped")

    async def _wait_for(self, tasks: list[asyncio.Task[None]]) -> None:
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, timeout=15)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("service.task_failed", task=task.get_name(), error=repr(task.exception()))


def build_runtime(
    *,
    service: str,
    settings: ServiceSettings,
    outbox: sa.Table | None,
    processed: sa.Table | None,
    handler: BatchHandler | None,
    history: Callable[[AsyncSession], Awaitable[int]] | None = None,
    interest: Interest = everything,
) -> Runtime:
    """Wire engine, relay (when the service publishes) and consumer (when it consumes)."""
    # The broker's TLS files are read here, once: one that cannot be read stops the service
    # at start, saying which, rather than failing every retry of its relay and consumer.
    tls = settings.broker.tls
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        application_name=settings.database_application_name,
    )
    sessions = session_factory(engine)
    runtime = Runtime(service=service, settings=settings, engine=engine, sessions=sessions)
    if outbox is not None:
        runtime.relay = OutboxRelay(
            sessions=sessions,
            outbox=outbox,
            settings=settings,
            producer_factory=lambda: make_producer(settings.broker, service),
            service=service,
            history=history,
        )
        runtime.workers["outbox-watch"] = outbox_watch(sessions, outbox)
    if tls is not None:
        runtime.workers["broker-certificate"] = certificate_watch(tls)
    if processed is not None and handler is not None:
        runtime.consumer = EventConsumer(
            sessions=sessions,
            processed=processed,
            handler=handler,
            interest=interest,
            settings=settings,
            group_id=settings.consumer_group_of(service),
            on_commit=runtime.relay.wake if runtime.relay else None,
        )
    return runtime


def lifespan_of(
    make_runtime: Callable[[], Runtime],
    on_start: Callable[[Runtime], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> Callable[[FastAPI], Any]:
    """A lifespan that builds the runtime at start-up (never at import) and stops it;
    `on_stop` closes what `on_start` opened, once the workers that used it have stopped."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = make_runtime()
        app.state.runtime = runtime
        limiter: SharedRateLimiter | None = getattr(app.state, PRINCIPAL_LIMITER_STATE, None)
        if limiter is not None:
            limiter.share(runtime.engine)
        if on_start is not None:
            await on_start(runtime)
        runtime.start()
        if getattr(app.state, "set_start_up_aside", False):
            _set_start_up_aside()
        try:
            yield
        finally:
            await runtime.stop()
            if on_stop is not None:
                await on_stop()

    return lifespan


def _set_start_up_aside() -> None:
    """Put what start-up built out of the garbage collector's sight. A full collection walks
    every object that survived two younger ones, and a service starts with a great many that
    live as long as it does (its modules, the app, its schemas and statements): walking
    them under load stopped a service for 60 to 130 ms at a time, one service or another
    every five seconds or so at 100 requests/s, and every request in its hands then waited
    as long (docs/benchmarks/system.md, change 34). Frozen, they are never walked again;
    collections walk what came after, as before. Only in a service's own process (`serve`):
    a process that starts many apps, as the tests do, would keep each one's garbage."""
    gc.collect()
    gc.freeze()


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    """Run the app under uvicorn until SIGTERM / Ctrl-C."""
    configure_logging(service, settings.log_level)
    app.state.set_start_up_aside = True
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        # uvloop and httptools (dependencies) when importable, else asyncio's loop and h11.
        loop="auto",
        http="auto",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
