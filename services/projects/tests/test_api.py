"""Claim, read, list and the ledger through the real app, database and broker."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import httpx
import pytest

from minsheng.clock import CITY_TZ
from minsheng.events import CATALOGUE, ProjectClaimed
from minsheng.topics import PROJECTS
from testkit.integration.apps import app_pool as pool
from testkit.integration.apps import grant
from testkit.integration.helpers import eventually, read_topic
from testkit.unit.clock import FakeClock
from testkit.unit.projects import CLAIM, OTHER_UNIT, UNIT

pytestmark = pytest.mark.integration


async def claim(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **changes: Any
) -> dict[str, Any]:
    body = {**copy.deepcopy(CLAIM), **changes}
    response = await client.post("/v1/projects", json=body, headers=headers)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_claim_is_stored_with_its_event_through_the_outbox(
    client: httpx.AsyncClient,
) -> None:
    project = await claim(client)
    assert project["id"] == "XM-2019-000001"
    assert (project["status"], project["sequence"], project["progress"]) == ("claimed", 1, 0)
    assert project["allowed_actions"] == ["milestone", "progress", "flag"]
    assert [m["milestone_id"] for m in project["milestones"]] == ["m1", "m2", "m3"]
    assert [h["type"] for h in project["history"]] == ["minsheng.ProjectClaimed.v1"]
    fetched = (await client.get(f"/v1/projects/{project['id']}")).json()
    assert fetched["history"] == project["history"]

    rows = await pool(client).fetch("SELECT * FROM outbox")
    assert [(r["aggregate_id"], r["sequence"]) for r in rows] == [(project["id"], 1)]
    event = CATALOGUE.parse(rows[0]["payload"].encode())
    assert isinstance(event.data, ProjectClaimed)
    assert (event.data.secretary_name, event.data.level, event.data.unit) == (
        "王书记",
        "street",
        UNIT,
    )
    assert event.envelope.source == "minsheng/projects"

    mine = str(rows[0]["event_id"])
    records = await read_topic(
        client.app.state.runtime.settings.kafka,  # type: ignore[attr-defined]
        PROJECTS,
        until=lambda rs: any(mine.encode() in r.value for r in rs),
    )
    assert any(r.key == project["id"].encode() and mine.encode() in r.value for r in records)


async def test_milestone_ids_default_to_their_order(client: httpx.AsyncClient) -> None:
    milestones = [{k: v for k, v in m.items() if k != "milestone_id"} for m in CLAIM["milestones"]]
    project = await claim(client, milestones=milestones)
    assert [m["milestone_id"] for m in project["milestones"]] == ["m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("changes", "title", "valid"),
    [
        ({"category": "roads"}, "Unknown category", ["party_building", "city_management"]),
        ({"unit": "火星局"}, "Unknown unit", [UNIT, OTHER_UNIT]),
        ({"district": "朝阳区", "street": None, "community": None}, "Unknown place", ["洮北区"]),
        ({"community": "百福社区"}, "Unknown place", ["洮南市"]),  # in another street
    ],
)
async def test_unknown_reference_values_are_422_with_the_valid_ones(
    client: httpx.AsyncClient, changes: dict[str, Any], title: str, valid: list[str]
) -> None:
    response = await client.post("/v1/projects", json={**CLAIM, **changes})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == title
    assert set(valid) <= set(problem["valid"])
    assert await pool(client).fetchval("SELECT count(*) FROM projects") == 0


async def test_an_unknown_level_is_422_with_the_five(client: httpx.AsyncClient) -> None:
    body = {**CLAIM, "secretary": {**CLAIM["secretary"], "level": "province"}}
    problem = (await client.post("/v1/projects", json=body)).json()
    assert problem["valid"] == ["city", "county", "street", "community", "department"]


async def test_an_inconsistent_plan_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/projects", json={**CLAIM, "planned_end": "2019-02-01"})
    assert response.status_code == 422
    assert "before planned_start" in response.json()["detail"]


async def test_categories_are_listed(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/categories")).json()
    assert [c["name"] for c in body["categories"]] == [
        "基层党建",
        "城市管理",
        "社区治理",
        "公共服务",
        "基础保障",
    ]


async def test_keys_and_roles(client: httpx.AsyncClient) -> None:
    assert (
        await client.get("/v1/projects", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    viewer = await grant(client, "viewer")
    assert (await client.post("/v1/projects", json=CLAIM, headers=viewer)).status_code == 403
    other = await grant(client, "unit", OTHER_UNIT)
    refused = await client.post("/v1/projects", json=CLAIM, headers=other)
    assert refused.status_code == 403
    own = await grant(client, "unit", UNIT)
    await claim(client, headers=own)
    assert (await client.get("/v1/projects/XM-2019-999999", headers=viewer)).status_code == 404


async def test_lists_filter_and_page_without_repeats(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ids = [(await claim(client, year=2019))["id"] for _ in range(5)]
    bureau = (await claim(client, unit=OTHER_UNIT, category="city_management"))["id"]
    await claim(
        client, year=2020, planned_start="2020-03-01", planned_end="2020-09-30", milestones=[]
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {
            "year": 2019,
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await client.get("/v1/projects", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [bureau, *reversed(ids)]

    async def listed(**params: Any) -> list[str]:
        response = await client.get("/v1/projects", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed(unit=OTHER_UNIT) == [bureau]
    assert await listed(category="city_management") == [bureau]
    assert len(await listed(year=2020)) == 1
    assert len(await listed(status="claimed")) == 7
    assert await listed(status="completed") == []
    assert await listed(flagged=True) == []
    assert await listed(overdue=True) == []
    clock.now = datetime(2019, 12, 1, 9, 0, tzinfo=CITY_TZ)
    assert len(await listed(overdue=True)) == 6  # the 2019 ones, past 2019-09-30
    assert len(await listed(overdue=False)) == 1
    assert await listed(district="洮南市") == []
    own = await grant(client, "unit", OTHER_UNIT)
    page = (await client.get("/v1/projects", headers=own)).json()
    assert [item["id"] for item in page["items"]] == [bureau]
    bad = await client.get("/v1/projects", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422


async def test_the_ledger_counts_and_closes(client: httpx.AsyncClient) -> None:
    first = (await claim(client))["id"]
    await claim(
        client,
        district="洮南市",
        street="光明街道",
        community="光华社区",
        secretary={**CLAIM["secretary"], "level": "community"},
    )
    response = await client.post(f"/v1/projects/{first}/progress", json={"progress": 20})
    assert response.status_code == 200, response.text

    ledger = (await client.get("/v1/ledger", params={"year": 2019})).json()
    assert ledger["status"] == "open"
    assert ledger["total"] == {
        "claimed": 2,
        "in_progress": 1,
        "completed": 0,
        "completed_on_time": 0,
        "verified": 0,
        "flagged": 0,
        "completion_rate": 0.0,
    }
    by_district = {line["district"]: line["claimed"] for line in ledger["by_district"]}
    assert (by_district["洮北区"], by_district["洮南市"], by_district["镇赉县"]) == (1, 1, 0)
    by_level = {line["level"]: line["claimed"] for line in ledger["by_level"]}
    assert (by_level["street"], by_level["community"], by_level["city"]) == (1, 1, 0)

    sheet = await client.get("/v1/ledger", params={"year": 2019, "format": "csv"})
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "ledger-2019.csv" in sheet.headers["content-disposition"]
    assert sheet.text.splitlines()[1] == "total,2019,2,1,0,0,0,0,0.0"

    supervisor = await grant(client, "supervisor", name="督查室 李四")
    assert (await client.post("/v1/ledger/2019/close")).status_code == 403
    closed = (await client.post("/v1/ledger/2019/close", headers=supervisor)).json()
    assert (closed["status"], closed["closed_by"]) == ("closed", "督查室 李四")
    assert (await client.get("/v1/ledger", params={"year": 2019})).json()["status"] == "closed"

    refused = await client.post(f"/v1/projects/{first}/progress", json={"progress": 30})
    assert refused.status_code == 403
    assert "closed" in refused.json()["detail"]
    assert (await client.post("/v1/projects", json=CLAIM)).status_code == 403
    by_supervisor = await client.post(
        f"/v1/projects/{first}/progress", json={"progress": 30}, headers=supervisor
    )
    assert by_supervisor.status_code == 200
    reopened = (await client.post("/v1/ledger/2019/reopen", headers=supervisor)).json()
    assert reopened["status"] == "open"
    assert (
        await client.post(f"/v1/projects/{first}/progress", json={"progress": 40})
    ).status_code == 200


async def test_events_reach_kafka_in_sequence(client: httpx.AsyncClient) -> None:
    project = (await claim(client))["id"]
    for progress in (10, 20, 30):
        response = await client.post(
            f"/v1/projects/{project}/progress", json={"progress": progress}
        )
        assert response.status_code == 200

    async def published() -> int:
        return int(
            await pool(client).fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
            )
        )

    await eventually(published, lambda n: n == 4, what="outbox published")
