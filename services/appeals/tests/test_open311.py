"""The Open311 GeoReport v2 facade, with requests shaped like the specification's examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from minsheng.clock import CITY_TZ
from minsheng.events.fields import DESCRIPTION_LIMIT
from testkit.integration.apps import DEV_KEY, grant
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2019, 9, 30, 9, 0, tzinfo=CITY_TZ)  # help: 3 working days -> 2019-10-10 end
FORM = "application/x-www-form-urlencoded"
STREET_OFFICE = "明仁街道办事处"


@pytest.fixture
def clock(client: httpx.AsyncClient) -> FakeClock:
    fake = FakeClock(T0)
    client.app.state.clock = fake  # type: ignore[attr-defined]
    return fake


def spec_form(**changes: str) -> str:
    """The specification's POST example, field for field, with our codes and places."""
    fields = {
        "api_key": DEV_KEY,
        "jurisdiction_id": "baicheng.gov.cn",
        "service_code": "help",
        "lat": "45.61962",
        "long": "122.83886",
        "address_string": "吉林省白城市洮北区明仁街道明仁社区3号楼",
        "email": "zhangsan@example.cn",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "三",
        "last_name": "张",
        "phone": "13812345678",
        "description": "小区下水道堵塞，污水漫到路面",
        "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
    } | changes
    return "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())


async def post_form(client: httpx.AsyncClient, body: str, expect: int = 201) -> Any:
    # no Authorization header: Open311 carries the key in the body
    response = await client.post(
        "/open311/v2/requests.json",
        content=body,
        headers={"Content-Type": FORM, "Authorization": ""},
    )
    assert response.status_code == expect, response.text
    return response.json()


async def test_services_are_our_categories(client: httpx.AsyncClient) -> None:
    services = (await client.get("/open311/v2/services.json", headers={})).json()
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"emergency", "consultation", "help", "complaint", "suggestion"}
    assert by_code["complaint"] == {
        "service_code": "complaint",
        "service_name": "投诉",
        "description": "投诉: handled within 13 working days",
        "metadata": False,
        "type": "realtime",
        "keywords": "complaint,投诉",
        "group": "12345 民生诉求",
    }
    definition = await client.get("/open311/v2/services/help.json")
    assert definition.json() == {"service_code": "help", "attributes": []}
    missing = await client.get("/open311/v2/services/potholes.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_code potholes not found"}]


