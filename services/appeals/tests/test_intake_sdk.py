"""Other systems publish with the official CloudEvents SDK through librdkafka, in both
content modes, with ids of their own: intake takes them, once per (source, id)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from minsheng import metrics, principals
from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import dlq
from testkit.integration.appeals import intake_appeal as appeal
from testkit.integration.apps import app_pool, appeals_client
from testkit.integration.helpers import eventually, read_topic
from testkit.integration.outsiders import publish, sdk_event

pytestmark = pytest.mark.integration

HOTLINE = "gov/jilin-12345"


@pytest.fixture
async def client(
    kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("MINSHENG_INTAKE_TOPIC", fresh_topic)
    monkeypatch.setenv("MINSHENG_INTAKE_GROUP", f"appeals-intake-{fresh_topic}")
    async with appeals_client(postgres.url, kafka.access()) as c:
        yield c


@pytest.fixture
async def hotline(kafka: KafkaBroker, fresh_topic: str) -> KafkaAccess:
    """The hotline's own principal, made as `minsheng-platform outside-system` makes one
    (it may write the intake topics only), and allowed this test's stand-in for one."""
    access = await principals.add_outside_system(kafka.access(), f"hotline-{fresh_topic}")
    await principals.grant(
        kafka.access(), access.username, principals.Grants(writes=(fresh_topic,))
    )
    return access


async def taken(client: httpx.AsyncClient, subject: str) -> str:
    """Our appeal id for the hotline's subject, once intake has taken it."""
    pool = app_pool(client)
    sql = "SELECT appeal_id FROM intake_appeals WHERE source = $1 AND subject = $2"
    found = await eventually(
        lambda: pool.fetchval(sql, HOTLINE, subject), lambda a: a is not None, what=subject
    )
    return str(found)


async def test_both_modes_with_ids_of_their_own_and_no_sequence(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, hotline: KafkaAccess
) -> None:
    structured = sdk_event(appeal("SDK-1"), id="hl-2019-000001", source=HOTLINE, subject="SDK-1")
    binary = sdk_event(appeal("SDK-2"), id="hl-2019-000002", source=HOTLINE, subject="SDK-2")
    await publish(hotline, fresh_topic, ("structured", structured), ("binary", binary))

    for subject, event_id in (("SDK-1", "hl-2019-000001"), ("SDK-2", "hl-2019-000002")):
        appeal_id = await taken(client, subject)
        body = (await client.get(f"/v1/appeals/{appeal_id}")).json()
        assert body["status"] == "dispatched"
        assert body["title"] == "路灯不亮"
        seen = await app_pool(client).fetchval(
            "SELECT appeal_id FROM intake_seen WHERE source = $1 AND event_id = $2",
            HOTLINE,
            event_id,
        )
        assert seen == appeal_id


async def test_the_same_source_and_id_in_either_mode_applies_once(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, hotline: KafkaAccess
) -> None:
    event = sdk_event(appeal("SDK-3"), id="hl-2019-000003", source=HOTLINE, subject="SDK-3")
    last = sdk_event(appeal("SDK-4"), id="hl-2019-000004", source=HOTLINE, subject="SDK-4")
    await publish(
        hotline,
        fresh_topic,
        ("binary", event),
        ("structured", event),
        ("binary", event),
        ("binary", last),
        key=b"hotline",
    )
    await taken(client, "SDK-4")  # the last one is in: so are the three before it
    pool = app_pool(client)
    assert await pool.fetchval("SELECT count(*) FROM appeals") == 2
    assert await pool.fetchval("SELECT count(*) FROM intake_seen") == 2
    dead = metrics.DEAD_LETTERS.labels("appeals", fresh_topic, "bad_envelope")._value.get()
    assert dead == 0


async def test_a_bad_binary_event_is_dead_lettered_with_the_header_to_fix(
    client: httpx.AsyncClient, kafka: KafkaBroker, fresh_topic: str, hotline: KafkaAccess
) -> None:
    no_subject = sdk_event(appeal("SDK-5"), id="hl-2019-000005", source=HOTLINE, subject=None)
    await publish(
        hotline,
        fresh_topic,
        ("binary", no_subject),
        ("binary", sdk_event(appeal("SDK-6"), source=HOTLINE, subject="SDK-6")),
        key=b"hotline",
    )
    await taken(client, "SDK-6")
    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=1)
    headers = dict(letters[0].headers)
    assert headers["dlq.reason"] == b"bad_envelope"
    assert b"ce_subject: Field required" in headers["dlq.detail"]
    assert headers["ce_id"] == b"hl-2019-000005"  # the original headers are kept to resend
    assert json.loads(letters[0].value)["appeal_id"] == "SDK-5"  # the data, unchanged
