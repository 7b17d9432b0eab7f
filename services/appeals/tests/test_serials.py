"""Appeal numbers from blocks held in memory: unique across workers, one round trip a block."""

from __future__ import annotations

import asyncio

import pytest

from appeals.main import MIGRATIONS
from appeals.store.serials import SerialBlocks
from minsheng.db import open_database

pytestmark = pytest.mark.integration


async def test_two_workers_taking_numbers_at_once_never_share_one(database: str) -> None:
    pool = await open_database(database, "appeals", MIGRATIONS, max_size=8)
    try:
        workers = [SerialBlocks(block=7), SerialBlocks(block=5)]  # two processes' blocks

        async def take(blocks: SerialBlocks, n: int) -> list[int]:
            async with pool.acquire() as conn:
                return await blocks.take(conn, n)

        sizes = [1, 3, 8, 2, 5, 1, 13]  # some larger than a block
        taken = await asyncio.gather(
            *(take(blocks, n) for blocks in workers for _ in range(6) for n in sizes)
        )
        numbers = [number for batch in taken for number in batch]
        assert [len(batch) for batch in taken] == [
            n for _ in workers for _ in range(6) for n in sizes
        ]
        assert len(numbers) == len(set(numbers)), "a number handed out twice"
    finally:
        await pool.close()


async def test_a_block_serves_several_takes_from_memory(database: str) -> None:
    pool = await open_database(database, "appeals", MIGRATIONS, max_size=2)
    try:
        blocks = SerialBlocks(block=10)
        async with pool.acquire() as conn:
            first = await blocks.take(conn, 3)
            reserved = await conn.fetchval("SELECT last_value FROM appeal_number")
            second = await blocks.take(conn, 7)
            assert await conn.fetchval("SELECT last_value FROM appeal_number") == reserved
            assert blocks.spare == 0
            third = await blocks.take(conn, 1)
        assert first + second == list(range(1, 11))
        assert third == [11]
    finally:
        await pool.close()
