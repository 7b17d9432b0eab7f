"""督办 as durable timers: each level once, with two instances, across a restart, moved by
an extension. Time is a FakeClock shared by the instances; the job ticks every 20 ms.

Negative checks ("nothing is due yet") call `jobs.tick` directly at that instant, so
they never rely on waiting for something not to happen.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from appeals import jobs
from appeals.timing import escalation_times
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.appeals import APPEAL, STREET_OFFICE
from testkit.integration.apps import app_pool as pool
from testkit.integration.apps import appeals_client, grant
from testkit.integration.helpers import eventually
from testkit.unit.appeals import T0
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration

ESCALATED = "minsheng.AppealEscalated.v1"
TIMES = escalation_times(T0, datetime.fromisoformat("2019-10-10T23:59:59.999999+08:00"))
MINUTE = timedelta(minutes=1)


def instance(
    postgres: PostgresServer, kafka: KafkaBroker, clock: FakeClock, suffix: str
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """One instance of the service on the database named by `suffix`, on `clock`."""
    return appeals_client(
        postgres.url,
        kafka.access(),
        database_suffix=suffix,
        clock=clock,
        timer_interval=0.02,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def suffix() -> str:
    return f"_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock, suffix: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with instance(postgres, kafka, clock, suffix) as c:
        yield c


async def receive(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def escalations(client: httpx.AsyncClient, appeal_id: str) -> list[dict[str, Any]]:
    """The AppealEscalated payloads of the appeal's history, in order."""
    history = (await client.get(f"/v1/appeals/{appeal_id}")).json()["history"]
    return [entry["data"] for entry in history if entry["type"] == ESCALATED]


async def levels(client: httpx.AsyncClient, appeal_id: str) -> list[str]:
    return [data["level"] for data in await escalations(client, appeal_id)]


async def reach(client: httpx.AsyncClient, appeal_ids: list[str], expected: list[str]) -> None:
    """Waits until every appeal has escalated exactly through `expected`."""
    for appeal_id in appeal_ids:
        await eventually(
            lambda a=appeal_id: levels(client, a),  # type: ignore[misc]
            lambda seen: seen == expected or len(seen) > len(expected),
            what=f"{appeal_id} escalated {expected}",
        )
        assert await levels(client, appeal_id) == expected


async def timer_rows(client: httpx.AsyncClient, appeal_id: str) -> list[dict[str, Any]]:
    rows = await pool(client).fetch(
        "SELECT * FROM supervision_timers WHERE appeal_id = $1 ORDER BY due_at", appeal_id
    )
    return [dict(row) for row in rows]


async def outbox_levels(client: httpx.AsyncClient, appeal_id: str) -> list[int]:
    """Sequences of the AppealEscalated events the outbox holds for the appeal."""
    rows = await pool(client).fetch(
        """SELECT sequence FROM outbox WHERE aggregate_id = $1 AND event_type = $2
           ORDER BY sequence""",
        appeal_id,
        ESCALATED,
    )
    return [row["sequence"] for row in rows]


async def test_dispatch_schedules_the_three_levels(client: httpx.AsyncClient) -> None:
    appeal = await receive(client)
    rows = await timer_rows(client, appeal)
    assert [(r["level"], r["due_at"], r["fired_at"]) for r in rows] == [
        (level, due, None) for level, due in TIMES.items()
    ]


async def test_each_level_fires_once_when_due(client: httpx.AsyncClient, clock: FakeClock) -> None:
    appeal = await receive(client)
    assert await jobs.tick(pool(client), TIMES["reminder"] - MINUTE) == 0
    clock.now = TIMES["reminder"] + MINUTE
    await reach(client, [appeal], ["reminder"])
    assert await jobs.tick(pool(client), TIMES["overdue"] - MINUTE) == 0
    clock.now = TIMES["overdue"]
    await reach(client, [appeal], ["reminder", "overdue"])
    assert await jobs.tick(pool(client), TIMES["criticism"] - MINUTE) == 0
    clock.now = TIMES["criticism"]
    await reach(client, [appeal], ["reminder", "overdue", "criticism"])

    assert await outbox_levels(client, appeal) == [3, 4, 5]  # next sequences, via the outbox
    sent = await escalations(client, appeal)
    assert {data["unit"] for data in sent} == {STREET_OFFICE}
    assert all(r["fired_at"] is not None for r in await timer_rows(client, appeal))
    assert await jobs.tick(pool(client), TIMES["criticism"] + timedelta(days=30)) == 0


