"""GET /v1/appeals over HTTP: each filter, a unit key's view, keyset pages, bad cursors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from appeals.tests.test_commands import APPEAL, STREET_OFFICE, T0, Headers, act
from minsheng.clock import CITY_TZ
from minsheng.testing.apps import grant
from minsheng.testing.helpers import FakeClock
from minsheng.workdays import callback_cutoff

pytestmark = pytest.mark.integration

COUNTY = "镇赉县人民政府"  # the routing rules send everything in 镇赉县 there
COMPLAINT = {"title": "噪音扰民", "category": "complaint", "district": "镇赉县"}


@pytest.fixture
def clock(client: httpx.AsyncClient) -> FakeClock:
    fake = FakeClock(T0)
    client.app.state.clock = fake  # type: ignore[attr-defined]
    return fake


async def receive(client: httpx.AsyncClient, body: dict[str, Any] = APPEAL) -> str:
    response = await client.post("/v1/appeals", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def listed(
    client: httpx.AsyncClient, headers: Headers | None = None, **params: Any
) -> list[str]:
    """The ids of the first page with these filters."""
    response = await client.get("/v1/appeals", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
async def office(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "unit", STREET_OFFICE)


async def test_filters_by_status_district_category_unit_and_dates(
    client: httpx.AsyncClient, clock: FakeClock, office: Headers
) -> None:
    help_ = await receive(client)
    clock.advance(hours=2)
    complaint = await receive(client, COMPLAINT)
    await act(client, help_, "accept", headers=office)

    assert await listed(client) == [complaint, help_]  # newest first
    assert await listed(client, status="accepted") == [help_]
    assert await listed(client, status=["accepted", "dispatched"]) == [complaint, help_]
    assert await listed(client, district="镇赉县") == [complaint]
    assert await listed(client, category="help") == [help_]
    assert await listed(client, unit=COUNTY) == [complaint]
    assert await listed(client, unit="无此单位") == []
    assert await listed(client, received_from=(T0 + timedelta(hours=1)).isoformat()) == [complaint]
    assert await listed(client, received_to=(T0 + timedelta(hours=1)).isoformat()) == [help_]
    assert await listed(client, received_from=T0.isoformat(), received_to=T0.isoformat()) == []


async def test_a_unit_key_sees_only_its_units_appeals(
    client: httpx.AsyncClient, clock: FakeClock, office: Headers
) -> None:
    help_ = await receive(client)
    complaint = await receive(client, COMPLAINT)
    assisted = await receive(client, COMPLAINT)
    county = await grant(client, "unit", COUNTY)
    await act(client, assisted, "return", {"reason": "需街道协办"}, county)
    await act(client, assisted, "dispatch", {"unit": COUNTY, "assisting_units": [STREET_OFFICE]})

    assert await listed(client, office) == [assisted, help_]
    assert await listed(client, office, unit=COUNTY) == [assisted]
    assert complaint not in await listed(client, office, district="镇赉县")
    viewer = await grant(client, "viewer")
    assert len(await listed(client, viewer)) == 3


async def test_overdue_compares_the_deadline_with_the_clock(
    client: httpx.AsyncClient, clock: FakeClock, office: Headers
) -> None:
    help_ = await receive(client)  # 3 working days: due 2019-10-10
    complaint = await receive(client, COMPLAINT)  # 13 working days
    resolved = await receive(client)
    await act(client, resolved, "accept", headers=office)
    await act(client, resolved, "resolve", {"resolution": "已处理"}, office)
    assert await listed(client, overdue="true") == []

    clock.now = datetime(2019, 10, 11, 9, 0, tzinfo=CITY_TZ)
    assert await listed(client, overdue="true") == [help_]
    assert await listed(client, overdue="false") == [resolved, complaint]


async def test_the_callback_queue_waits_the_configured_working_days(
    client: httpx.AsyncClient, clock: FakeClock, office: Headers
) -> None:
    waiting, called = await receive(client), await receive(client)
    await receive(client)  # still with the unit
    for appeal in (waiting, called):
        await act(client, appeal, "accept", headers=office)
    clock.now = datetime(2019, 9, 30, 16, 0, tzinfo=CITY_TZ)  # Monday, before National Day
    for appeal in (waiting, called):
        await act(client, appeal, "resolve", {"resolution": "已处理"}, office)
    await act(client, called, "callback", {"rating": "satisfied"})

    clock.now = datetime(2019, 10, 7, 18, 0, tzinfo=CITY_TZ)  # the holiday's last day
    assert await listed(client, awaiting_callback="true") == []
    clock.now = datetime(2019, 10, 8, 8, 0, tzinfo=CITY_TZ)  # the first working day after
    assert await listed(client, awaiting_callback="true") == [waiting]
    assert waiting not in await listed(client, awaiting_callback="false")


def test_the_callback_cutoff_counts_working_days() -> None:
    tuesday = datetime(2019, 10, 15, 11, 0, tzinfo=CITY_TZ)
    assert callback_cutoff(tuesday, 0) == datetime(2019, 10, 16, tzinfo=CITY_TZ)
    assert callback_cutoff(tuesday, 1) == datetime(2019, 10, 15, tzinfo=CITY_TZ)
    assert callback_cutoff(tuesday, 2) == datetime(2019, 10, 14, tzinfo=CITY_TZ)
    # Saturday Oct 12 was an adjusted working day; Sunday Oct 13 was not.
    assert callback_cutoff(tuesday, 3) == datetime(2019, 10, 12, tzinfo=CITY_TZ)
    assert callback_cutoff(tuesday, 4) == datetime(2019, 10, 11, tzinfo=CITY_TZ)


async def test_pages_cover_every_appeal_once(client: httpx.AsyncClient, clock: FakeClock) -> None:
    created = []
    for i in range(11):
        created.append(await receive(client))
        if i % 3 == 0:  # some appeals share their received_at: ties break on the id
            clock.advance(minutes=1)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/appeals", params=params)).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(created)
    assert len(set(seen)) == len(seen)
    keys = [(a["received_at"], a["id"]) for a in await _all(client)]
    assert keys == sorted(keys, reverse=True)


async def _all(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = (await client.get("/v1/appeals", params={"limit": 200})).json()
    assert body["next_cursor"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4IiwgMV0"},  # base64 of ["x", 1]
        {"limit": 201},
        {"limit": 0},
        {"status": "lost"},
        {"received_from": "2019-10-01T00:00:00"},  # naive
        {"colour": "red"},
    ],
)
async def test_bad_parameters_are_422_problems(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    response = await client.get("/v1/appeals", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_key_is_required(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/appeals", headers={"Authorization": ""})
    assert response.status_code == 401
