"""The projects app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.apps import projects_client
from testkit.unit.clock import FakeClock
from testkit.unit.projects import T0


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock: 2019-03-01 09:00 in the city, the start of the sample's plan."""
    return FakeClock(T0)


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with projects_client(postgres.url, kafka.access(), clock=clock) as c:
        yield c