async def test_a_form_post_like_the_specification_becomes_an_appeal(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    [created] = await post_form(client, spec_form())
    request_id = created["service_request_id"]
    assert created["account_id"] is None
    assert request_id in created["service_notice"]

    appeal = (await client.get(f"/v1/appeals/{request_id}")).json()
    assert (appeal["district"], appeal["street"], appeal["community"]) == (
        "洮北区",
        "明仁街道",
        "明仁社区",
    )
    assert appeal["channel"] == "web"
    assert [e["type"] for e in appeal["history"]] == [
        "minsheng.AppealReceived.v1",
        "minsheng.AppealDispatched.v1",
    ]
    assert appeal["history"][0]["data"]["phone_masked"] == "138****5678"

    [shown] = (await client.get(f"/open311/v2/requests/{request_id}.json")).json()
    assert shown == {
        "service_request_id": request_id,
        "status": "open",
        "status_notes": f"dispatched; handled by {STREET_OFFICE}",
        "service_name": "求助",
        "service_code": "help",
        "description": "小区下水道堵塞，污水漫到路面",
        "agency_responsible": STREET_OFFICE,
        "service_notice": None,
        "requested_datetime": "2019-09-30T09:00:00+08:00",
        "updated_datetime": "2019-09-30T09:00:00+08:00",
        "expected_datetime": "2019-10-10T23:59:59.999999+08:00",
        "address": "洮北区明仁街道明仁社区",
    }
    assert datetime.fromisoformat(shown["expected_datetime"]) == datetime.fromisoformat(
        appeal["deadline"]
    )


async def test_a_json_post_is_accepted_too(client: httpx.AsyncClient, clock: FakeClock) -> None:
    body = {
        "api_key": DEV_KEY,
        "service_code": "complaint",
        "address_string": "洮南市光明街道",
        "description": "夜间施工噪音扰民",
    }
    response = await client.post("/open311/v2/requests.json", json=body)
    assert response.status_code == 201, response.text
    [created] = response.json()
    [shown] = (
        await client.get(f"/open311/v2/requests/{created['service_request_id']}.json")
    ).json()
    assert shown["agency_responsible"] == "光明街道办事处"
    assert shown["address"] == "洮南市光明街道"


async def test_an_address_naming_a_grid_places_the_appeal_in_it(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    address = "洮南市光明街道光华社区第12网格5号楼"
    body = {"api_key": DEV_KEY, "service_code": "help", "address_string": address}
    response = await client.post("/open311/v2/requests.json", json=body)
    assert response.status_code == 201, response.text
    [created] = response.json()
    appeal = (await client.get(f"/v1/appeals/{created['service_request_id']}")).json()
    assert (appeal["community"], appeal["grid"]) == ("光华社区", "光华社区第12网格")
    [shown] = (
        await client.get(f"/open311/v2/requests/{created['service_request_id']}.json")
    ).json()
    assert shown["address"] == "洮南市光明街道光华社区光华社区第12网格"


@pytest.mark.parametrize(
    ("changes", "code", "description"),
    [
        ({"address_string": "1234 5th street"}, 400, "address_string must name a district"),
        ({"address_string": ""}, 400, "lat/long alone cannot be placed"),
        ({"service_code": "001"}, 400, "unknown service_code '001'"),
        ({"phone": "call me"}, 400, "is not a phone number"),
        ({"api_key": "xyz"}, 403, "invalid api_key"),
        ({"api_key": ""}, 403, "api_key is required"),
    ],
)
async def test_bad_posts_get_open311_errors(
    client: httpx.AsyncClient, changes: dict[str, str], code: int, description: str
) -> None:
    [error] = await post_form(client, spec_form(**changes), expect=code)
    assert error["code"] == code
    assert description in error["description"]


async def test_a_viewer_key_cannot_post(client: httpx.AsyncClient) -> None:
    viewer = (await grant(client, "viewer"))["Authorization"].split()[1]
    [error] = await post_form(client, spec_form(api_key=viewer), expect=403)
    assert "role viewer" in error["description"]


async def test_get_requests_filters_like_the_specification(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    [first] = await post_form(client, spec_form())
    clock.advance(days=1)
    [second] = await post_form(
        client, spec_form(service_code="complaint", address_string="大安市长虹街道德胜小区")
    )
    first_id, second_id = first["service_request_id"], second["service_request_id"]
    office = await grant(client, "unit", STREET_OFFICE)
    for action, body in (("accept", None), ("resolve", {"resolution": "已疏通下水道"})):
        response = await client.post(f"/v1/appeals/{first_id}/{action}", json=body, headers=office)
        assert response.status_code == 200, response.text

    async def ids(query: str, **headers: str) -> list[str]:
        response = await client.get(f"/open311/v2/requests.json?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    spec_window = "start_date=2019-09-29T00:00:00Z&end_date=2019-10-30T00:00:00Z"
    assert await ids(f"{spec_window}&status=open") == [second_id]
    assert await ids(f"{spec_window}&status=closed") == [first_id]
    assert await ids(f"{spec_window}&status=open,closed") == [second_id, first_id]
    assert await ids(f"{spec_window}&service_code=help") == [first_id]
    assert await ids("start_date=2019-10-01T00:00:00%2B08:00&end_date=2019-10-30T00:00:00Z") == [
        second_id
    ]
    assert await ids("") == [second_id, first_id], "the last 90 days by default"
    assert await ids(f"service_request_id={first_id},{second_id}&status=open") == [
        second_id,
        first_id,
    ], "with ids, the other filters are ignored"
    assert await ids(f"api_key={DEV_KEY}&service_code=complaint", Authorization="") == [second_id]

    [closed] = (await client.get(f"/open311/v2/requests/{first_id}.json")).json()
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "已疏通下水道"


async def test_get_errors_are_open311_errors(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/open311/v2/requests/BC20190930999999.json")
    assert unknown.status_code == 404
    assert unknown.json() == [
        {"code": 404, "description": "service_request_id BC20190930999999 not found"}
    ]
    bad = await client.get("/open311/v2/requests.json?status=pending")
    assert bad.json() == [{"code": 400, "description": "unknown status pending; use open, closed"}]
    assert (await client.get("/open311/v2/requests.json?start_date=yesterday")).status_code == 400
    bad_key = await client.get(
        "/open311/v2/requests.json", headers={"Authorization": "Bearer nonsense"}
    )
    assert bad_key.status_code == 403


async def test_every_entry_point_takes_the_same_longest_description(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """One limit, however the appeal arrives: 5000 characters in, 5001 a 4xx."""
    longest, too_long = "噪" * DESCRIPTION_LIMIT, "噪" * (DESCRIPTION_LIMIT + 1)
    assert DESCRIPTION_LIMIT == 5000
    await post_form(client, spec_form(description=longest))
    error = (await post_form(client, spec_form(description=too_long), expect=400))[0]
    assert error["code"] == 400
    assert "description" in error["description"]
    body = {"title": "噪音", "category": "help", "district": "洮北区"}
    accepted = await client.post("/v1/appeals", json={**body, "description": longest})
    assert accepted.status_code == 201, accepted.text
    refused = await client.post("/v1/appeals", json={**body, "description": too_long})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "description" in refused.json()["detail"]


PUBLIC = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
}


async def test_a_citizen_looks_an_appeal_up_by_its_number_without_a_key(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """GeoReport's GET requests need no key: status, dates, unit and notes, and nothing
    of what the citizen gave (phone, name, the description with its house number)."""
    mine = "13912345678"
    form = spec_form(description=f"3号楼2单元下水道堵塞，请回电 {mine}")
    [created] = await post_form(client, form)
    request_id = created["service_request_id"]
    path = f"/open311/v2/requests/{request_id}.json"

    anonymous = await client.get(path, headers={"Authorization": ""})
    assert anonymous.status_code == 200, anonymous.text
    [shown] = anonymous.json()
    assert set(shown) == PUBLIC
    assert shown["status"] == "open"
    assert shown["agency_responsible"] == STREET_OFFICE
    assert shown["address"] == "洮北区明仁街道明仁社区"  # the community, not the house
    assert shown["requested_datetime"] == T0.isoformat()
    for private in (mine, "13812345678", "张", "3号楼", "zhangsan"):
        assert private not in anonymous.text, private

    office = await grant(client, "unit", STREET_OFFICE)
    await client.post(f"/v1/appeals/{request_id}/accept", headers=office)
    resolved = await client.post(
        f"/v1/appeals/{request_id}/resolve",
        json={"resolution": f"已疏通，回访电话 {mine}"},
        headers=office,
    )
    assert resolved.status_code == 200, resolved.text
    [closed] = (await client.get(path, headers={"Authorization": ""})).json()
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "已疏通，回访电话 139****5678"  # public notes, masked

    with_key = (await client.get(path)).json()[0]  # a reading role sees the text too
    assert "下水道堵塞" in with_key["description"]
    bad_key = await client.get(path, headers={"Authorization": "Bearer nonsense"})
    assert bad_key.status_code == 403

    listed = await client.get("/open311/v2/requests.json", headers={"Authorization": ""})
    assert listed.status_code == 200, listed.text
    assert [r["service_request_id"] for r in listed.json()] == [request_id]
    assert all(set(r) == PUBLIC for r in listed.json())
    for private in (mine, "张", "3号楼", "zhangsan"):
        assert private not in listed.text, private
