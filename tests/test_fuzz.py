"""Schemathesis on every service's OpenAPI document, with the real database and broker
behind it: no input gets a server error, and every answer is one the document describes
(problem+json 4xx, `Allow` on 405), statefully where the document links operations.
The budget and the checks: testkit/integration/fuzzing.py, schemathesis.toml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.e2e.analytics import Workers
from testkit.integration.apps import appeals_client, notifications_client, projects_client
from testkit.integration.fuzzing import fuzz, fuzz_client


@pytest.mark.integration
@pytest.mark.parametrize(
    "service_client",
    [appeals_client, projects_client, notifications_client],
    ids=["appeals", "projects", "notifications"],
)
async def test_any_input_is_answered_as_the_openapi_document_says(
    kafka: KafkaBroker, postgres: PostgresServer, service_client: Callable[..., Any]
) -> None:
    async with service_client(postgres.url, kafka.access()) as client:
        run = await fuzz_client(client)
    assert run.code == 0, run.output


@pytest.mark.e2e
async def test_an_analytics_worker_answers_as_its_document_says(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    worker = await Workers(private_kafka.access(), tmp_path).start()
    try:
        run = await fuzz(worker.url)
    finally:
        await worker.stop()
    assert run.code == 0, run.output
