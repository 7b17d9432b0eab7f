"""The service end to end in-process, against real Kafka, PostgreSQL, HTTP and SMTP:
domain events in, signed webhooks, e-mail and SMS out, outcomes on Kafka."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from minsheng.clock import CITY_TZ
from minsheng.events import CATALOGUE, NotificationDelivered
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import NOTIFICATIONS, dlq
from testkit.integration.apps import app_pool
from testkit.integration.helpers import eventually, publish_values, read_topic
from testkit.integration.notifications import PHONE, RunningClock, World, world
from testkit.unit.events import FORGER
from testkit.unit.notifications import (
    CONTACT,
    DISPATCHED,
    ESCALATED,
    EXTENDED,
    IN_GRID,
    RECEIVED,
    RESOLVED,
    envelope,
)

pytestmark = pytest.mark.integration
HOUSING = "/hooks/unit-housing"


async def deliveries(w: World, **filters: str) -> list[dict[str, Any]]:
    response = await w.client.get("/v1/deliveries", params=filters)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def finished(w: World, expected: int) -> list[dict[str, Any]]:
    return await eventually(
        lambda: deliveries(w),
        lambda items: len(items) >= expected and all(d["status"] != "pending" for d in items),
        what=f"{expected} deliveries finished",
    )


async def _value(found: float | None) -> float:
    return found or 0.0


def now_event(data: Any, sequence: int) -> Any:
    return envelope(data, sequence, datetime.now(UTC))


async def test_a_webhook_answered_500_500_200_is_one_delivery_of_three_attempts(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        w.sink.script[HOUSING] = [500, 500, 200]
        await w.publish(now_event(RECEIVED, 1), now_event(DISPATCHED, 2))
        done = await finished(w, 4)  # lead and co-handling unit, webhook and e-mail each
        assert {d["status"] for d in done} == {"delivered"}
        (hook,) = [
            d for d in done if d["recipient"] == "unit-housing" and d["channel"] == "webhook"
        ]
        detail = (await w.client.get(f"/v1/deliveries/{hook['id']}")).json()
        assert [a["response_code"] for a in detail["attempts"]] == [500, 500, 200]
        assert [a["result"] for a in detail["attempts"]] == ["retry", "retry", "delivered"]
        calls = [h for h in w.sink.hooks if h.recipient == "unit-housing"]
        assert len(calls) == 3
        assert {h.webhook_id for h in calls} == {hook["id"]}  # stable across retries
        assert all(h.signature_valid for h in w.sink.hooks)
        assert calls[0].body["event"]["subject"] == RECEIVED.appeal_id

        records = await read_topic(
            kafka.access(),
            NOTIFICATIONS,
            until=lambda rs: any(hook["id"].encode() == r.key for r in rs),
        )
        outcomes = [CATALOGUE.parse(r.value) for r in records if r.key == hook["id"].encode()]
        assert len(outcomes) == 1
        assert isinstance(outcomes[0].data, NotificationDelivered)
        assert outcomes[0].data.attempts == 3
        assert outcomes[0].data.recipient == "unit:unit-housing"

        # the real SMTP server got the rendered e-mail
        mail = next(m for m in w.mailbox.messages if m["To"] == "housing@baicheng.example")
        assert RECEIVED.appeal_id in str(mail["Subject"])
        assert "剩余" in mail.get_content()


async def test_the_whole_topic_delivered_again_sends_nothing_twice(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    events = [now_event(RECEIVED, 1), now_event(DISPATCHED, 2), now_event(EXTENDED, 3)]
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        w.sink.phones[CONTACT] = PHONE
        await w.publish(*events)
        first = await finished(w, 5)
        await w.publish(*events)  # redelivered as they are: the sequence guard drops them
        labels = {"service": "notifications", "topic": fresh_topic}
        await eventually(
            lambda: _value(REGISTRY.get_sample_value("minsheng_events_duplicate_total", labels)),
            lambda n: n == 3,
            what="the redelivered events dropped",
        )
        sent = (len(w.sink.hooks), len(w.sink.sms), len(w.mailbox.messages))
        suffix = w.client.app.state.runtime.settings.database_suffix  # type: ignore[attr-defined]
        sink = w.sink
    # the same database, a new consumer group: the whole topic again, from the start
    async with world(
        tmp_path, postgres.url, kafka.access(), [fresh_topic], database_suffix=suffix, sink=sink
    ) as again:
        pool = app_pool(again.client)
        group = again.settings["consumer_group"]
        await eventually(
            lambda: pool.fetchval(
                "SELECT count(*) FROM applied_sequences WHERE consumer = $1", group
            ),
            lambda n: n == 1,
            what="the new group applied the topic",
        )
        await eventually(
            lambda: pool.fetchval(
                "SELECT max(sequence) FROM applied_sequences WHERE consumer = $1", group
            ),
            lambda n: n == 3,
        )
        assert len(await deliveries(again)) == len(first)
        assert (len(sink.hooks), len(sink.sms)) == sent[:2]


async def test_a_poison_event_goes_to_the_dead_letters_and_the_consumer_goes_on(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        await publish_values(kafka.access(), fresh_topic, [b"{not json", b'{"specversion": "1.0"}'])
        await w.publish(now_event(RECEIVED, 1), now_event(DISPATCHED, 2))
        await finished(w, 4)
        dead = await read_topic(kafka.access(), dlq(fresh_topic), expect=2)
        assert sorted(dict(r.headers)["dlq.reason"] for r in dead) == [b"bad_envelope", b"bad_json"]
        assert all(dict(r.headers)["dlq.service"] == b"notifications" for r in dead)


async def test_a_forged_source_on_the_appeals_topic_is_dead_lettered_and_sends_nothing(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    """The appeals topic is the appeals service's: the same events under another source
    (before the real ones, on their partition) are set aside, and only the real ones send."""
    real = [now_event(RECEIVED, 1), now_event(DISPATCHED, 2)]
    fakes = [e.model_copy(update={"source": FORGER, "id": str(uuid.uuid4())}) for e in real]
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        await w.publish(*fakes, *real, topic=fresh_topic)  # fresh_topic is the appeals topic
        dead = await read_topic(kafka.access(), dlq(fresh_topic), expect=2)
        assert [dict(r.headers)["dlq.reason"] for r in dead] == [b"foreign_source"] * 2
        assert FORGER.encode() in dict(dead[0].headers)["dlq.detail"]
        assert len(await finished(w, 4)) == 4  # the real events' deliveries, not twice
        assert {d["event_id"] for d in await deliveries(w)} <= {e.id for e in real}


async def test_an_sms_reaches_the_citizen_and_no_number_stays_behind(
    tmp_path: Path,
    kafka: KafkaBroker,
    postgres: PostgresServer,
    fresh_topic: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        w.sink.phones[CONTACT] = PHONE
        await w.publish(now_event(RECEIVED, 1), now_event(DISPATCHED, 2), now_event(EXTENDED, 3))
        done = await finished(w, 5)
        (sms,) = [d for d in done if d["channel"] == "sms"]
        assert sms["status"] == "delivered"
        assert sms["recipient"] == "139****5678"
        (sent,) = w.sink.sms
        assert sent["to"] == PHONE
        assert sent["reference"] == sms["id"]
        assert EXTENDED.reason in sent["text"]
        assert sent["auth"] == "Bearer dev-sms-token"
        (lookup,) = w.sink.lookups
        assert lookup["purpose"] == f"notification {sms['id']}"

        pool = app_pool(w.client)
        tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for table in tables:
            dump = await pool.fetchval(
                f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table['tablename']} t"
            )
            assert PHONE not in dump, table["tablename"]
        records = await read_topic(
            kafka.access(),
            NOTIFICATIONS,
            until=lambda rs: any(r.key == sms["id"].encode() for r in rs),
        )
        assert all(PHONE.encode() not in (r.value or b"") for r in records)
    assert PHONE not in caplog.text
    assert all(PHONE not in str(r.args) for r in caplog.records)


async def test_quiet_hours_hold_the_citizens_sms_until_morning(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    clock = RunningClock(datetime(2026, 12, 3, 22, 30, tzinfo=CITY_TZ))
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic], clock=clock) as w:
        w.sink.phones[CONTACT] = PHONE
        await w.publish(now_event(RECEIVED, 1), now_event(DISPATCHED, 2), now_event(RESOLVED, 3))
        await eventually(
            lambda: deliveries(w, channel="sms"), lambda items: len(items) == 1, what="sms planned"
        )
        units = await eventually(
            lambda: deliveries(w, channel="webhook"),
            lambda items: len(items) == 2 and all(d["status"] == "delivered" for d in items),
            what="the units told at night",
        )
        assert units
        (sms,) = await deliveries(w, channel="sms")
        assert sms["status"] == "pending"
        assert sms["deferred_until"] == "2026-12-04T00:00:00Z"  # 08:00 city time
        assert w.sink.sms == []
        clock.advance(hours=9, minutes=31)  # 08:01 city
        await eventually(
            lambda: deliveries(w, channel="sms"),
            lambda items: items[0]["status"] == "delivered",
            what="sms sent in the morning",
        )
        assert len(w.sink.sms) == 1
        body = json.dumps(w.sink.sms[0], ensure_ascii=False)
        assert "回访" in body


async def test_a_retry_to_a_citizen_that_falls_in_quiet_hours_waits_for_morning(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    clock = RunningClock(datetime(2026, 12, 3, 20, 0, tzinfo=CITY_TZ))
    async with world(
        tmp_path,
        postgres.url,
        kafka.access(),
        [fresh_topic],
        clock=clock,
        retry_base=3600.0,
        retry_max=3600.0,
    ) as w:
        w.sink.phones[CONTACT] = PHONE
        w.sink.script["/sms"] = [503]
        await w.publish(now_event(RECEIVED, 1), now_event(RESOLVED, 2))
        await eventually(  # recorded, not only received: its backoff counts from 20:00
            lambda: deliveries(w, channel="sms"),
            lambda items: bool(items) and items[0]["attempts"] == 1,
            what="first attempt recorded",
        )
        assert len(w.sink.sms) == 1
        clock.advance(hours=2)  # the retry comes due at 22:00, in the quiet hours
        (sms,) = await eventually(
            lambda: deliveries(w, channel="sms"),
            lambda items: items[0]["deferred_until"] == "2026-12-04T00:00:00Z",
            what="the retry held until 08:00",
        )
        assert (sms["status"], sms["attempts"]) == ("pending", 1)
        clock.advance(hours=10)
        await eventually(
            lambda: deliveries(w, channel="sms"),
            lambda items: items[0]["status"] == "delivered",
            what="delivered in the morning",
        )
        assert len(w.sink.sms) == 2


async def test_an_appeal_in_a_grid_mails_its_grid_chief_and_overdue_its_chain(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    chief = "tb-bf-002-grid-1@grids.baicheng.example"
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        await w.publish(
            now_event(IN_GRID, 1), now_event(DISPATCHED, 2), now_event(ESCALATED["overdue"], 3)
        )
        done = await finished(w, 4 + 1 + 2 + 2 + 3)  # units, grid chief; unit, centre, chain
        chiefs = [d for d in done if d["recipient_kind"] == "grid_chief"]
        assert {d["status"] for d in chiefs} == {"delivered"}
        assert sorted((d["recipient"], d["rule"]) for d in chiefs) == [
            ("tb-bf-002-grid-1", "dispatched-to-grid-chief"),
            ("tb-bf-002-grid-1", "overdue-to-grid-chain"),
            ("tb-bf-002-lane-1", "overdue-to-grid-chain"),
            ("tb-bf-002-street-1", "overdue-to-grid-chain"),
        ]
        to_chief = [m for m in w.mailbox.messages if m["To"] == chief]
        assert len(to_chief) == 2
        assert any("百福社区第2网格" in str(m["Subject"]) for m in to_chief)
        assert all(IN_GRID.appeal_id in str(m["Subject"]) for m in to_chief)
