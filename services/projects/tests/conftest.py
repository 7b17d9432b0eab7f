"""The projects app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from minsheng.clock import Clock, system_clock
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.testing.apps import service_client
from minsheng.testing.helpers import FakeClock
from projects.main import ProjectsSettings, create_app
from projects.tests.samples import T0


def projects_client(
    server_url: str,
    bootstrap: str,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The real app (migrations, relay, jobs) and a client to it; see `service_client`."""
    return service_client(
        "projects",
        ProjectsSettings,
        create_app,
        server_url,
        bootstrap,
        database_suffix=database_suffix,
        clock=clock,
        **settings,
    )


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
