"""POST /v1/appeals (receive and auto-dispatch) through the real app, database and broker."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest

from minsheng.events import CATALOGUE, AppealDispatched, AppealReceived
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.apps import app_pool, appeals_client
from testkit.integration.helpers import eventually

pytestmark = pytest.mark.integration

APPEAL = {
    "title": "小区下水道堵塞",
    "description": "明仁社区3号楼下水道堵塞三天",
    "category": "help",
    "district": "洮北区",
    "street": "明仁街道",
    "community": "明仁社区",
    "channel": "hotline",
    "phone": "13812345678",
}


async def outbox_rows(client: httpx.AsyncClient) -> list[dict[str, object]]:
    pool = app_pool(client)
    return [dict(r) for r in await pool.fetch("SELECT * FROM outbox ORDER BY id")]


async def test_receiving_an_appeal_stores_it_and_dispatches_it_by_the_rules(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["sequence"] == 2
    assert body["unit"] == "明仁街道办事处"  # the street's rule beats the district's
    assert body["deadline"] is not None
    assert body["allowed_actions"] == ["accept", "return", "close"]
    assert [h["type"] for h in body["history"]] == [
        "minsheng.AppealReceived.v1",
        "minsheng.AppealDispatched.v1",
    ]
    assert response.headers["location"] == f"/v1/appeals/{body['id']}"
    assert "phone" not in body
    fetched = await client.get(f"/v1/appeals/{body['id']}")
    assert fetched.json()["community"] == "明仁社区"
    assert fetched.json()["history"] == body["history"]
    rows = await outbox_rows(client)
    assert [r["sequence"] for r in rows] == [1, 2]
    received = CATALOGUE.parse(rows[0]["payload"])  # type: ignore[arg-type]
    assert isinstance(received.data, AppealReceived)
    assert received.envelope.subject == body["id"]
    assert received.data.phone_masked == "138****5678"
    dispatched = CATALOGUE.parse(rows[1]["payload"])  # type: ignore[arg-type]
    assert isinstance(dispatched.data, AppealDispatched)
    assert dispatched.data.dispatched_by == "router"
    assert dispatched.data.unit == "明仁街道办事处"
    assert dispatched.data.deadline == datetime.fromisoformat(body["deadline"])
    assert "13812345678" not in str(rows), "no full phone number in events"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"district": "火星区"}, "district"),
        ({"channel": "pigeon"}, "channel"),
        ({"title": ""}, "title"),
        ({"phone": "call me"}, "phone"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, str], field: str
) -> None:
    response = await client.post("/v1/appeals", json={**APPEAL, **change})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in problem["detail"]
    assert await outbox_rows(client) == []


async def test_an_unknown_street_is_a_422_listing_the_valid_places(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/appeals", json={**APPEAL, "street": "不存在街道"})
    assert response.status_code == 422
    assert "明仁街道" in response.json()["valid"]["洮北区"]


async def test_an_appeal_may_name_its_grid_and_an_unknown_grid_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/appeals", json={**APPEAL, "grid": "明仁社区第2网格"})
    assert response.status_code == 201, response.text
    fetched = (await client.get(f"/v1/appeals/{response.json()['id']}")).json()
    assert (fetched["community"], fetched["grid"]) == ("明仁社区", "明仁社区第2网格")
    [received, _] = await outbox_rows(client)
    event = CATALOGUE.parse(received["payload"])  # type: ignore[arg-type]
    assert isinstance(event.data, AppealReceived)
    assert event.data.grid == "明仁社区第2网格"
    unknown = await client.post("/v1/appeals", json={**APPEAL, "grid": "明仁社区第9网格"})
    assert unknown.status_code == 422
    assert "明仁社区第3网格" in unknown.json()["detail"]


async def test_missing_or_unknown_keys_are_401_problems(client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/v1/appeals", json=APPEAL, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = await client.post("/v1/appeals", json=APPEAL, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "unknown or revoked API key"


async def test_unknown_appeal_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/appeals/BC000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_concurrent_posts_with_one_idempotency_key_create_one_appeal(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "hotline-call-42"}
    responses = await asyncio.gather(
        *(client.post("/v1/appeals", json=APPEAL, headers=headers) for _ in range(100))
    )
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await outbox_rows(client)) == 2  # received and dispatched, once


async def test_concurrent_receipts_share_transactions_yet_each_gets_its_own_answer(
    client: httpx.AsyncClient,
) -> None:
    """Plain, keyed (each key twice) and unknown-place POSTs at once, so batches mix them:
    every 201 is exactly what GET reads back, each key makes one appeal, and a bad place
    in a batch spoils nothing else."""
    plain = [client.post("/v1/appeals", json={**APPEAL, "title": f"t{i}"}) for i in range(10)]
    keyed = [
        client.post(
            "/v1/appeals", json={**APPEAL, "title": f"k{i}"}, headers={"Idempotency-Key": f"k{i}"}
        )
        for i in range(10)
        for _ in range(2)
    ]
    unknown = [
        client.post("/v1/appeals", json={**APPEAL, "street": "不存在街道"}) for _ in range(5)
    ]
    responses = await asyncio.gather(*plain, *keyed, *unknown)
    plain_r, keyed_r, unknown_r = responses[:10], responses[10:30], responses[30:]
    assert [r.status_code for r in unknown_r] == [422] * 5
    assert [r.status_code for r in plain_r] == [201] * 10
    for first, second in zip(keyed_r[::2], keyed_r[1::2], strict=True):
        assert sorted([first.status_code, second.status_code]) == [200, 201]
        assert first.json()["id"] == second.json()["id"]
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 20
    for response in created:
        assert (await client.get(response.headers["location"])).json() == response.json()
    rows = await outbox_rows(client)
    assert len(rows) == 2 * 20
    assert {r["aggregate_id"] for r in rows} == {r.json()["id"] for r in created}


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "kafka": True}
    await client.post("/v1/appeals", json=APPEAL)
    text = (await client.get("/metrics")).text
    assert 'minsheng_http_request_duration_seconds_count{method="POST",route="/v1/appeals"' in text
    assert "minsheng_outbox_pending" in text


async def test_kafka_down_the_api_keeps_answering_and_every_event_arrives_later(
    private_kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    from minsheng.topics import APPEALS
    from testkit.integration.helpers import read_topic

    async with appeals_client(postgres.url, private_kafka.access()) as client:
        await private_kafka.stop()
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"] is False
        responses = [await client.post("/v1/appeals", json=APPEAL) for _ in range(20)]
        assert [r.status_code for r in responses] == [201] * 20
        ids = {r.json()["id"] for r in responses}
        assert len(await outbox_rows(client)) == 40  # received and dispatched each

        await private_kafka.start()
        records = await read_topic(private_kafka.access(), APPEALS, expect=40, timeout=90)
        assert {json.loads(r.value)["subject"] for r in records} == ids

        async def unpublished() -> int:
            return sum(1 for r in await outbox_rows(client) if r["published_at"] is None)

        await eventually(unpublished, lambda n: n == 0, timeout=30, what="outbox drained")
