"""The life of an HTTP service: its database, its outbox relay, its background tasks.

Appeals and projects share this so that start-up, shutdown and the platform routes are
one piece of code; a service adds only its routers and background jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI, Request

from minsheng import auth
from minsheng.clock import Clock
from minsheng.db import open_database
from minsheng.edge import Cors
from minsheng.logs import logging_config
from minsheng.relay import OutboxRelay
from minsheng.settings import Settings
from minsheng.web import (
    add_direct_routes,
    install_platform_routes,
    principal_dependency,
    require_roles,
)

log = logging.getLogger(__name__)

Job = Callable[["Runtime"], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    service: str
    settings: Settings
    migrations: Path | None
    jobs: list[Job] = field(default_factory=list)
    pool: asyncpg.Pool | None = None
    relay: OutboxRelay | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return self.settings.database_for(self.service)

    def current_pool(self) -> asyncpg.Pool | None:
        return self.pool

    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, "the service is not started"
        return self.pool

    async def start(self) -> None:
        self.pool = await open_database(self.dsn, self.service, self.migrations, max_size=20)
        dev_keys: list[tuple[str | None, auth.Role]] = [
            (self.settings.dev_api_key, "operator"),
            (self.settings.dev_system_key, "system"),
        ]
        async with self.pool.acquire() as conn:
            for key, role in dev_keys:
                if key:
                    await auth.register_key(conn, key, name=f"development {role}", role=role)
        self.relay = OutboxRelay(
            self.dsn,
            service=self.service,
            kafka=self.settings.kafka,
            poll_interval=self.settings.outbox_poll_interval,
            batch_size=self.settings.outbox_batch_size,
        )
        self._spawn("outbox-relay", self.relay.run())
        for job in self.jobs:
            self._spawn(getattr(job, "__name__", "job"), job(self))
        log.info("%s started", self.service)

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        # The coroutine itself becomes the task, so a stop before its first step closes it
        # rather than leaving it never awaited.
        self._tasks.append(asyncio.create_task(coro, name=f"{self.service}-{name}"))

    async def stop(self, timeout: float = 10.0) -> None:
        """Cancels the background tasks and closes the pool, never waiting forever."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                log.warning("%s did not stop within %.0fs", task.get_name(), timeout)
        self._tasks.clear()
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout)
            except TimeoutError:
                log.warning("database connections still busy after %.0fs; terminating", timeout)
                pool.terminate()


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    clock: Clock,
    routers: Iterable[APIRouter] = (),
    jobs: Callable[[Clock], Iterable[Job]] = lambda _: (),
    version: str = "1",
) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops the runtime, with platform routes,
    the service's `routers`, and its `jobs` added to the runtime.

    `clock` becomes `app.state.clock`, which tests may swap at any time to move time on;
    so the clock `jobs` get reads `app.state.clock` afresh at every call.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_platform_routes(
        app,
        service=runtime.service,
        pool=runtime.current_pool,
        kafka=lambda: runtime.settings.kafka,
        max_body_bytes=runtime.settings.max_body_bytes,
        cors=Cors.of(runtime.settings.cors_origins),
    )
    for router in routers:
        app.include_router(router)
        add_direct_routes(app, router)

    def app_clock() -> datetime:
        current: Clock = app.state.clock
        return current()

    runtime.jobs.extend(jobs(app_clock))
    app.state.runtime = runtime
    app.state.clock = clock
    return app


@dataclass(frozen=True)
class Guards:
    """Role-checking FastAPI dependencies of one service; each is also a plain coroutine
    function of the request (`await g.operator(request)`)."""

    any_key: Callable[[Request], Awaitable[auth.Principal]]
    operator: Callable[[Request], Awaitable[auth.Principal]]
    viewer: Callable[[Request], Awaitable[auth.Principal]]
    identify: auth.Identify  # the same key check, for a route that finds the key elsewhere


def guards(runtime: Runtime) -> Guards:
    identify = auth.identifier(runtime.current_pool, runtime.settings.auth_cache_seconds)
    principal = principal_dependency(identify)
    return Guards(
        identify=identify,
        any_key=principal,
        operator=require_roles(principal, "operator", "supervisor", "system"),
        viewer=require_roles(principal, "operator", "supervisor", "system", "viewer", "unit"),
    )


def serve(service: str, factory: str, settings: Settings) -> None:
    """Serves the app `factory` ("module:function") names with `MINSHENG_HTTP_WORKERS`
    processes: an import string, so uvicorn can start several, each building its own
    app (the relay and the timers are safe to run in each)."""
    uvicorn.run(
        factory,
        factory=True,
        workers=settings.http_workers,
        host=settings.http_host,
        port=settings.http_port,
        log_config=logging_config(service, settings.log_level, settings.log_format),
        access_log=False,
    )


def service_app(
    runtime: Runtime,
    *,
    title: str,
    clock: Clock,
    routers: Callable[[Callable[[], asyncpg.Pool], Guards], Iterable[APIRouter]],
    jobs: Callable[[Clock], Iterable[Job]] = lambda _: (),
) -> FastAPI:
    """`create_service_app` for a service whose routers take the live pool and the
    service's role guards (`guards`): the wiring of every HTTP service's `main`."""
    return create_service_app(
        runtime, title=title, clock=clock, routers=routers(runtime.db, guards(runtime)), jobs=jobs
    )
