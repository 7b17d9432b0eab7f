"""`make demo`, short: the simulated city on real services, its clock really compressed."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from minsheng.clock import DEMO_CLOCK_NAME
from minsheng.platform.kafka import DEV_OUTSIDE
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import BIN
from minsheng.settings import Settings
from minsheng.topics import INTAKE_APPEALS, dlq
from testkit.e2e.stack import Stack
from testkit.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("demo")
    clock = {"MINSHENG_DEMO_CLOCK_FILE": str(folder / "data" / DEMO_CLOCK_NAME)}
    async with Stack(folder, postgres.url, env=clock, also=("projects",)) as s:
        await s.wait_ready()
        yield s


async def test_a_simulated_day_in_seconds_moves_appeals_and_projects(stack: Stack) -> None:
    projects = stack.others["projects"]
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-demo"),
        *("--days", "1", "--speed", "7200", "--rate", "20", "--projects", "3"),
        *("--no-progress", "--appeals-url", stack.appeals.url),
        *("--projects-url", projects.url, "--analytics-url", stack.analytics.url),
        # the bad outside event goes out as an outside system, as a bureau's would
        env={**os.environ, **stack.env, **stack.kafka.access(DEV_OUTSIDE).env()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    took = time.monotonic() - started
    assert process.returncode == 0, out.decode()
    assert "镇赉县 was made to fall behind" in out.decode()

    settings = Settings(database_url=stack.env["MINSHENG_DATABASE_URL"])
    suffix = stack.env["MINSHENG_DATABASE_SUFFIX"]
    appeals = await _fetch(
        settings.database_for("appeals") + suffix,
        "SELECT min(received_at) AS first, max(received_at) AS last, count(*) AS n,"
        " count(*) FILTER (WHERE status = 'resolved') AS resolved,"
        " count(*) FILTER (WHERE rating IS NOT NULL) AS rated FROM appeals",
    )
    assert appeals["n"] > 20
    assert appeals["resolved"] > 0, out.decode()
    assert appeals["rated"] > 0, out.decode()
    # Hours of the city's time went by in the seconds the run took.
    assert appeals["last"] - appeals["first"] > timedelta(hours=3) > timedelta(seconds=took)
    claimed = await _fetch(
        settings.database_for("projects") + suffix,
        "SELECT count(*) AS n FROM projects",
    )
    assert claimed["n"] == 3
    letters = await read_topic(stack.kafka.access(), dlq(INTAKE_APPEALS), expect=1)
    assert letters[0].value == b'{"not": "a cloudevent"}'  # the bureau's bad event, kept
    await eventually(
        stack.counters,
        lambda c: c["city"]["received"] == appeals["n"],
        timeout=30,
        what="every demo appeal counted",
    )


async def _fetch(url: str, query: str) -> asyncpg.Record:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(query)
    finally:
        await conn.close()
    assert row is not None
    return row
