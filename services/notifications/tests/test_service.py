"""The service starts, migrates its database and answers the platform routes."""

from __future__ import annotations

import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from notifications.tests.conftest import notifications_client

pytestmark = pytest.mark.integration


async def test_starts_and_answers_health(kafka: KafkaBroker, postgres: PostgresServer) -> None:
    async with notifications_client(postgres.url, kafka.bootstrap) as client:
        assert (await client.get("/healthz")).json() == {
            "status": "ok",
            "service": "notifications",
        }
        assert (await client.get("/readyz")).status_code == 200
