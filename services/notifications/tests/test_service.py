"""The service starts, migrates its database and answers the platform routes; refuses
to start on a bad rules file; its keys CLI; its worker shares work and resumes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from minsheng import auth
from minsheng.db import open_database
from minsheng.events import CloudEvent
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.settings import Settings
from notifications.fanout import plan
from notifications.main import MIGRATIONS, SERVICE
from notifications.quiet import QuietHours
from notifications.settings import RULES_FILE
from notifications.store import deliveries
from testkit.integration.apps import app_pool, notifications_client
from testkit.integration.helpers import eventually, run_module
from testkit.integration.notifications import Hook, Sink, World, world
from testkit.unit.notifications import (
    DISPATCHED,
    RECEIVED,
    SAMPLES,
    default_rules,
    directory,
    envelope,
    remembered,
)

pytestmark = pytest.mark.integration


async def test_starts_and_answers_health(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    async with notifications_client(postgres.url, kafka.access(), data_dir=tmp_path) as client:
        assert (await client.get("/healthz")).json() == {
            "status": "ok",
            "service": "notifications",
        }
        assert (await client.get("/readyz")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {
            "/v1/alertmanager",
            "/v1/deliveries",
            "/v1/deliveries/{delivery_id}",
            "/v1/deliveries/{delivery_id}/retry",
            "/v1/deliveries/{delivery_id}/ack",
        } <= set(paths)
    assert (tmp_path / "webhook-secrets.json").exists()


async def test_a_bad_rules_file_refuses_to_start_naming_the_rule(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(RULES_FILE.read_text().replace("channels: [sms]", "channels: [fax]", 1))
    code, _, err = await run_module(
        "notifications.main",
        env={
            "MINSHENG_NOTIFICATIONS_RULES_FILE": str(bad),
            "MINSHENG_DATA_DIR": str(tmp_path),
        },
    )
    assert code == 2
    assert "rule 'extended-to-citizen'" in err
    assert "field 'channels'" in err


async def test_a_created_key_opens_the_notifications_database(postgres: PostgresServer) -> None:
    suffix = f"_k{uuid.uuid4().hex[:10]}"
    env = {"MINSHENG_DATABASE_URL": postgres.url, "MINSHENG_DATABASE_SUFFIX": suffix}
    code, key, _ = await run_module(
        "notifications.keys", "create", "--role", "system", "--name", "alertmanager", env=env
    )
    assert code == 0
    dsn = Settings(database_url=postgres.url, database_suffix=suffix).database_for(SERVICE)
    conn = await asyncpg.connect(dsn)
    try:
        assert await auth.lookup(conn, key) == auth.Principal("alertmanager", "system", None)
    finally:
        await conn.close()


async def test_two_workers_never_claim_the_same_delivery(database: str) -> None:
    pool = await open_database(database, SERVICE, MIGRATIONS)
    try:
        now = datetime.now(UTC)
        planned = []
        for name, data in SAMPLES.items():
            if name.startswith("AppealResolved") or name.startswith("AppealExtended"):
                continue
            planned += plan(
                envelope(data), data, remembered(data), default_rules(), directory(),
                now=now, quiet=QuietHours(),
            )  # fmt: skip
        async with pool.acquire() as conn, conn.transaction():
            await deliveries.insert_deliveries(conn, planned, now)
        claims = await asyncio.gather(
            *(deliveries.claim_due(pool, now, 3, 60.0) for _ in range(12))
        )
        ids = [due.id for claim in claims for due in claim]
        assert len(ids) == len(set(ids)) == len(planned)
        assert await deliveries.claim_due(pool, now, 100, 60.0) == []  # leased
        # a lease is real time: a platform clock days ahead (a compressed demo) ends none
        assert await deliveries.claim_due(pool, now + timedelta(days=10), 100, 60.0) == []
    finally:
        await pool.close()


async def _dispatch_planned(pool: asyncpg.Pool, now: datetime) -> list[Any]:
    """The deliveries of a dispatch, inserted: due at `now`."""
    data = SAMPLES["AppealDispatched"]
    planned = plan(
        envelope(data), data, remembered(data), default_rules(), directory(),
        now=now, quiet=QuietHours(),
    )  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        await deliveries.insert_deliveries(conn, planned, now)
    return planned


async def test_a_lease_runs_out_on_the_database_clock(database: str) -> None:
    pool = await open_database(database, SERVICE, MIGRATIONS)
    try:
        now = datetime.now(UTC)
        planned = await _dispatch_planned(pool, now)
        first = await deliveries.claim_due(pool, now, 100, 0.2)
        assert len(first) == len(planned) > 0
        again = await eventually(
            lambda: deliveries.claim_due(pool, datetime.now(UTC), 100, 60.0),
            bool,
            what="lease ran out",
        )
        assert {d.id for d in again} == {d.id for d in first}
    finally:
        await pool.close()


async def test_an_attempt_recorded_twice_is_recorded_once(database: str) -> None:
    """Two workers that both sent attempt n (the first one's lease ran out): the second
    record is left out, and the rest of its batch is recorded all the same."""
    pool = await open_database(database, SERVICE, MIGRATIONS)
    try:
        now = datetime.now(UTC)
        await _dispatch_planned(pool, now)
        claimed = await deliveries.claim_due(pool, now, 100, 60.0)
        assert len(claimed) >= 2
        one, other = claimed[0], claimed[1]
        sent = deliveries.AttemptRecord(1, now, "delivered", 200, None, 3, "delivered", None)
        async with pool.acquire() as conn, conn.transaction():
            assert await deliveries.record_attempts(conn, [(one, sent)]) == {one.id}
        async with pool.acquire() as conn, conn.transaction():
            recorded = await deliveries.record_attempts(conn, [(one, sent), (other, sent)])
        assert recorded == {other.id}
        rows = await pool.fetch(
            "SELECT delivery_id, count(*) AS n FROM attempts GROUP BY delivery_id"
        )
        assert {r["delivery_id"]: r["n"] for r in rows} == {one.id: 1, other.id: 1}
    finally:
        await pool.close()


HOUSING_WEBHOOK = (
    "SELECT {} FROM deliveries WHERE recipient = 'unit-housing' AND channel = 'webhook'"
)


async def test_a_restart_resumes_a_delivery_that_was_backing_off(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async def first(w: World) -> None:
        w.sink.script["/hooks/unit-housing"] = [503]
        await w.publish(*_dispatch())
        pool = app_pool(w.client)
        await eventually(
            lambda: pool.fetchval(HOUSING_WEBHOOK.format("attempts")), lambda n: n == 1
        )

    sink = await _restarted(
        tmp_path, postgres, kafka, fresh_topic, first, {"retry_base": 2.0, "retry_max": 2.0}
    )
    calls = [h for h in sink.hooks if h.recipient == "unit-housing"]
    assert len(calls) == 2
    assert calls[0].webhook_id == calls[1].webhook_id


async def test_stopping_mid_attempt_leaves_the_delivery_due_for_the_next_instance(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async def first(w: World) -> None:
        # long enough that the stop, however slow, comes before the answer: an answer
        # got before it is written and never sent again
        w.sink.delays["/hooks/unit-housing"] = 10.0
        await w.publish(*_dispatch())
        await eventually(
            lambda: _hooks(w.sink.hooks, "unit-housing"), lambda n: n == 1, what="in flight"
        )

    # attempts leased for 65 s: only a release makes the delivery due within 15 s
    sink = await _restarted(
        tmp_path, postgres, kafka, fresh_topic, first, {"attempt_timeout": 30.0}, timeout=15
    )
    assert await _hooks(sink.hooks, "unit-housing") == 2


def _dispatch() -> list[CloudEvent]:
    return [envelope(e, i, datetime.now(UTC)) for i, e in enumerate((RECEIVED, DISPATCHED), 1)]


async def _restarted(
    tmp_path: Path,
    postgres: PostgresServer,
    kafka: KafkaBroker,
    topic: str,
    first: Callable[[World], Awaitable[None]],
    settings: dict[str, Any],
    timeout: float = 30,
) -> Sink:
    """Runs `first` on one instance, then starts another on its database, group and sink
    and waits until it delivered the housing bureau's webhook; returns the sink."""
    async with world(tmp_path, postgres.url, kafka.access(), [topic], **settings) as w:
        await first(w)
        suffix = w.client.app.state.runtime.settings.database_suffix  # type: ignore[attr-defined]
        group, sink = w.settings["consumer_group"], w.sink
    sink.delays.clear()
    async with world(
        tmp_path,
        postgres.url,
        kafka.access(),
        [topic],
        database_suffix=suffix,
        group=group,
        sink=sink,
        **settings,
    ) as again:
        pool = app_pool(again.client)
        await eventually(
            lambda: pool.fetchval(HOUSING_WEBHOOK.format("status")),
            lambda status: status == "delivered",
            timeout=timeout,
            what="delivered by the next instance",
        )
    return sink


async def _hooks(hooks: list[Hook], recipient: str) -> int:
    return sum(h.recipient == recipient for h in hooks)
