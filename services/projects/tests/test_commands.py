"""The action routes, one by one: what each records, and the 409/403/422/404 it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from minsheng.clock import CITY_TZ
from testkit.integration.apps import app_pool as pool
from testkit.integration.apps import grant
from testkit.unit.clock import FakeClock
from testkit.unit.projects import CLAIM, OTHER_UNIT, UNIT

pytestmark = pytest.mark.integration

Headers = dict[str, str]
SEPTEMBER = datetime(2019, 9, 20, 10, 0, tzinfo=CITY_TZ)


@pytest.fixture
async def project(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/projects", json=CLAIM)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def unit(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "unit", UNIT, name="明仁街道 张三")


@pytest.fixture
async def supervisor(client: httpx.AsyncClient) -> Headers:
    return await grant(client, "supervisor", name="督查室 李四")


async def act(
    client: httpx.AsyncClient,
    project: str,
    action: str,
    body: dict[str, Any] | None = None,
    headers: Headers | None = None,
    expect: int = 200,
) -> dict[str, Any]:
    response = await client.post(f"/v1/projects/{project}/{action}", json=body, headers=headers)
    assert response.status_code == expect, response.text
    if expect >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    found: dict[str, Any] = response.json()
    return found


def last(view: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    entry = view["history"][-1]
    return entry["sequence"], entry["type"].split(".")[1], entry["data"]


async def test_the_whole_life_over_http(
    client: httpx.AsyncClient, project: str, unit: Headers, supervisor: Headers, clock: FakeClock
) -> None:
    view = await act(
        client, project, "milestones", {"milestone_id": "m1", "status": "reached"}, unit
    )
    assert (view["status"], view["progress"]) == ("in_progress", 25)
    assert last(view)[:2] == (2, "ProjectMilestone")
    assert last(view)[2]["progress"] == 25
    view = await act(client, project, "progress", {"progress": 60, "note": "主体完工"}, unit)
    assert last(view)[:2] == (3, "ProjectProgressReported")
    assert view["progress"] == 60
    clock.now = SEPTEMBER
    view = await act(client, project, "complete", {}, unit)
    assert (view["status"], view["progress"], view["on_time"]) == ("completed", 100, True)
    assert view["completed_on"] == "2019-09-20"
    view = await act(
        client,
        project,
        "verify",
        {"method": "on_site", "result": "passed", "notes": "现场查看"},
        supervisor,
    )
    assert view["status"] == "verified"
    assert last(view)[2]["inspector"] == "督查室 李四"
    view = await act(client, project, "evaluations", {"rating": "satisfied", "comment": "下水通畅"})
    sequence, name, data = last(view)
    assert (sequence, name) == (6, "SatisfactionRecorded")
    assert (data["subject_type"], data["subject_id"], data["channel"]) == (
        "project",
        project,
        "interview",
    )
    assert view["ratings"] == ["satisfied"]
    assert view["allowed_actions"] == ["evaluate"]
    rows = await pool(client).fetch(
        "SELECT sequence FROM outbox WHERE aggregate_id = $1 ORDER BY sequence", project
    )
    assert [r["sequence"] for r in rows] == [1, 2, 3, 4, 5, 6]


async def test_illegal_actions_are_409_with_state_and_allowed_actions(
    client: httpx.AsyncClient, project: str, supervisor: Headers
) -> None:
    problem = await act(client, project, "complete", {}, expect=409)
    assert problem["current_state"] == "claimed"
    assert problem["allowed_actions"] == ["milestone", "progress", "flag"]
    problem = await act(
        client, project, "verify", {"method": "on_site", "result": "passed"}, supervisor, expect=409
    )
    assert "cannot verify a project that is claimed" in problem["detail"]
    await act(client, project, "evaluations", {"rating": "satisfied"}, expect=409)
    await act(client, project, "milestones", {"milestone_id": "m1", "status": "reached"})
    problem = await act(
        client, project, "milestones", {"milestone_id": "m1", "status": "reached"}, expect=409
    )
    assert (problem["milestone_state"], problem["allowed_milestone_statuses"]) == ("reached", [])
    view = (await client.get(f"/v1/projects/{project}")).json()
    assert view["sequence"] == 2


async def test_a_failed_verification_sends_it_back(
    client: httpx.AsyncClient, project: str, supervisor: Headers, clock: FakeClock
) -> None:
    await act(client, project, "progress", {"progress": 90})
    clock.now = SEPTEMBER
    await act(client, project, "complete", {"completed_on": "2019-09-01"})
    view = await act(
        client,
        project,
        "verify",
        {"method": "resident_interview", "result": "failed", "inspector": "第三方评估组"},
        supervisor,
    )
    assert (view["status"], view["progress"], view["completed_on"]) == ("in_progress", 90, None)
    assert last(view)[2]["inspector"] == "第三方评估组"
    assert "complete" in view["allowed_actions"]


async def test_arguments_are_checked(
    client: httpx.AsyncClient, project: str, supervisor: Headers
) -> None:
    problem = await act(
        client, project, "milestones", {"milestone_id": "m9", "status": "reached"}, expect=422
    )
    assert "valid: m1, m2, m3" in problem["detail"]
    await act(
        client, project, "milestones", {"milestone_id": "m1", "status": "at_risk"}, expect=422
    )
    await act(
        client,
        project,
        "milestones",
        {"milestone_id": "m1", "status": "missed", "reason": "x"},
        expect=422,
    )
    await act(client, project, "progress", {"progress": 101}, expect=422)
    await act(client, project, "progress", {"progress": 5, "extra": 1}, expect=422)
    await act(client, project, "progress", {"progress": 10})
    await act(client, project, "complete", {"completed_on": "2019-12-01"}, expect=422)  # future
    await act(client, project, "flags", {"kind": "warning", "reason": "x"}, supervisor, expect=422)
    await act(client, "XM-2019-999999", "progress", {"progress": 10}, expect=404)


async def test_a_reschedule_needs_a_supervisor_who_is_recorded(
    client: httpx.AsyncClient, project: str, unit: Headers, supervisor: Headers
) -> None:
    body = {
        "milestone_id": "m1",
        "status": "rescheduled",
        "reason": "材料未到",
        "new_due": "2019-05-20",
    }
    problem = await act(client, project, "milestones", body, unit, expect=403)
    assert "supervisor" in problem["detail"]
    view = await act(client, project, "milestones", body, supervisor)
    data = last(view)[2]
    assert (data["status"], data["new_due"], data["approved_by"]) == (
        "rescheduled",
        "2019-05-20",
        "督查室 李四",
    )
    assert view["milestones"][0]["due"] == "2019-05-20"
    missing = {k: v for k, v in body.items() if k != "new_due"}
    await act(client, project, "milestones", missing, supervisor, expect=422)


async def test_a_unit_acts_only_on_its_own_projects(
    client: httpx.AsyncClient, project: str, unit: Headers
) -> None:
    other = await grant(client, "unit", OTHER_UNIT)
    problem = await act(client, project, "progress", {"progress": 10}, other, expect=403)
    assert UNIT in problem["detail"]
    await act(client, project, "progress", {"progress": 10}, unit)
    viewer = await grant(client, "viewer")
    await act(client, project, "progress", {"progress": 20}, viewer, expect=403)
    await act(client, project, "flags", {"kind": "formal_talk", "reason": "滞后"}, unit, expect=403)
    await act(client, project, "evaluations", {"rating": "satisfied"}, unit, expect=403)


async def test_supervisors_flag_notice_once_and_formal_talks(
    client: httpx.AsyncClient, project: str, supervisor: Headers
) -> None:
    await act(
        client,
        project,
        "flags",
        {"kind": "formal_talk", "reason": "进度滞后，约谈书记"},
        supervisor,
    )
    view = await act(client, project, "flags", {"kind": "notice", "reason": "全市通报"}, supervisor)
    assert view["flags"] == ["formal_talk", "notice"]
    assert last(view)[2] == {
        **last(view)[2],
        "kind": "notice",
        "reason": "全市通报",
        "level": "street",
    }
    problem = await act(
        client, project, "flags", {"kind": "notice", "reason": "再次"}, supervisor, expect=409
    )
    assert "already been named" in problem["detail"]
    listed = (await client.get("/v1/projects", params={"flagged": True})).json()["items"]
    assert [item["id"] for item in listed] == [project]
