"""The appeals app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.apps import appeals_client


@pytest.fixture
async def client(kafka: KafkaBroker, postgres: PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    async with appeals_client(postgres.url, kafka.access()) as c:
        yield c
