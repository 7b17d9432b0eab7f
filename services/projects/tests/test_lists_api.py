"""The four lists and community work days over HTTP, against the real database and
broker: post, match, complete, rate, the public listing with no key; visits recorded on
a pairing, and a month without one reported once by the durable timer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from minsheng.clock import CITY_TZ
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.reference import pairings
from projects import jobs
from testkit.integration.apps import app_pool, command, grant, projects_client
from testkit.integration.helpers import eventually
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2019, 3, 10, 9, 0, tzinfo=CITY_TZ)
PLACE = {"year": 2019, "district": "洮南市", "street": "光明街道", "community": "光华社区"}


def item(kind: str, title: str, **extra: Any) -> dict[str, Any]:
    return {**PLACE, "kind": kind, "source": "visit", "title": title, **extra}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post("/v1/lists/items", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_item_is_posted_matched_completed_rated_and_listed_publicly(
    client: httpx.AsyncClient,
) -> None:
    need = await post(client, item("need", "缺少健身器材"))
    resource = await post(client, item("resource", "体育局可捐赠器材"))
    project = await post(client, item("project", "广场改造"))
    # a need goes with a resource, not with a project: 422 naming the rule
    wrong = await command(
        client,
        f"/v1/lists/items/{need}/match",
        {"with_item": project, "claimed_by": "市住建局", "due": "2019-06-30"},
        expect=422,
    )
    assert "resource" in wrong["detail"]
    # completing before a match is a 409 with the allowed actions
    early = await command(client, f"/v1/lists/items/{need}/complete", {}, expect=409)
    assert early["allowed_actions"] == ["match", "withdraw"]
    matched = await command(
        client,
        f"/v1/lists/items/{need}/match",
        {"with_item": resource, "claimed_by": "市体育局", "due": "2019-06-30"},
    )
    assert (matched["status"], matched["matched_item_id"]) == ("matched", resource)
    other = (await client.get(f"/v1/lists/items/{resource}")).json()
    assert (other["status"], other["matched_item_id"], other["claimed_by"]) == (
        "matched",
        need,
        "市体育局",
    )
    done = await command(client, f"/v1/lists/items/{need}/complete", {"completed_on": "2019-03-01"})
    assert (done["status"], done["on_time"]) == ("completed", True)
    rated = await command(client, f"/v1/lists/items/{need}/evaluations", {"rating": "satisfied"})
    satisfaction = rated["history"][-1]
    assert satisfaction["type"] == "minsheng.SatisfactionRecorded.v1"
    assert satisfaction["data"]["subject_type"] == "list_item"
    await command(client, f"/v1/lists/items/{project}/withdraw", {"reason": "已并入其他项目"})

    public = await client.get(
        "/v1/lists",
        params={"community": "光华社区", "year": 2019},
        headers={"Authorization": ""},
    )
    assert public.status_code == 200, public.text
    listing = public.json()
    assert listing["total"] == 3
    assert listing["by_status"] == {"posted": 0, "matched": 1, "completed": 1, "withdrawn": 1}
    assert [i["id"] for i in listing["lists"]["need"]] == [need]
    assert listing["lists"]["need"][0]["ratings"] == ["satisfied"]
    assert listing["lists"]["responsibility"] == []


async def test_an_item_on_an_unknown_community_is_422_listing_the_valid_ones(
    client: httpx.AsyncClient,
) -> None:
    body = {**item("need", "x"), "community": "没有的社区"}
    response = await client.post("/v1/lists/items", json=body)
    assert response.status_code == 422
    assert "光华社区" in response.json()["valid"]


async def test_a_month_without_a_visit_is_reported_once_and_a_visited_one_never(
    kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    clock = FakeClock(T0)  # pairings first known in March: watched from April 2019
    async with projects_client(postgres.url, kafka.access(), clock=clock) as client:
        first, second = list(pairings())[:2]
        pool = app_pool(client)
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM pairings"),
            lambda n: n == len(pairings()),
            timeout=30,
            what="the reference pairings known",
        )
        visit = {
            "visited_on": "2019-04-12",
            "cadres": 12,
            "services": {"party_lesson": 1, "help_pairing": 3},
            "appeals_solved": 2,
            "appeal_ids": ["BC20190412000001"],
            "goods_value_yuan": 2400,
        }
        clock.now = datetime(2019, 4, 12, 10, 0, tzinfo=CITY_TZ)
        visited = await command(client, f"/v1/workdays/pairings/{first}/visits", visit, expect=201)
        assert visited["months_visited"] == ["2019-04"]
        too_few = {**visit, "appeals_solved": 0}
        await command(client, f"/v1/workdays/pairings/{first}/visits", too_few, expect=422)
        # April not yet over: nothing is due
        assert await jobs.workday_tick(pool, datetime(2019, 4, 30, 23, 59, tzinfo=CITY_TZ)) == 0
        may = datetime(2019, 5, 1, 0, 0, tzinfo=CITY_TZ)
        assert await jobs.workday_tick(pool, may) == len(pairings()) - 1
        assert await jobs.workday_tick(pool, may) == 0  # once
        missed = (await client.get(f"/v1/workdays/pairings/{second}")).json()
        assert missed["months_missed"] == ["2019-04"]
        assert missed["history"][0]["type"] == "minsheng.WorkDayVisitMissed.v1"
        kept = (await client.get(f"/v1/workdays/pairings/{first}")).json()
        assert kept["months_missed"] == []
        clock.now = may
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            lambda n: n == 0,
            timeout=30,
            what="the events published",
        )


async def test_a_unit_records_only_its_own_visits_and_an_unknown_pairing_is_404(
    client: httpx.AsyncClient,
) -> None:
    first, second = list(pairings().values())[:2]
    key = await grant(client, "unit", unit=first.unit, name="走访登记")
    visit = {"visited_on": "2019-03-01", "cadres": 3}
    mine = await command(client, f"/v1/workdays/pairings/{first.id}/visits", visit, key, 201)
    assert mine["visits"] == 1
    refused = await command(client, f"/v1/workdays/pairings/{second.id}/visits", visit, key, 403)
    assert second.unit in refused["detail"]
    await command(client, "/v1/workdays/pairings/GZR-9999/visits", visit, expect=404)
    public = await client.post(
        "/v1/lists/items", json=item("need", "x"), headers={"Authorization": ""}
    )
    assert public.status_code == 401  # only reading the lists is open to all
