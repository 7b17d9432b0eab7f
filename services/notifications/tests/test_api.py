"""The deliveries API: lists and cursors, one delivery with its attempts, an operator's
retry of a failed delivery, endpoints disabled by 410, and the metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minsheng.events import CATALOGUE, NotificationDelivered, NotificationFailed
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import NOTIFICATIONS
from testkit.integration.apps import grant
from testkit.integration.helpers import eventually, read_topic
from testkit.integration.notifications import World, world
from testkit.unit.notifications import APPEAL, DISPATCHED, ESCALATED, RECEIVED, envelope

pytestmark = pytest.mark.integration


def event(data: Any, sequence: int) -> Any:
    return envelope(data, sequence, datetime.now(UTC))


async def listed(w: World, **filters: Any) -> list[dict[str, Any]]:
    response = await w.client.get("/v1/deliveries", params=filters)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def one(w: World, delivery_id: str) -> dict[str, Any]:
    return dict((await w.client.get(f"/v1/deliveries/{delivery_id}")).json())


async def test_listing_filtering_and_paging(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        await w.publish(event(RECEIVED, 1), event(DISPATCHED, 2), event(ESCALATED["overdue"], 3))
        everything = await eventually(
            lambda: listed(w), lambda items: len(items) == 8, what="8 deliveries"
        )
        assert len(await listed(w, channel="email")) == 4
        assert len(await listed(w, event_type="AppealEscalated")) == 4
        assert len(await listed(w, recipient="office-supervision")) == 2
        assert len(await listed(w, appeal_id=APPEAL)) == 8
        assert await listed(w, appeal_id="BC-other") == []
        assert await listed(w, since="2999-01-01T00:00:00Z") == []

        seen, cursor = [], None
        while True:
            page = (
                await w.client.get(
                    "/v1/deliveries", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
                )
            ).json()
            seen += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [d["id"] for d in everything]

        bad = await w.client.get("/v1/deliveries", params={"cursor": "nonsense"})
        assert bad.status_code == 422
        assert (await w.client.get("/v1/deliveries", params={"status": "lost"})).status_code == 422
        assert (await w.client.get("/v1/deliveries/ntf_none")).status_code == 404

        housing = await grant(w.client, "unit", "市住建局")
        mine = (await w.client.get("/v1/deliveries", headers=housing)).json()["items"]
        assert {d["recipient"] for d in mine} == {"unit-housing"}
        other = next(d for d in everything if d["recipient"] != "unit-housing")
        hidden = await w.client.get(f"/v1/deliveries/{other['id']}", headers=housing)
        assert hidden.status_code == 404
        viewer = await grant(w.client, "viewer")
        assert (
            await w.client.post(f"/v1/deliveries/{other['id']}/retry", headers=viewer)
        ).status_code == 403

        metrics = (await w.client.get("/metrics")).text
        for name in (
            "minsheng_notifications_total",
            "minsheng_notification_attempts_total",
            "minsheng_notification_delivery_seconds_bucket",
            "minsheng_events_processed_total",
        ):
            assert name in metrics


async def test_a_failed_delivery_retried_by_an_operator_is_delivered(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        w.sink.script["/hooks/unit-housing"] = [400]
        await w.publish(event(RECEIVED, 1), event(DISPATCHED, 2))
        (hook,) = await eventually(
            lambda: listed(w, recipient="unit-housing", channel="webhook"),
            lambda items: len(items) == 1 and items[0]["status"] == "failed",
            what="failed at the first 400",
        )
        assert (await one(w, hook["id"]))["attempts"][0]["response_code"] == 400
        retried = await w.client.post(f"/v1/deliveries/{hook['id']}/retry")
        assert retried.status_code == 200, retried.text
        await eventually(
            lambda: one(w, hook["id"]), lambda d: d["status"] == "delivered", what="retried"
        )
        again = await w.client.post(f"/v1/deliveries/{hook['id']}/retry")
        assert again.status_code == 409
        key = hook["id"].encode()
        records = await read_topic(
            kafka.access(),
            NOTIFICATIONS,
            until=lambda rs: sum(r.key == key for r in rs) >= 2,
        )
        outcomes = [CATALOGUE.parse(r.value) for r in records if r.key == key]
        assert [type(o.data) for o in outcomes] == [NotificationFailed, NotificationDelivered]
        assert [o.envelope.sequence for o in outcomes] == [1, 2]


async def test_an_endpoint_that_answers_410_is_disabled(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        w.sink.script["/hooks/unit-housing"] = [410]
        await w.publish(event(RECEIVED, 1), event(DISPATCHED, 2))
        await eventually(
            lambda: listed(w, recipient="unit-housing", channel="webhook", status="failed"),
            lambda items: len(items) == 1,
        )
        await w.publish(event(ESCALATED["reminder"], 3))
        found = await eventually(
            lambda: listed(
                w, recipient="unit-housing", channel="webhook", event_type="AppealEscalated"
            ),
            lambda items: [d["status"] for d in items if d["channel"] == "webhook"] == ["failed"],
            what="the reminder failed unsent",
        )
        (later,) = [d for d in found if d["channel"] == "webhook"]
        (attempt,) = (await one(w, later["id"]))["attempts"]
        assert attempt["result"] == "disabled"
        assert len([h for h in w.sink.hooks if h.recipient == "unit-housing"]) == 1
