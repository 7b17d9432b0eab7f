"""The action routes, one by one: happy path, and the 409/403/422/404 each can answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from minsheng.clock import CITY_TZ
from testkit.integration.appeals import APPEAL, BUREAU, STREET_OFFICE, Headers, act
from testkit.integration.apps import grant
from testkit.unit.appeals import T0
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def clock(client: httpx.AsyncClient) -> FakeClock:
    fake = FakeClock(T0)
    client.app.state.clock = fake  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def appeal(client: httpx.AsyncClient, clock: FakeClock) -> str:
    """A received appeal, auto-dispatched to the street office."""
    response = await client.post("/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def office(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "unit", STREET_OFFICE)


@pytest.fixture
async def bureau(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "unit", BUREAU)


@pytest.fixture
async def supervisor(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "supervisor", name="督查中心 李四")


async def test_units_and_categories_are_served_to_any_key(client: httpx.AsyncClient) -> None:
    viewer = await grant(client, "viewer")
    units = (await client.get("/v1/units", headers=viewer)).json()
    names = [unit["name"] for unit in units["units"]]
    assert {"市交通运输局", BUREAU, "洮北区妇联", STREET_OFFICE} <= set(names)
    assert units["default_unit"] in names
    categories = (await client.get("/v1/categories", headers=viewer)).json()["categories"]
    limits = {c["code"]: c["working_days"] for c in categories}
    assert limits == {
        "emergency": 0,
        "consultation": 3,
        "help": 3,
        "complaint": 13,
        "suggestion": 13,
    }
    anonymous = await client.get("/v1/units", headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_the_deadline_counts_working_days_from_receipt(
    client: httpx.AsyncClient, appeal: str
) -> None:
    body = (await client.get(f"/v1/appeals/{appeal}")).json()
    # 2019-10-01..07 were National Day holidays: 3 working days are Oct 8, 9, 10.
    assert datetime.fromisoformat(body["deadline"]).astimezone(CITY_TZ).date().isoformat() == (
        "2019-10-10"
    )
    assert datetime.fromisoformat(body["received_at"]) == T0


async def test_the_lead_unit_accepts(
    client: httpx.AsyncClient, appeal: str, office: Headers
) -> None:
    body = await act(client, appeal, "accept", headers=office)
    assert body["status"] == "accepted"
    assert body["allowed_actions"] == ["extend", "resolve", "close"]
    assert body["history"][-1]["data"]["unit"] == STREET_OFFICE
    again = await act(client, appeal, "accept", headers=office, expect=409)
    assert again["current_state"] == "accepted"
    assert again["allowed_actions"] == ["extend", "resolve", "close"]
    assert "cannot accept" in again["detail"]


@pytest.mark.parametrize("action", ["accept", "return", "resolve"])
async def test_another_units_key_is_forbidden(
    client: httpx.AsyncClient, appeal: str, bureau: Headers, action: str
) -> None:
    body = {"return": {"reason": "不归我们"}, "resolve": {"resolution": "已处理"}}.get(action)
    problem = await act(client, appeal, action, body, headers=bureau, expect=403)
    assert STREET_OFFICE in problem["detail"]


@pytest.mark.parametrize(
    ("action", "body", "role"),
    [
        ("accept", None, "operator"),
        ("dispatch", {}, "unit"),
        ("dispatch", {}, "viewer"),
        ("extend", {"reason": "需协调", "days": 2}, "unit"),
        ("extend", {"reason": "需协调", "days": 2}, "operator"),
        ("reopen", {"reason": "不满意"}, "operator"),
        ("callback", {"rating": "satisfied"}, "supervisor"),
        ("close", {"outcome": "duplicate"}, "unit"),
    ],
)
async def test_roles_that_may_not_act_are_forbidden(
    client: httpx.AsyncClient, appeal: str, action: str, body: dict[str, Any] | None, role: Any
) -> None:
    headers = await grant(client, role, STREET_OFFICE if role == "unit" else None)
    problem = await act(client, appeal, action, body, headers=headers, expect=403)
    assert f"role {role!r} may not do this" in problem["detail"]


@pytest.mark.parametrize("action", ["dispatch", "accept", "return", "close"])
async def test_an_unknown_appeal_is_a_404(
    client: httpx.AsyncClient, office: Headers, action: str
) -> None:
    headers = office if action in ("accept", "return") else None
    body = {"dispatch": {}, "return": {"reason": "不归我们"}, "close": {}}.get(action)
    await act(client, "BC000", action, body, headers=headers, expect=404)


async def test_return_then_an_operator_re_dispatches_with_co_handling(
    client: httpx.AsyncClient, appeal: str, office: Headers
) -> None:
    empty = await act(client, appeal, "return", {"reason": ""}, headers=office, expect=422)
    assert "reason" in empty["detail"]
    returned = await act(client, appeal, "return", {"reason": "属住建部门职责"}, headers=office)
    assert (returned["status"], returned["unit"]) == ("returned", None)
    assert returned["allowed_actions"] == ["dispatch", "close"]
    # The office no longer has the appeal: it cannot act on it.
    await act(client, appeal, "accept", headers=office, expect=403)

    unknown = await act(client, appeal, "dispatch", {"unit": "市魔法部"}, expect=422)
    assert BUREAU in unknown["valid"]
    both = await act(
        client, appeal, "dispatch", {"unit": BUREAU, "assisting_units": [BUREAU]}, expect=422
    )
    assert "cannot both lead and assist" in both["detail"]
    body = await act(
        client, appeal, "dispatch", {"unit": BUREAU, "assisting_units": [STREET_OFFICE]}
    )
    assert (body["status"], body["unit"], body["assisting_units"]) == (
        "dispatched",
        BUREAU,
        [STREET_OFFICE],
    )
    event = body["history"][-1]
    assert event["type"] == "minsheng.AppealDispatched.v1"
    assert event["data"]["override"] is True
    assert event["data"]["dispatched_by"] == "development operator"
    assert event["data"]["deadline"] == body["history"][1]["data"]["deadline"], "clock kept"
    # An assisting unit follows the lead; it cannot accept or return for it.
    assisting = await act(client, appeal, "accept", headers=office, expect=403)
    assert "assists on" in assisting["detail"]

    again = await act(client, appeal, "dispatch", {}, expect=409)
    assert again["current_state"] == "dispatched"
    assert again["allowed_actions"] == ["accept", "return", "close"]


async def test_a_supervisor_extends_before_the_deadline_only(
    client: httpx.AsyncClient,
    appeal: str,
    office: Headers,
    supervisor: Headers,
    clock: FakeClock,
) -> None:
    early = await act(client, appeal, "extend", {"reason": "需协调", "days": 1}, supervisor, 409)
    assert early["current_state"] == "dispatched"
    await act(client, appeal, "accept", headers=office)
    neither = await act(client, appeal, "extend", {"reason": "需协调"}, supervisor, 422)
    assert "either days or until" in neither["detail"]

    body = await act(client, appeal, "extend", {"reason": "需协调管网", "days": 2}, supervisor)
    extended = body["history"][-1]["data"]
    assert extended["approved_by"] == "督查中心 李四"
    # From Oct 10 two working days: Friday Oct 11 and Saturday Oct 12, an adjusted workday.
    assert extended["new_deadline"] == "2019-10-12T23:59:59.999999+08:00"
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat(
        extended["new_deadline"]
    )

    clock.now = datetime(2019, 10, 13, 8, 0, tzinfo=CITY_TZ)
    late = await act(client, appeal, "extend", {"reason": "还需时间", "days": 1}, supervisor, 409)
    assert late["title"] == "Too late"
    assert late["deadline"] == "2019-10-12T23:59:59.999999+08:00"


async def test_resolve_callback_reopen_and_close(
    client: httpx.AsyncClient, appeal: str, office: Headers, supervisor: Headers, clock: FakeClock
) -> None:
    await act(client, appeal, "callback", {"rating": "satisfied"}, expect=409)
    await act(client, appeal, "accept", headers=office)
    await act(client, appeal, "resolve", {"resolution": ""}, office, 422)
    clock.advance(days=1)
    resolved = await act(client, appeal, "resolve", {"resolution": "已疏通"}, office)
    assert (resolved["status"], resolved["on_time"]) == ("resolved", True)
    assert resolved["allowed_actions"] == ["callback", "reopen", "close"]

    no_reason = await act(client, appeal, "callback", {"rating": "dissatisfied"}, expect=422)
    assert "reason" in no_reason["detail"]
    rated = await act(client, appeal, "callback", {"rating": "basically_satisfied"})
    assert (rated["status"], rated["rating"]) == ("resolved", "basically_satisfied")
    await act(client, appeal, "callback", {"rating": "satisfied"}, expect=409)

    await act(client, appeal, "reopen", {"reason": ""}, supervisor, 422)
    reopened = await act(client, appeal, "reopen", {"reason": "抽查发现未修好"}, supervisor)
    assert (reopened["status"], reopened["deadline"]) == ("reopened", None)
    wrong = await act(client, appeal, "close", {"outcome": "resolved"}, expect=422)
    assert wrong["current_state"] == "reopened"
    closed = await act(client, appeal, "close", {"outcome": "duplicate", "note": "同BC1"})
    assert (closed["status"], closed["outcome"], closed["allowed_actions"]) == (
        "closed",
        "duplicate",
        [],
    )
    final = await act(client, appeal, "reopen", {"reason": "再查"}, supervisor, 409)
    assert final["allowed_actions"] == []


async def test_bad_bodies_are_422_problems(client: httpx.AsyncClient, appeal: str) -> None:
    extra = await act(client, appeal, "close", {"outcome": "resolved", "x": 1}, expect=422)
    assert "x" in extra["detail"]
    await act(client, appeal, "close", {"outcome": "forgotten"}, expect=422)
    await act(client, appeal, "callback", {"rating": "meh"}, expect=422)
