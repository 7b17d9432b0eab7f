"""The batch statements of the notifications store against the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from minsheng.db import open_database
from notifications.main import MIGRATIONS
from notifications.memory import Subject
from notifications.store import subjects

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await open_database(database, "notifications", MIGRATIONS)
    yield p
    await p.close()


async def test_subjects_are_written_and_read_back_a_batch_at_a_time(pool: asyncpg.Pool) -> None:
    """Arrays of units travel as JSON inside the batch: names with quotes, commas, braces
    and backslashes come back as they were."""
    odd = ('市"住建"局', "a,b", "{c}", "back\\slash", "")
    written = [
        Subject("appeal", "A1", unit="市住建局", assisting_units=odd, title="路灯"),
        Subject(
            "appeal",
            "A2",
            deadline=datetime(2026, 12, 3, tzinfo=UTC),
            grid="洮北区/长庆街道/百福社区/百福社区第2网格",
        ),
        Subject("project", "P1", secretary_name="书记1"),
    ]
    async with pool.acquire() as conn, conn.transaction():
        await subjects.save_subjects(conn, written)
    async with pool.acquire() as conn, conn.transaction():
        found = await subjects.subjects(
            conn, [("appeal", "A1"), ("appeal", "A2"), ("project", "P1"), ("appeal", "new")]
        )
        moved = [Subject("appeal", "A1", unit="市城管局")]
        await subjects.save_subjects(conn, moved)
        await subjects.save_subjects(conn, [])
    assert [found[s.kind, s.id] for s in written] == written
    assert found["appeal", "new"] == Subject("appeal", "new")
    async with pool.acquire() as conn, conn.transaction():
        again = await subjects.subjects(conn, [("appeal", "A1")])
    assert again["appeal", "A1"] == Subject("appeal", "A1", unit="市城管局")
