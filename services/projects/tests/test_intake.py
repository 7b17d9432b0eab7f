"""Intake from bureaus' systems over the real broker: milestones, evaluations, duplicates,
poison and rejected events to the dead-letter topic with the reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from minsheng import metrics
from minsheng.clock import CITY_TZ
from minsheng.events import CloudEvent, ProjectMilestone, SatisfactionRecorded, new_event
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import dlq
from testkit.integration.apps import app_pool as pool
from testkit.integration.apps import projects_client
from testkit.integration.helpers import eventually, read_topic
from testkit.unit.clock import FakeClock
from testkit.unit.projects import CLAIM

pytestmark = pytest.mark.integration

BUREAU = "gov/baicheng-zhujian"
JUNE = datetime(2019, 6, 1, 9, 0, tzinfo=CITY_TZ)


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its intake consumer on a topic (and group) of this test's own."""
    async with projects_client(
        postgres.url,
        kafka.access(),
        clock=clock,
        intake_topic=fresh_topic,
        intake_group=f"projects-intake-{fresh_topic}",
    ) as c:
        yield c


@pytest.fixture
async def project(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/projects", json=CLAIM)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def reached(project: str, sequence: int = 1, **changes: Any) -> CloudEvent:
    data = ProjectMilestone(
        project_id=project,
        district=changes.pop("district", "洮北区"),
        level=changes.pop("level", "street"),
        year=2019,
        milestone_id=changes.pop("milestone_id", "m1"),
        status=changes.pop("status", "reached"),
        progress=30,
        **changes,
    )
    return new_event(data, subject=project, sequence=sequence, source=BUREAU)


def rated(project: str, sequence: int, rating: str = "satisfied") -> CloudEvent:
    data = SatisfactionRecorded(
        subject_type="project",
        subject_id=project,
        rating=rating,
        comment="排水好了",
        channel="interview",
        district="洮北区",
        recorded_at=JUNE,
    )
    return new_event(data, subject=project, sequence=sequence, source=BUREAU)


async def produce(kafka: KafkaBroker, topic: str, *messages: CloudEvent | bytes) -> None:
    """In order, under one key (one partition), so a later message waits for the earlier."""
    producer = kafka.access().producer(acks="all")
    await producer.start()
    try:
        for message in messages:
            value = message.to_json() if isinstance(message, CloudEvent) else message
            await producer.send_and_wait(topic, value, key=b"bureau")
    finally:
        await producer.stop()


async def history(client: httpx.AsyncClient, project: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get(f"/v1/projects/{project}")).json()["history"]
    return found


async def settled(client: httpx.AsyncClient, project: str, count: int) -> list[dict[str, Any]]:
    return await eventually(
        lambda: history(client, project), lambda h: len(h) >= count, what=f"{count} events"
    )


async def test_a_milestone_from_a_bureau_becomes_ours_with_our_rollup(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, project: str
) -> None:
    await produce(kafka, fresh_topic, reached(project))
    events = await settled(client, project, 2)
    assert len(events) == 2
    data = events[1]["data"]
    assert (events[1]["type"], data["milestone_id"], data["status"]) == (
        "minsheng.ProjectMilestone.v1",
        "m1",
        "reached",
    )
    assert data["progress"] == 25  # our roll-up, not the bureau's 30
    seen = await pool(client).fetchval(
        "SELECT project_id FROM intake_seen WHERE source = $1", BUREAU
    )
    assert seen == project


async def test_the_same_event_twice_applies_once(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, project: str, clock: FakeClock
) -> None:
    clock.now = JUNE
    event = reached(project)
    resent = event.model_copy(update={"sequence": 2})  # same (source, id), a later sequence
    done = reached(project, sequence=3, milestone_id="m2")
    await produce(kafka, fresh_topic, event, event, resent, done)
    events = await settled(client, project, 3)
    assert [e["data"]["milestone_id"] for e in events[1:]] == ["m1", "m2"]
    assert await pool(client).fetchval("SELECT count(*) FROM intake_seen") == 2


async def test_poison_and_rejected_events_are_dead_lettered_and_intake_moves_on(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, project: str
) -> None:
    wrong_schema = json.loads(reached(project).to_json())
    wrong_schema["data"]["status"] = "half done"
    poison = [
        b"{not json",
        json.dumps(wrong_schema).encode(),
        reached("XM-2019-999999").to_json(),
        reached(project, level="city").to_json(),
        reached(project, milestone_id="m1", status="missed", reason="x").to_json(),  # not yet due
        rated(project, 1).to_json(),  # a claimed project has nothing to evaluate
    ]
    before = metrics.DEAD_LETTERS.labels("projects", fresh_topic, "rejected")._value.get()
    await produce(kafka, fresh_topic, *poison, reached(project, sequence=7))
    await settled(client, project, 2)

    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=6)
    headers = [dict(r.headers) for r in letters]
    assert [h["dlq.reason"] for h in headers] == [b"bad_json", b"schema_violation"] + [
        b"rejected"
    ] * 4
    details = [h["dlq.detail"].decode() for h in headers[2:]]
    assert "unknown project XM-2019-999999" in details[0]
    assert "level street" in details[1]
    assert "not missed yet" in details[2]
    assert "cannot evaluate" in details[3]
    assert [r.value for r in letters] == poison
    after = metrics.DEAD_LETTERS.labels("projects", fresh_topic, "rejected")._value.get()
    assert after == before + 4
    assert len(await history(client, project)) == 2


async def test_residents_evaluations_from_a_bureau_are_recorded(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, project: str, clock: FakeClock
) -> None:
    clock.now = JUNE
    for action, body in (("progress", {"progress": 50}), ("complete", {})):
        response = await client.post(f"/v1/projects/{project}/{action}", json=body)
        assert response.status_code == 200, response.text
    await produce(kafka, fresh_topic, rated(project, 1), rated(project, 2, "basically_satisfied"))
    events = await settled(client, project, 5)
    assert [e["data"]["rating"] for e in events[3:]] == ["satisfied", "basically_satisfied"]
    assert events[-1]["data"]["subject_type"] == "project"
    view = (await client.get(f"/v1/projects/{project}")).json()
    assert view["ratings"] == ["satisfied", "basically_satisfied"]
