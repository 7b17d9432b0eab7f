"""End to end, services as real processes: HTTP 201 -> outbox -> Kafka -> Faust -> counter,
which equals the count in the appeals database."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import BIN
from minsheng.settings import Settings
from testkit.e2e.stack import Stack, random_appeals
from testkit.integration.helpers import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[Stack]:
    async with Stack(tmp_path_factory.mktemp("e2e"), postgres.url) as s:
        yield s


def expected(appeals: list[dict[str, str]]) -> Counter[tuple[str, str, str]]:
    return Counter((a["district"], a["category"], a["channel"]) for a in appeals)


async def test_200_appeals_are_counted_exactly_and_survive_a_kill_9(stack: Stack) -> None:
    appeals = random_appeals(200, seed=7)
    responses = await stack.post_all(appeals)
    assert [r.status_code for r in responses].count(201) == 200

    counters = await eventually(
        stack.counters,
        lambda c: c["city"]["received"] == 200,
        timeout=30,
        what="200 appeals counted",
    )
    per_district = Counter(a["district"] for a in appeals)
    assert {d: v["received"] for d, v in counters["districts"].items()} == per_district
    assert await stack.received_metric() == expected(appeals)

    stack.analytics.kill()  # SIGKILL: no clean shutdown, no final commit
    await stack.analytics.process.wait()
    stack.analytics = stack.service("analytics")
    await stack.analytics.start()
    await eventually(
        stack.received_metric,
        lambda m: m == expected(appeals),
        timeout=60,
        what="counters restored after kill -9",
    )

    more = random_appeals(50, seed=8)
    assert [r.status_code for r in await stack.post_all(more)].count(201) == 50
    await eventually(
        stack.received_metric,
        lambda m: m == expected(appeals + more),
        timeout=30,
        what="counting goes on after the restart",
    )
    assert await received_by_district(stack) == await appeals_database_by_district(stack)


async def received_by_district(stack: Stack) -> dict[str, int]:
    counters = await stack.counters()
    return {d: v["received"] for d, v in counters["districts"].items()}


async def appeals_database_by_district(stack: Stack) -> dict[str, int]:
    """The same figure, counted in the appeals service's own database."""
    conn = await asyncpg.connect(stack_settings(stack).database_for("appeals"))
    try:
        rows = await conn.fetch("SELECT district, count(*) AS n FROM appeals GROUP BY district")
    finally:
        await conn.close()
    return {row["district"]: row["n"] for row in rows}


async def test_a_poison_event_on_the_appeals_topic_is_dead_lettered_and_counting_goes_on(
    stack: Stack,
) -> None:
    from minsheng.topics import APPEALS, dlq
    from testkit.integration.helpers import read_topic

    before = sum((await stack.received_metric()).values())
    await stack.produce_raw(APPEALS, b"\x00not an event", key=b"X1")
    letters = await read_topic(stack.kafka.access(), dlq(APPEALS), expect=1)
    headers = dict(letters[0].headers)
    assert headers["dlq.reason"] == b"bad_json"
    assert headers["dlq.service"] == b"analytics"
    assert letters[0].value == b"\x00not an event"

    assert [r.status_code for r in await stack.post_all(random_appeals(5, seed=9))] == [201] * 5
    await eventually(
        stack.received_metric,
        lambda m: sum(m.values()) == before + 5,
        what="counting goes on after the poison message",
    )


async def test_after_the_appeals_flow_the_counters_are_the_appeals_database(stack: Stack) -> None:
    """Appeals taken through accept, resolve and call-backs over HTTP (one reopened by a
    dissatisfied call-back): every figure of /v1/counters that the appeals database also
    holds is the same, city-wide and per district."""
    system = await new_key(stack, "system")
    appeals = [r.json()["id"] for r in await stack.post_all(random_appeals(30, seed=10))]
    async with httpx.AsyncClient(base_url=stack.appeals.url, timeout=10) as client:

        async def act(appeal_id: str, action: str, key: str, **body: str) -> None:
            response = await client.post(
                f"/v1/appeals/{appeal_id}/{action}",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text

        for appeal_id in appeals[:20]:
            await act(appeal_id, "accept", system)
            await act(appeal_id, "resolve", system, resolution="修好了")
        for appeal_id, rating in zip(
            appeals[:12], ["satisfied", "basically_satisfied"] * 6, strict=True
        ):
            await act(appeal_id, "callback", stack.api_key, rating=rating)
        await act(appeals[12], "callback", stack.api_key, rating="dissatisfied", reason="handling")

    truth = await appeals_database_figures(stack)
    await eventually(
        stack.counters,
        lambda c: counters_figures(c) == truth,
        timeout=30,
        what="/v1/counters equal to the appeals database",
    )


FIGURES = ("received", "open", "resolved", "resolved_on_time", "called_back")


def counters_figures(counters: dict[str, Any]) -> dict[str, dict[str, int]]:
    """city and district -> the figures the appeals database can say too."""
    scopes = {"city": counters["city"], **counters["districts"]}
    return {scope: {f: figures[f] for f in FIGURES} for scope, figures in scopes.items()}


async def appeals_database_figures(stack: Stack) -> dict[str, dict[str, int]]:
    """The same figures, counted in the appeals service's own database."""
    conn = await asyncpg.connect(stack_settings(stack).database_for("appeals"))
    try:
        rows = await conn.fetch(
            """
            SELECT district,
                   count(*) AS received,
                   count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')) AS open,
                   count(*) FILTER (WHERE status = 'resolved') AS resolved,
                   count(*) FILTER (WHERE status = 'resolved' AND on_time) AS resolved_on_time,
                   count(*) FILTER (WHERE status = 'resolved' AND rating IS NOT NULL)
                       AS called_back
            FROM appeals GROUP BY district
            """
        )
    finally:
        await conn.close()
    districts = {row["district"]: {f: row[f] for f in FIGURES} for row in rows}
    city = {f: sum(d[f] for d in districts.values()) for f in FIGURES}
    return {"city": city, **districts}


def stack_settings(stack: Stack) -> Settings:
    return Settings(
        database_url=stack.env["MINSHENG_DATABASE_URL"],
        database_suffix=stack.env["MINSHENG_DATABASE_SUFFIX"],
    )


async def new_key(stack: Stack, role: str) -> str:
    """A key made as an operator makes one: the key CLI on the appeals database."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-appeals-keys"),
        "create",
        "--role",
        role,
        "--name",
        f"e2e {role}",
        env={**os.environ, **stack.env},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    return out.decode().strip()