async def test_a_late_job_skips_the_reminder_but_not_the_rest(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    appeal = await receive(client)
    clock.now = TIMES["criticism"]  # the service was down for a week
    await reach(client, [appeal], ["overdue", "criticism"])
    assert [r["level"] for r in await timer_rows(client, appeal)] == ["overdue", "criticism"]


async def test_resolving_cancels_the_timers(client: httpx.AsyncClient, clock: FakeClock) -> None:
    appeal = await receive(client)
    office = await grant(client, "unit", STREET_OFFICE)
    for action, body in (("accept", None), ("resolve", {"resolution": "已疏通"})):
        response = await client.post(f"/v1/appeals/{appeal}/{action}", json=body, headers=office)
        assert response.status_code == 200, response.text
    assert await timer_rows(client, appeal) == []
    assert await jobs.tick(pool(client), TIMES["criticism"]) == 0


async def test_two_instances_and_a_restart_escalate_each_level_once(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock, suffix: str
) -> None:
    async with instance(postgres, kafka, clock, suffix) as first:
        appeals = [await receive(first) for _ in range(8)]
        async with instance(postgres, kafka, clock, suffix) as second:
            clock.now = TIMES["reminder"] + MINUTE
            await reach(second, appeals, ["reminder"])
            clock.now = TIMES["overdue"]
            await reach(first, appeals, ["reminder", "overdue"])
        # `second` stopped; a third instance starts on the same database.
        async with instance(postgres, kafka, clock, suffix) as third:
            clock.now = TIMES["criticism"]
            await reach(third, appeals, ["reminder", "overdue", "criticism"])
            for appeal in appeals:
                assert await outbox_levels(third, appeal) == [3, 4, 5]


async def test_a_restarted_instance_schedules_appeals_that_have_no_timers(
    kafka: KafkaBroker, postgres: PostgresServer, clock: FakeClock, suffix: str
) -> None:
    async with instance(postgres, kafka, clock, suffix) as before:
        appeal = await receive(before)
        await pool(before).execute("DELETE FROM supervision_timers")  # as before migration 003
    clock.now = TIMES["overdue"]
    async with instance(postgres, kafka, clock, suffix) as after:
        await reach(after, [appeal], ["overdue"])


async def test_an_extension_reschedules(client: httpx.AsyncClient, clock: FakeClock) -> None:
    appeal = await receive(client)
    office = await grant(client, "unit", STREET_OFFICE)
    supervisor = await grant(client, "supervisor", name="督查中心")
    assert (await client.post(f"/v1/appeals/{appeal}/accept", headers=office)).status_code == 200
    clock.now = TIMES["reminder"] + MINUTE
    await reach(client, [appeal], ["reminder"])

    response = await client.post(
        f"/v1/appeals/{appeal}/extend", json={"days": 2, "reason": "需协调"}, headers=supervisor
    )
    assert response.status_code == 200, response.text
    deadline = datetime.fromisoformat(response.json()["deadline"])
    moved = escalation_times(T0, deadline)
    rows = await timer_rows(client, appeal)
    pending = [(r["level"], r["due_at"]) for r in rows if r["fired_at"] is None]
    assert pending == list(moved.items())
    assert all(r["deadline"] == deadline for r in rows if r["fired_at"] is None)

    assert await jobs.tick(pool(client), TIMES["overdue"]) == 0  # the old deadline's
    clock.now = moved["reminder"] + MINUTE
    await reach(client, [appeal], ["reminder", "reminder"])
    clock.now = moved["overdue"]
    await reach(client, [appeal], ["reminder", "reminder", "overdue"])
    sent = [datetime.fromisoformat(data["deadline"]) for data in await escalations(client, appeal)]
    assert sent[1:] == [deadline, deadline]
    assert sent[0] < deadline
