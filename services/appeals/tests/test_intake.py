"""Intake from other systems over the real broker: appeals, call-backs, duplicates, poison."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from minsheng import metrics
from minsheng.events import AppealReceived, CloudEvent, SatisfactionRecorded, new_event
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import APPEALS, dlq
from testkit.integration.apps import app_pool, appeals_client, grant
from testkit.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.integration

HOTLINE = "gov/jilin-12345"
STREET_OFFICE = "明仁街道办事处"


@pytest.fixture
async def client(
    kafka: KafkaBroker,
    postgres: PostgresServer,
    fresh_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its intake consumer on a topic (and group) of this test's own."""
    monkeypatch.setenv("MINSHENG_INTAKE_TOPIC", fresh_topic)
    monkeypatch.setenv("MINSHENG_INTAKE_GROUP", f"appeals-intake-{fresh_topic}")
    async with appeals_client(postgres.url, kafka.access()) as c:
        yield c


def received(subject: str, district: str = "洮北区", **data: Any) -> CloudEvent:
    payload = AppealReceived(
        appeal_id=subject,
        title="路灯不亮",
        description="明仁社区3号楼前路灯连续三晚不亮",
        category="help",
        district=district,
        street=data.pop("street", "明仁街道"),
        community=data.pop("community", "明仁社区"),
        channel="hotline",
        phone_masked="138****5678",
        received_at=datetime.now(UTC),
        **data,
    )
    return new_event(payload, subject=subject, sequence=1, source=HOTLINE)


def rated(subject: str, sequence: int = 2) -> CloudEvent:
    payload = SatisfactionRecorded(
        subject_type="appeal",
        subject_id=subject,
        rating="satisfied",
        comment="路灯修好了",
        channel="callback",
        district="洮北区",
        recorded_at=datetime.now(UTC),
    )
    return new_event(payload, subject=subject, sequence=sequence, source=HOTLINE)


async def produce(kafka: KafkaBroker, topic: str, *messages: CloudEvent | bytes) -> None:
    """In order, under one key (one partition), so a later message waits for the earlier."""
    producer = kafka.access().producer(acks="all")
    await producer.start()
    try:
        for message in messages:
            value = message.to_json() if isinstance(message, CloudEvent) else message
            await producer.send_and_wait(topic, value, key=b"hotline")
    finally:
        await producer.stop()


async def ours(client: httpx.AsyncClient, subject: str) -> str:
    """Our appeal id for the hotline's subject, once intake has taken it."""
    pool = app_pool(client)

    async def probe() -> Any:
        return await pool.fetchval(
            "SELECT appeal_id FROM intake_appeals WHERE source = $1 AND subject = $2",
            HOTLINE,
            subject,
        )

    return str(await eventually(probe, lambda found: found is not None, what=subject))


async def appeal_count(client: httpx.AsyncClient) -> int:
    pool = app_pool(client)
    return int(await pool.fetchval("SELECT count(*) FROM appeals"))


