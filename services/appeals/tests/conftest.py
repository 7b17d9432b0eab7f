"""The appeals app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from appeals.main import AppealsSettings, create_app
from minsheng.clock import Clock, system_clock
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.testing.apps import service_client


def appeals_client(
    server_url: str,
    bootstrap: str,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The real app (migrations, relay, jobs) and a client to it; see `service_client`."""
    return service_client(
        "appeals",
        AppealsSettings,
        create_app,
        server_url,
        bootstrap,
        database_suffix=database_suffix,
        clock=clock,
        **settings,
    )


@pytest.fixture
async def client(kafka: KafkaBroker, postgres: PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    async with appeals_client(postgres.url, kafka.bootstrap) as c:
        yield c
