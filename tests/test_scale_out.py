"""Every HTTP service as two real processes on its own port, on one database each and one
broker: requests spread over both, each sees the other's writes; one outbox relay
publishes while the other stands by and takes over after `kill -9`, nothing lost and
nothing published twice; each due timer fires once; the intake consumers and the
notifications consumers share their partitions in one group; each delivery is sent once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from minsheng.clock import Anchor, write_anchor
from minsheng.events import CATALOGUE, AppealReceived
from minsheng.platform.kafka import DEV_OUTSIDE, KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import APPEALS, INTAKE_APPEALS, INTAKE_PROJECTS, PROJECTS
from testkit.e2e.scaled import ScaledStack, leaders, partitions_held
from testkit.e2e.stack import random_appeals
from testkit.integration import appeals
from testkit.integration.fixtures import start_kafka
from testkit.integration.helpers import eventually, read_all
from testkit.integration.outsiders import publish, sdk_event
from testkit.integration.projects import claim

pytestmark = pytest.mark.e2e

RECIPIENT = "unit-mingren"  # the webhook of the unit the routing rules give APPEAL
APPEAL = {k: v for k, v in appeals.APPEAL.items() if k != "phone"}
HOTLINE = "gov/jilin-12345"
PARTITIONS = set(range(6))
LEVELS = {"overdue", "criticism"}  # due after LATER (the reminder only before the deadline)
LATER = timedelta(days=60)  # past both levels of a "help" appeal's supervision


@pytest.fixture(scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaBroker]:
    broker = await start_kafka(tmp_path_factory.mktemp("scale-out-kafka") / "data")
    yield broker
    await broker.stop()


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, broker: KafkaBroker
) -> AsyncIterator[ScaledStack]:
    folder = tmp_path_factory.mktemp("scale-out")
    env = {
        "MINSHENG_DEMO_CLOCK_FILE": str(folder / "demo-clock.json"),  # real time until moved
        "MINSHENG_TIMER_INTERVAL": "0.5",
    }
    notifications = {  # any hour of the run: no citizen's message deferred
        "MINSHENG_NOTIFICATIONS_QUIET_START": "00:00",
        "MINSHENG_NOTIFICATIONS_QUIET_END": "00:00",
        "MINSHENG_NOTIFICATIONS_WORKER_INTERVAL": "0.2",
    }
    async with ScaledStack(
        folder, postgres.url, kafka=broker, env=env, notifications=notifications
    ) as s:
        await s.wait_ready()
        yield s


async def _value(value: Any) -> Any:
    return value


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(url, json=body)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_requests_spread_over_two_instances_and_each_reads_the_others_writes(
    stack: ScaledStack,
) -> None:
    one, two = stack.replicas["appeals"]
    async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
        made = [
            await post(client, f"{(one, two)[i % 2].url}/v1/appeals", body)
            for i, body in enumerate(random_appeals(10, seed=61))
        ]
        for i, appeal in enumerate(made):
            other = (two, one)[i % 2]
            read = await client.get(f"{other.url}/v1/appeals/{appeal['id']}")
            assert read.status_code == 200, read.text
            assert read.json()["id"] == appeal["id"]
            assert read.json()["unit"] == appeal["unit"]
        # appeal numbers come from one sequence: two instances never hand out the same one
        assert len({a["id"] for a in made}) == len(made)

        first, second = stack.replicas["projects"]
        year = datetime.now(UTC).year
        project = await post(client, f"{first.url}/v1/projects", claim("社区食堂", year))
        step = {"milestone_id": "m1", "status": "reached"}
        await post(client, f"{second.url}/v1/projects/{project['id']}/milestones", step)
        seen = (await client.get(f"{first.url}/v1/projects/{project['id']}")).json()
    milestones = {m["milestone_id"]: m["status"] for m in seen["milestones"]}
    assert milestones["m1"] == "reached"


async def outbox(stack: ScaledStack, service: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.database(service))
    try:
        return list(await conn.fetch("SELECT payload, published_at FROM outbox ORDER BY id"))
    finally:
        await conn.close()


async def published_once(stack: ScaledStack, service: str, topic: str) -> None:
    """Every outbox row is published, and the topic holds each exactly once (and nothing
    else: what it holds beyond the rows read first was written since)."""
    rows = await eventually(
        lambda: outbox(stack, service),
        lambda rs: all(r["published_at"] is not None for r in rs),
        timeout=60,
        what=f"{service}'s outbox published",
    )
    on_topic = Counter(r.value for r in await read_all(stack.brokers.access(), topic))
    written = {r["payload"].encode() for r in rows}
    since = {r["payload"].encode() for r in await outbox(stack, service)}
    lost = written - set(on_topic)
    twice = {value: n for value, n in on_topic.items() if n > 1}
    assert (len(lost), len(twice)) == (0, 0), {"lost": lost, "twice": twice}
    assert set(on_topic) <= since, "on the topic, never written"


@pytest.mark.parametrize(
    ("service", "topic", "path"),
    [("appeals", APPEALS, "/v1/appeals"), ("projects", PROJECTS, "/v1/projects")],
)
async def test_one_relay_publishes_and_the_standby_takes_over_after_kill_9(
    stack: ScaledStack, service: str, topic: str, path: str
) -> None:
    processes = stack.replicas[service]
    found = await eventually(
        lambda: leaders(processes), lambda ls: sum(ls) == 1, timeout=30, what="one leader"
    )
    leader = found.index(True)
    standby = processes[1 - leader]
    year = datetime.now(UTC).year
    bodies = (
        random_appeals(120, seed=62)
        if service == "appeals"
        else [claim(f"项目 {i}", year) for i in range(60)]
    )

    async def load() -> None:  # over the standby, while the leader publishes
        async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
            for body in bodies:
                await post(client, f"{standby.url}{path}", body)

    running = asyncio.create_task(load())
    await eventually(
        lambda: outbox(stack, service),
        lambda rs: sum(r["published_at"] is not None for r in rs) >= 20,
        what="the load under way",
    )
    processes[leader].kill()  # SIGKILL, with the load running: no clean step-down
    await processes[leader].process.wait()
    await eventually(lambda: leaders([standby]), lambda ls: ls == [True], what="takeover")
    await running
    await published_once(stack, service, topic)
    await stack.replace(service, leader)  # two again, for the tests after this one
    assert await leaders(stack.replicas[service]) in ([True, False], [False, True])


async def test_the_intake_consumers_share_the_partitions_and_apply_each_event_once(
    stack: ScaledStack,
) -> None:
    for service, topic in (("appeals", INTAKE_APPEALS), ("projects", INTAKE_PROJECTS)):
        held = await eventually(
            lambda s=service, t=topic: partitions_held(stack.replicas[s], t),  # type: ignore[misc]
            lambda h: (
                all(h) and sum(map(len, h)) == len(PARTITIONS) and set().union(*h) == PARTITIONS
            ),
            timeout=60,
            what=f"{service}'s intake partitions shared",
        )
        assert not held[0] & held[1]
    subjects = [f"SCALE-{i}" for i in range(40)]
    events = [
        sdk_event(appeals.intake_appeal(s), id=f"hl-scale-{i}", source=HOTLINE, subject=s)
        for i, s in enumerate(subjects)
    ]
    hotline = stack.brokers.access(DEV_OUTSIDE)
    await publish(hotline, INTAKE_APPEALS, *(("binary", e) for e in events))
    await publish(hotline, INTAKE_APPEALS, *(("structured", e) for e in events[::4]))  # again
    conn = await asyncpg.connect(stack.database("appeals"))
    try:
        taken = await eventually(
            lambda: conn.fetch(
                "SELECT subject, appeal_id FROM intake_appeals WHERE source = $1", HOTLINE
            ),
            lambda rows: len(rows) >= len(subjects),
            timeout=60,
            what="every intake appeal taken",
        )
        seen = await conn.fetchval("SELECT count(*) FROM intake_seen WHERE source = $1", HOTLINE)
    finally:
        await conn.close()
    assert sorted(r["subject"] for r in taken) == sorted(subjects)
    assert seen == len(subjects)
    ours = {r["appeal_id"] for r in taken}
    await published_once(stack, "appeals", APPEALS)
    received = Counter(
        event.envelope.subject
        for record in await read_all(stack.brokers.access(), APPEALS)
        if (event := CATALOGUE.parse(record.value)).envelope.subject in ours
        and event.envelope.type == AppealReceived.event_type()
    )
    assert received == dict.fromkeys(ours, 1)


async def test_two_notifications_instances_send_each_delivery_once(stack: ScaledStack) -> None:
    held = await eventually(
        lambda: partitions_held(stack.replicas["notifications"], APPEALS),
        lambda h: all(h) and set().union(*h) == PARTITIONS and not h[0] & h[1],
        timeout=60,
        what="the appeals topic shared by the notifications instances",
    )
    assert all(held)
    before = set(stack.accepted(RECIPIENT))
    one, two = stack.replicas["appeals"]
    async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
        for i in range(30):
            await post(client, f"{(one, two)[i % 2].url}/v1/appeals", APPEAL)
    sent = await eventually(
        lambda: _value(stack.accepted(RECIPIENT)),
        lambda counts: len(set(counts) - before) >= 30,
        timeout=60,
        what="thirty webhooks",
    )
    ours = {webhook: n for webhook, n in sent.items() if webhook not in before}
    assert ours == dict.fromkeys(ours, 1)
    assert len(ours) == 30
    # both instances sign with the same secrets, whichever of them made the file
    hooks = stack.sinks.received("webhooks.jsonl")
    assert all(line["signature_valid"] for line in hooks if line["webhook-id"] in ours)


async def escalations(stack: ScaledStack, ids: set[str]) -> Counter[tuple[str, str]]:
    conn = await asyncpg.connect(stack.database("appeals"))
    try:
        rows = await conn.fetch(
            """SELECT appeal_id, data->>'level' AS level FROM appeal_events
               WHERE type LIKE '%AppealEscalated%' AND appeal_id = ANY($1::text[])""",
            list(ids),
        )
    finally:
        await conn.close()
    return Counter((r["appeal_id"], r["level"]) for r in rows)


async def missed(stack: ScaledStack, ids: set[str]) -> Counter[tuple[str, str]]:
    conn = await asyncpg.connect(stack.database("projects"))
    try:
        rows = await conn.fetch(
            """SELECT project_id, data->>'milestone_id' AS milestone FROM project_events
               WHERE type LIKE '%ProjectMilestone%' AND data->>'status' = 'missed'
                 AND project_id = ANY($1::text[])""",
            list(ids),
        )
    finally:
        await conn.close()
    return Counter((r["project_id"], r["milestone"]) for r in rows)


async def test_each_due_timer_fires_once_with_two_instances(stack: ScaledStack) -> None:
    """Runs last: it moves the platform's clock on."""
    year = datetime.now(UTC).year
    projects = stack.replicas["projects"]
    async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
        # milestones of this year already past: due as soon as claimed
        claimed = {
            (await post(client, f"{projects[i % 2].url}/v1/projects", claim(f"逾期 {i}", year)))[
                "id"
            ]
            for i in range(10)
        }
        posted = [
            await post(client, f"{stack.replicas['appeals'][i % 2].url}/v1/appeals", APPEAL)
            for i in range(10)
        ]
    ids = {a["id"] for a in posted}
    wanted = {(p, m) for p in claimed for m in ("m1", "m2")}
    fired = await eventually(
        lambda: missed(stack, claimed), lambda c: set(c) == wanted, timeout=60, what="missed"
    )
    assert fired == dict.fromkeys(wanted, 1)

    clock = Path(stack.env["MINSHENG_DEMO_CLOCK_FILE"])
    write_anchor(clock, Anchor(time.time(), datetime.now(UTC) + LATER, 1.0))
    levels = {(a, level) for a in ids for level in LEVELS}
    found = await eventually(
        lambda: escalations(stack, ids), lambda c: set(c) == levels, timeout=60, what="escalated"
    )
    assert found == dict.fromkeys(levels, 1)
    # and no second firing on a later tick of either instance
    await published_once(stack, "appeals", APPEALS)
    assert await escalations(stack, ids) == found
    assert await missed(stack, claimed) == fired