async def test_an_external_appeal_becomes_ours_with_canonical_events(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    await produce(kafka, fresh_topic, received("HL-1"))
    appeal_id = await ours(client, "HL-1")

    appeal = (await client.get(f"/v1/appeals/{appeal_id}")).json()
    assert appeal["status"] == "dispatched"
    assert appeal["unit"] == STREET_OFFICE
    assert appeal["channel"] == "hotline"
    assert appeal["community"] == "明仁社区"
    history = [(e["sequence"], e["type"]) for e in appeal["history"]]
    assert history == [(1, "minsheng.AppealReceived.v1"), (2, "minsheng.AppealDispatched.v1")]
    assert appeal["history"][0]["data"]["appeal_id"] == appeal_id != "HL-1"

    pool = app_pool(client)
    mine = {  # appeal ids repeat across the tests' databases; event ids do not
        str(row["event_id"])
        for row in await pool.fetch(
            "SELECT event_id FROM appeal_events WHERE appeal_id = $1", appeal_id
        )
    }

    def canonical(records: list[Any]) -> list[dict[str, Any]]:
        ours = (json.loads(r.value) for r in records if r.key == appeal_id.encode())
        return [e for e in ours if e["id"] in mine]

    records = await read_topic(kafka.access(), APPEALS, until=lambda rs: len(canonical(rs)) >= 2)
    events = canonical(records)
    assert [(e["type"], e["sequence"], e["source"]) for e in events] == [
        ("minsheng.AppealReceived.v1", 1, "minsheng/appeals"),
        ("minsheng.AppealDispatched.v1", 2, "minsheng/appeals"),
    ]


async def test_the_same_event_twice_makes_one_appeal(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    event = received("HL-2")
    resent = event.model_copy(update={"sequence": 2})  # same (source, id), a later sequence
    await produce(kafka, fresh_topic, event, event, resent, received("HL-3"))
    await ours(client, "HL-3")  # the last one is in: so are the three before it

    assert await appeal_count(client) == 2
    pool = app_pool(client)
    seen = await pool.fetchval(
        "SELECT appeal_id FROM intake_seen WHERE source = $1 AND event_id = $2",
        HOTLINE,
        str(event.id),
    )
    assert seen == await ours(client, "HL-2")


async def test_poison_and_unknown_districts_are_dead_lettered_and_intake_moves_on(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    wrong_schema = json.loads(received("HL-4").to_json())
    wrong_schema["data"]["channel"] = "carrier pigeon"
    unknown_district = received("HL-5", district="朝阳区", street=None, community=None)
    poison = [b"{not json", json.dumps(wrong_schema).encode(), unknown_district.to_json()]
    before = metrics.DEAD_LETTERS.labels("appeals", fresh_topic, "rejected")._value.get()
    await produce(kafka, fresh_topic, *poison, received("HL-6"))

    await ours(client, "HL-6")
    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=3)
    headers = [dict(r.headers) for r in letters]
    assert [h["dlq.reason"] for h in headers] == [b"bad_json", b"schema_violation", b"rejected"]
    assert "unknown district" in headers[2]["dlq.detail"].decode()
    assert "朝阳区" in headers[2]["dlq.detail"].decode()
    assert [r.value for r in letters] == poison
    after = metrics.DEAD_LETTERS.labels("appeals", fresh_topic, "rejected")._value.get()
    assert after == before + 1
    assert await appeal_count(client) == 1


async def test_a_poison_event_with_a_full_number_is_dead_lettered_without_it(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    typed = "请回电+86 139-1234-5678，身份证22080219900101123X"
    wrong_schema = json.loads(received("HL-9").to_json())
    wrong_schema["data"]["description"] = typed  # as sent: our model would have masked it
    wrong_schema["data"]["channel"] = "carrier pigeon"
    unknown = json.loads(
        received("HL-10", district="朝阳区", street=None, community=None).to_json()
    )
    unknown["data"]["title"] = "回电13912345678"
    poison = [
        b"{not json, call 139 1234 5678",
        json.dumps(wrong_schema, ensure_ascii=False).encode(),
        json.dumps(unknown, ensure_ascii=False).encode(),
    ]
    await produce(kafka, fresh_topic, *poison, received("HL-11"))

    await ours(client, "HL-11")
    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=3)
    reasons = [dict(r.headers)["dlq.reason"] for r in letters]
    assert reasons == [b"bad_json", b"schema_violation", b"rejected"]
    for letter in letters:
        digits = re.sub(rb"[^0-9X]", b"", letter.value)
        assert b"13912345678" not in digits
        assert b"22080219900101123X" not in digits
    assert letters[0].value == b"{not json, call 139 **** 5678"
    schema, rejected = (json.loads(r.value) for r in letters[1:])
    assert schema["data"]["description"] == "请回电+86 139-****-5678，身份证2208**********123X"
    assert schema["data"]["channel"] == "carrier pigeon"  # still says what was wrong
    assert (schema["subject"], schema["id"]) == ("HL-9", wrong_schema["id"])
    assert rejected["data"]["title"] == "回电139****5678"
    assert rejected["data"]["district"] == "朝阳区"


async def test_an_external_appeal_keeps_its_text_as_sent_and_our_event_masks_it(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    sent = json.loads(received("HL-12").to_json())
    sent["data"]["description"] = "请回电13912345678"
    await produce(kafka, fresh_topic, json.dumps(sent, ensure_ascii=False).encode())
    appeal = (await client.get(f"/v1/appeals/{await ours(client, 'HL-12')}")).json()
    assert appeal["description"] == "请回电13912345678"  # personal data may stay here
    assert appeal["history"][0]["data"]["description"] == "请回电139****5678"


async def test_a_call_back_from_the_hotline_is_recorded_on_our_appeal(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    await produce(kafka, fresh_topic, received("HL-7"))
    appeal_id = await ours(client, "HL-7")
    office = await grant(client, "unit", STREET_OFFICE)
    for action, body in (("accept", None), ("resolve", {"resolution": "已更换灯泡"})):
        response = await client.post(f"/v1/appeals/{appeal_id}/{action}", json=body, headers=office)
        assert response.status_code == 200, response.text

    await produce(kafka, fresh_topic, rated("HL-7"))

    async def appeal() -> dict[str, Any]:
        found: dict[str, Any] = (await client.get(f"/v1/appeals/{appeal_id}")).json()
        return found

    done = await eventually(appeal, lambda a: a["rating"] == "satisfied", what="call-back")
    last = done["history"][-1]
    assert (last["sequence"], last["type"]) == (5, "minsheng.SatisfactionRecorded.v1")
    assert last["data"]["subject_id"] == appeal_id
    assert last["data"]["comment"] == "路灯修好了"


async def test_a_call_back_for_an_unknown_appeal_is_rejected(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    await produce(kafka, fresh_topic, rated("HL-404", sequence=1), received("HL-8"))
    await ours(client, "HL-8")
    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=1)
    reason = dict(letters[0].headers)
    assert reason["dlq.reason"] == b"rejected"
    assert b"unknown appeal HL-404" in reason["dlq.detail"]
    assert await appeal_count(client) == 1


async def test_an_external_appeal_may_name_its_grid_and_an_unknown_grid_is_dead_lettered(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str
) -> None:
    stray = received("HL-g2", grid="明仁社区第9网格")
    await produce(kafka, fresh_topic, received("HL-g1", grid="明仁社区第1网格"), stray)
    appeal = (await client.get(f"/v1/appeals/{await ours(client, 'HL-g1')}")).json()
    assert (appeal["community"], appeal["grid"]) == ("明仁社区", "明仁社区第1网格")
    assert appeal["history"][0]["data"]["grid"] == "明仁社区第1网格"
    [letter] = await read_topic(kafka.access(), dlq(fresh_topic), expect=1)
    detail = dict(letter.headers)["dlq.detail"].decode()
    assert "unknown grid" in detail
    assert "明仁社区第3网格" in detail  # the grids it could have been
