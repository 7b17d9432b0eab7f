"""The projects app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from minsheng import auth
from minsheng.clock import Clock, system_clock
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.testing.helpers import FakeClock, grant_key
from projects.main import ProjectsSettings, create_app
from projects.tests.samples import T0

DEV_KEY = "test-operator-key"


@asynccontextmanager
async def projects_client(
    server_url: str,
    bootstrap: str,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the real app (migrations, relay, jobs) with its lifespan, and a client to it.

    Each use gets a database of its own unless it names a `database_suffix` (several
    instances of the service on one database). `clock` is the app's from the start.
    """
    config = ProjectsSettings(
        database_url=server_url,
        database_suffix=database_suffix or f"_{uuid.uuid4().hex[:10]}",
        kafka_bootstrap=bootstrap,
        dev_api_key=DEV_KEY,
        outbox_poll_interval=0.2,
        **settings,
    )
    app: FastAPI = create_app(config, clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://projects",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
        ) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock: 2019-03-01 09:00 in the city, the start of the sample's plan."""
    return FakeClock(T0)


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with projects_client(postgres.url, kafka.bootstrap, clock=clock) as c:
        yield c


def pool(client: httpx.AsyncClient) -> asyncpg.Pool:
    return client.app.state.runtime.db()  # type: ignore[attr-defined, no-any-return]


async def grant(
    client: httpx.AsyncClient, role: auth.Role, unit: str | None = None, name: str = ""
) -> dict[str, str]:
    """A fresh key of `role` in this app's database, as an Authorization header."""
    return await grant_key(pool(client), role, unit, name)
