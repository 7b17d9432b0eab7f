"""The appeals app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appeals.clock import Clock, system_clock
from appeals.main import AppealsSettings, create_app
from minsheng import auth
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer

DEV_KEY = "test-operator-key"


@asynccontextmanager
async def appeals_client(
    server_url: str,
    bootstrap: str,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the real app (migrations, relay) with the lifespan, and an HTTP client to it.

    Each use gets a database of its own, so tests never see each other's appeals, unless
    it names a `database_suffix` (several instances of the service on one database).
    A `clock` given here is the app's from the start, before its jobs first run.
    """
    config = AppealsSettings(
        database_url=server_url,
        database_suffix=database_suffix or f"_{uuid.uuid4().hex[:10]}",
        kafka_bootstrap=bootstrap,
        dev_api_key=DEV_KEY,
        outbox_poll_interval=0.2,
        **settings,
    )
    app: FastAPI = create_app(config, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://appeals",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client(kafka: KafkaBroker, postgres: PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    async with appeals_client(postgres.url, kafka.bootstrap) as c:
        yield c


@dataclass
class FakeClock:
    """A clock a test moves by hand; installed as the app's clock."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def grant(
    client: httpx.AsyncClient, role: auth.Role, unit: str | None = None, name: str = ""
) -> dict[str, str]:
    """Registers a fresh key in the app's database; returns its Authorization header."""
    key = auth.new_key()
    pool = client.app.state.runtime.db()  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        await auth.register_key(
            conn, key, name=name or f"{role} {unit or ''}", role=role, unit=unit
        )
    return {"Authorization": f"Bearer {key}"}
