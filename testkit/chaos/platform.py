"""The platform the fault suite breaks: its own PostgreSQL server and Kafka broker (or
cluster), the dev sinks, and appeals, projects, notifications and analytics as real processes, each
kept running by `make up`'s supervisor (`minsheng.platform.supervise`), so a service
killed with -9 comes back by itself, as it does for a developer."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from minsheng.clock import DEMO_CLOCK_NAME
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import ServiceProcess
from minsheng.platform.supervise import Backoff, keep_running
from testkit.e2e.notifying import NotifyingStack
from testkit.integration.helpers import free_port

FAST_NOTIFICATIONS = {  # retries in seconds, not minutes: a fault's backlog clears in the run
    "MINSHENG_NOTIFICATIONS_RETRY_BASE": "0.5",
    "MINSHENG_NOTIFICATIONS_RETRY_MAX": "2",
    "MINSHENG_NOTIFICATIONS_MAX_ATTEMPTS": "1000",
    "MINSHENG_NOTIFICATIONS_WORKER_INTERVAL": "0.2",
}
SOURCES = ("appeals", "projects", "notifications")  # the services with an outbox
RESTARTS = Backoff(first=0.5, cap=5.0, healthy_after=20.0)


class Platform:
    def __init__(self, folder: Path, brokers: int = 1) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.postgres = PostgresServer(
            folder / "postgres", port=free_port(), fsync=False, log_file=folder / "pg.log"
        )
        self.clock_file = folder / "data" / DEMO_CLOCK_NAME
        self.stack = NotifyingStack(
            folder,
            self.postgres.url,
            analytics=True,
            notifications=FAST_NOTIFICATIONS,
            outbox_poll_interval=0.2,
            env={"MINSHENG_DEMO_CLOCK_FILE": str(self.clock_file)},
            also=("projects",),
            brokers=brokers,
        )
        self._supervisors: list[asyncio.Task[None]] = []

    @property
    def services(self) -> dict[str, ServiceProcess]:
        return {s.name: s for s in self.stack.services}

    async def start(self) -> None:
        await self.postgres.start()
        try:
            await self.stack.start()
            await self.stack.wait_ready(timeout=120)
        except BaseException:
            await self.stop()
            raise
        self._supervisors = [
            asyncio.create_task(keep_running(s, RESTARTS), name=f"keep-{s.name}")
            for s in self.stack.services
        ]

    async def stop(self) -> None:
        for task in self._supervisors:
            task.cancel()
        await asyncio.gather(*self._supervisors, return_exceptions=True)
        await self.stack.stop()
        await self.postgres.stop()

    async def ready(self) -> bool:
        """Every service answers /readyz with 200 now."""
        async with httpx.AsyncClient(timeout=3) as client:
            for service in self.stack.services:
                try:
                    if (await client.get(f"{service.url}/readyz")).status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
        return True

    def database(self, service: str) -> str:
        return self.stack.database(service)

    async def fetch(self, service: str, query: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database(service), timeout=5)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def backlog(self, written_before: datetime | None = None) -> int:
        """Outbox rows not yet published in every service's database (those written
        before `written_before` only); raises while PostgreSQL does not answer."""
        query = "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
        args: tuple[object, ...] = ()
        if written_before is not None:
            query, args = query + " AND created_at <= $1", (written_before,)
        counts = await asyncio.gather(*(self.fetch(s, query, *args) for s in SOURCES))
        return sum(int(rows[0]["n"]) for rows in counts)

    async def recovered(self, written_before: datetime) -> bool:
        """Every service ready, and everything written before the fault ended published."""
        with contextlib.suppress(Exception):
            return await self.ready() and await self.backlog(written_before) == 0
        return False

    async def postgres_restart(self, down: float) -> None:
        """A fast shutdown (clients rolled back), `down` seconds, and the same data again."""
        await self.postgres.stop()
        await asyncio.sleep(down)  # the outage's length, not a wait for some state
        await self.postgres.start()

    async def broker_outage(self, down: float) -> None:
        await self.stack.kafka.stop()
        await asyncio.sleep(down)  # the outage's length, not a wait for some state
        await self.stack.kafka.start()
