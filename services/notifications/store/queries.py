"""SQL of the operators' views: deliveries listed (keyset pages) and one with attempts."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from minsheng.querying import Keyset, Where

LISTED = """id, status, channel, recipient, recipient_kind, rule, event_type, event_id,
    event_time, subject_kind, subject_id, page_id, title, attempts, next_attempt_at,
    deferred_until, last_error, created_at, finished_at"""


_PAGES = Keyset("deliveries", LISTED, "created_at")


async def list_deliveries(
    pool: asyncpg.Pool, where: Where, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page, newest first on (created_at, id), and the next page's cursor."""
    return await _PAGES.page(pool, where, cursor, limit)


async def get_delivery(pool: asyncpg.Pool, delivery_id: str) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {LISTED}, body, payload FROM deliveries WHERE id = $1", delivery_id
        )
        if row is None:
            return None
        attempts = await conn.fetch(
            """SELECT number, at, result, response_code, error, duration_ms FROM attempts
               WHERE delivery_id = $1 ORDER BY number""",
            delivery_id,
        )
        page = None
        if row["page_id"] is not None:
            page = await conn.fetchrow(
                """SELECT id, alertname, chain, step, acked_at, acked_by, resolved_at,
                          escalate_at FROM pages WHERE id = $1""",
                row["page_id"],
            )
    found = {**dict(row), "payload": json.loads(row["payload"])}
    found["attempt_log"] = [dict(a) for a in attempts]
    found["page"] = None if page is None else {**dict(page), "chain": list(page["chain"])}
    return found
