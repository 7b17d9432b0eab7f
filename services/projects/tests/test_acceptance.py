"""Acceptance: the 2019 shape loaded through the API gives the ledger the articles report
(474 claimed, 386 completed by 2019-10-10, 81.4%), with the service's clock on that day."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime

import pytest

from minsheng.clock import CITY_TZ
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from projects import load_2019
from testkit.integration.apps import projects_client
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)


def test_the_plan_has_the_articles_shape() -> None:
    plan = load_2019.plan()
    assert len(plan) == 474
    done = [p.completed_on for p in plan if p.completed_on is not None]
    assert len(done) == 386
    assert sum(day.month <= 8 for day in done) == 280
    assert max(done) <= load_2019.AS_OF
    assert {p.claim["district"] for p in plan} == set(load_2019.DISTRICTS)
    assert {p.claim["secretary"]["level"] for p in plan} == set(load_2019.LEVELS)
    assert {p.claim["category"] for p in plan} == set(load_2019.CATEGORIES)


async def test_loading_2019_through_the_api_gives_the_published_ledger(
    kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    clock = FakeClock(datetime(2019, 10, 10, 18, 0, tzinfo=CITY_TZ))
    async with projects_client(postgres.url, kafka.access(), clock=clock) as client:
        loaded = await load_2019.load(client)
        log.warning("2019 load: %d requests in %.1fs", loaded.requests, loaded.seconds)
        assert (loaded.claimed, loaded.completed) == (474, 386)

        ledger = (await client.get("/v1/ledger", params={"year": 2019})).json()
        total = ledger["total"]
        assert (total["claimed"], total["completed"], total["completion_rate"]) == (474, 386, 81.4)
        assert total["in_progress"] == 474 - 386 - sum(not p.started for p in load_2019.plan())
        assert sum(line["claimed"] for line in ledger["by_level"]) == 474
        assert all(line["claimed"] > 0 for line in ledger["by_level"])
        assert sum(line["claimed"] for line in ledger["by_district"]) == 474
        assert [line["district"] for line in ledger["by_district"] if line["claimed"]] == list(
            load_2019.DISTRICTS
        )
        assert sum(line["completed"] for line in ledger["by_district"]) == 386

        sheet = await client.get("/v1/ledger", params={"year": 2019, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(sheet.text.lstrip("\ufeff"))))
        assert rows[0] == {**rows[0], "scope": "total", "claimed": "474", "completed": "386"}
        assert rows[0]["completion_rate"] == "81.4"
