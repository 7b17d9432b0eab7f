"""Durable timers: a missed milestone and a late project are reported once each, with two
instances, across a restart, and moved by a reschedule. Time is a FakeClock shared by the
instances; the job ticks every 20 ms. Negative checks call `jobs.tick` directly at an
instant, so they never rely on waiting for something not to happen."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from minsheng.clock import CITY_TZ
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from projects import jobs
from testkit.integration.apps import app_pool as pool
from testkit.integration.apps import grant, projects_client
from testkit.integration.helpers import eventually
from testkit.unit.clock import FakeClock
from testkit.unit.projects import CLAIM, T0

pytestmark = pytest.mark.integration

M1_PAST = datetime(2019, 5, 1, 0, 0, tzinfo=CITY_TZ)  # m1 was due 2019-04-30
END_PAST = datetime(2019, 10, 1, 0, 0, tzinfo=CITY_TZ)  # planned end 2019-09-30
SECOND = timedelta(seconds=1)


def instance(
    postgres: PostgresServer, kafka: KafkaBroker, clock: FakeClock, suffix: str
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return projects_client(
        postgres.url, kafka.access(), database_suffix=suffix, clock=clock, timer_interval=0.02
    )


@pytest.fixture
def suffix() -> str:
    return f"_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock, suffix: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with instance(postgres, kafka, clock, suffix) as c:
        yield c


async def claim(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/projects", json=CLAIM)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def automatic(client: httpx.AsyncClient, project: str) -> list[str]:
    """What the timers emitted for the project, in order: 'missed m1', 'notice', ..."""
    rows = await pool(client).fetch(
        """SELECT type, data FROM project_events WHERE project_id = $1 ORDER BY sequence""",
        project,
    )
    found = []
    for row in rows:
        data: dict[str, Any] = json.loads(row["data"])
        if data.get("status") == "missed":
            found.append(f"missed {data['milestone_id']}")
        elif row["type"] == "minsheng.ProjectFlagged.v1":
            found.append(data["kind"])
    return found


async def reach(client: httpx.AsyncClient, projects: list[str], expected: list[str]) -> None:
    for project in projects:
        await eventually(
            lambda p=project: automatic(client, p),  # type: ignore[misc]
            lambda seen: seen == expected or len(seen) > len(expected),
            what=f"{project} reported {expected}",
        )
        assert await automatic(client, project) == expected


async def timer_rows(client: httpx.AsyncClient, project: str) -> list[tuple[Any, ...]]:
    rows = await pool(client).fetch(
        """SELECT kind, milestone_id, due_on, fired_at IS NOT NULL AS fired FROM project_timers
           WHERE project_id = $1 ORDER BY fires_at, milestone_id""",
        project,
    )
    return [tuple(row) for row in rows]


async def test_a_claim_schedules_its_milestones_and_its_end(client: httpx.AsyncClient) -> None:
    project = await claim(client)
    rows = await timer_rows(client, project)
    assert [(kind, mid, str(due), fired) for kind, mid, due, fired in rows] == [
        ("milestone", "m1", "2019-04-30", False),
        ("milestone", "m2", "2019-07-31", False),
        ("milestone", "m3", "2019-09-15", False),
        ("notice", "", "2019-09-30", False),
    ]


async def test_missed_and_notice_fire_once_each_when_due(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    project = await claim(client)
    assert await jobs.tick(pool(client), M1_PAST - SECOND) == 0
    clock.now = M1_PAST
    await reach(client, [project], ["missed m1"])
    assert await jobs.tick(pool(client), M1_PAST + timedelta(days=30)) == 0  # once
    view = (await client.get(f"/v1/projects/{project}")).json()
    assert view["status"] == "claimed"  # missing a milestone starts nothing
    assert view["history"][-1]["data"]["reason"].startswith("未按期完成")

    assert await jobs.tick(pool(client), END_PAST - SECOND) == 2  # m2, m3; not the notice
    clock.now = END_PAST
    await reach(client, [project], ["missed m1", "missed m2", "missed m3", "notice"])
    assert await jobs.tick(pool(client), END_PAST + timedelta(days=300)) == 0
    outbox = await pool(client).fetch(
        "SELECT sequence, event_type FROM outbox WHERE aggregate_id = $1 ORDER BY sequence", project
    )
    assert [r["sequence"] for r in outbox] == [1, 2, 3, 4, 5]
    assert outbox[-1]["event_type"] == "minsheng.ProjectFlagged.v1"
    assert all(fired for *_, fired in await timer_rows(client, project))
    ledger = (await client.get("/v1/ledger", params={"year": 2019})).json()
    assert ledger["total"]["flagged"] == 1


async def test_reaching_and_completing_cancel_the_timers(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    project = await claim(client)
    body = {"milestone_id": "m1", "status": "reached"}
    assert (await client.post(f"/v1/projects/{project}/milestones", json=body)).status_code == 200
    assert [row[1] for row in await timer_rows(client, project)] == ["m2", "m3", ""]
    clock.now = datetime(2019, 6, 1, 9, 0, tzinfo=CITY_TZ)
    assert (await client.post(f"/v1/projects/{project}/complete", json={})).status_code == 200
    assert await timer_rows(client, project) == []
    assert await jobs.tick(pool(client), END_PAST + timedelta(days=30)) == 0
    assert await automatic(client, project) == []


async def test_a_reschedule_moves_the_milestone_timer(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    project = await claim(client)
    clock.now = M1_PAST
    await reach(client, [project], ["missed m1"])
    supervisor = await grant(client, "supervisor")
    body = {
        "milestone_id": "m1",
        "status": "rescheduled",
        "reason": "雨季",
        "new_due": "2019-05-20",
    }
    response = await client.post(
        f"/v1/projects/{project}/milestones", json=body, headers=supervisor
    )
    assert response.status_code == 200, response.text
    assert ("milestone", "m1", "2019-05-20") in [
        (kind, mid, str(due))
        for kind, mid, due, fired in await timer_rows(client, project)
        if not fired
    ]
    assert await jobs.tick(pool(client), datetime(2019, 5, 21, tzinfo=CITY_TZ) - SECOND) == 0
    clock.now = datetime(2019, 5, 21, tzinfo=CITY_TZ)
    await reach(client, [project], ["missed m1", "missed m1"])


async def test_two_instances_and_a_restart_report_each_once(
    kafka: KafkaBroker, postgres: PostgresServer, suffix: str
) -> None:
    clock = FakeClock(T0)
    async with instance(postgres, kafka, clock, suffix) as first:
        projects = [await claim(first) for _ in range(8)]
        async with instance(postgres, kafka, clock, suffix) as second:
            clock.now = M1_PAST
            await reach(second, projects, ["missed m1"])
            clock.now = datetime(2019, 8, 1, 0, 0, tzinfo=CITY_TZ)
            await reach(first, projects, ["missed m1", "missed m2"])
        # `second` stopped; a third instance starts on the same database.
        async with instance(postgres, kafka, clock, suffix) as third:
            clock.now = END_PAST
            expected = ["missed m1", "missed m2", "missed m3", "notice"]
            await reach(third, projects, expected)
            for project in projects:
                rows = await pool(third).fetch(
                    "SELECT sequence FROM outbox WHERE aggregate_id = $1 ORDER BY sequence", project
                )
                assert [r["sequence"] for r in rows] == [1, 2, 3, 4, 5]
    clock.now = END_PAST + timedelta(days=1)
    async with instance(postgres, kafka, clock, suffix) as restarted:
        assert await jobs.tick(pool(restarted), clock.now) == 0
        for project in projects:
            assert await automatic(restarted, project) == expected
