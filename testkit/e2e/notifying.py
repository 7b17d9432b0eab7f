"""The platform with notifications, for end-to-end tests and benchmarks: `Stack`'s Kafka
and services plus the dev sinks, and notifications wired to them and to appeals exactly
as `make up` wires them (`minsheng.platform.notifying`).

    async with NotifyingStack(folder, postgres.url) as stack:
        await stack.post_all(random_appeals(1, seed=1))
        stack.sinks.received("webhooks.jsonl")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from minsheng.auth import Role
from minsheng.platform.notifying import notifications_env
from minsheng.platform.services import ServiceProcess
from minsheng.platform.sinks.process import DevSinks
from minsheng.settings import Settings
from testkit.e2e.stack import DEFAULT_KEY, Brokers, Stack
from testkit.integration.helpers import free_port, grant_key

SYSTEM_KEY = "e2e-system-key"  # MINSHENG_DEV_SYSTEM_KEY of every service


@asynccontextmanager
async def ready_stack(
    folder: Path, database_url: str, **notifications: str
) -> AsyncIterator[NotifyingStack]:
    """A started `NotifyingStack` whose services all answer /readyz; `notifications` are
    the notifications service's extra settings (environment variables)."""
    async with NotifyingStack(folder, database_url, notifications=notifications) as stack:
        await stack.wait_ready()
        yield stack


class NotifyingStack(Stack):
    """Sinks on free ports, then appeals, notifications and (if `analytics`) analytics."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        *,
        analytics: bool = False,
        notifications: dict[str, str] | None = None,
        api_key: str = DEFAULT_KEY,
        outbox_poll_interval: float = 0.5,
        env: dict[str, str] | None = None,
        also: tuple[str, ...] = (),
        brokers: int = 1,
        kafka: Brokers | None = None,
    ) -> None:
        """`env`, `also`, `brokers` and `kafka` as for `Stack`; `notifications` adds to that
        service's env."""
        self.sinks = DevSinks(
            port=free_port(),
            smtp_port=free_port(),
            data_dir=folder / "data",
            log_file=folder / "dev-sinks.log",
        )
        self.notifications_settings = notifications or {}
        self.with_analytics = analytics
        super().__init__(
            folder,
            database_url,
            api_key=api_key,
            outbox_poll_interval=outbox_poll_interval,
            env=env,
            also=also,
            brokers=brokers,
            kafka=kafka,
        )
        self.env["MINSHENG_DEV_SYSTEM_KEY"] = SYSTEM_KEY
        self.appeals = self.service("appeals")  # again, with the system key
        self.others = {name: self.service(name) for name in also}
        self.notifications = self.service("notifications")

    def service(self, name: str) -> ServiceProcess:
        if name != "notifications":
            return super().service(name)
        env = {
            **self.env_for(name),
            **notifications_env(self.sinks, self.appeals.url, SYSTEM_KEY),
            **self.notifications_settings,
        }
        return ServiceProcess(name, free_port(), env, log_file=self.folder / f"{name}.log")

    @property
    def services(self) -> list[ServiceProcess]:
        extra = [self.analytics] if self.with_analytics else []
        return [self.appeals, self.notifications, *extra, *self.others.values()]

    async def start(self) -> None:
        await self.sinks.start()
        try:
            await super().start()
        except BaseException:
            await self.sinks.stop()
            raise

    async def stop(self) -> None:
        await super().stop()
        await self.sinks.stop()

    def database(self, service: str) -> str:
        """The URL of a service's own database."""
        server = Settings(database_url=self.env["MINSHENG_DATABASE_URL"])
        return server.model_copy(
            update={"database_suffix": self.env["MINSHENG_DATABASE_SUFFIX"]}
        ).database_for(service)

    async def grant(self, service: str, role: Role, unit: str | None = None) -> dict[str, str]:
        """A fresh key of `role` in a running service's database, as a header."""
        async with asyncpg.create_pool(self.database(service), min_size=1, max_size=1) as pool:
            return await grant_key(pool, role, unit)

    def accepted(self, recipient: str) -> Counter[str]:
        """How many times the sink answered 200 to each webhook-id for `recipient`."""
        return Counter(
            str(line["webhook-id"])
            for line in self.sinks.received("webhooks.jsonl")
            if line["recipient"] == recipient and line["status"] == 200
        )

    def logs(self) -> str:
        """Everything every process of the stack logged so far."""
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("*.log"))
        )
