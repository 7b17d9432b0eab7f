"""SQL of the Open311 facade's reads: appeals with the latest resolution's text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from minsheng.db import Conn

MAX_RESULTS = 1000
CLOSED = ("resolved", "closed")  # the statuses Open311 calls closed


async def requests_by_id(conn: Conn, ids: Sequence[str]) -> list[dict[str, Any]]:
    return await _requests(conn, "a.id = ANY($1::text[])", list(ids))


async def requests_between(
    conn: Conn, start: datetime, end: datetime, codes: Sequence[str], closed: Sequence[bool]
) -> list[dict[str, Any]]:
    """Received from `start` to `end` (both inclusive), of any of `codes` (categories) and
    open or closed as `closed` asks; an empty list asks for all."""
    return await _requests(
        conn,
        """a.received_at >= $1 AND a.received_at <= $2
           AND (cardinality($3::text[]) = 0 OR a.category = ANY($3::text[]))
           AND (cardinality($4::bool[]) = 0
                OR (a.status = ANY($5::text[])) = ANY($4::bool[]))""",
        start,
        end,
        list(codes),
        list(closed),
        list(CLOSED),
    )


async def _requests(conn: Conn, where: str, *args: Any) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""SELECT a.id, a.status, a.category, a.description, a.unit, a.received_at,
                   a.updated_at, a.deadline, a.district, a.street, a.community, a.grid, a.outcome,
                   (SELECT e.data ->> 'resolution' FROM appeal_events e
                    WHERE e.appeal_id = a.id AND e.type = 'minsheng.AppealResolved.v1'
                    ORDER BY e.sequence DESC LIMIT 1) AS resolution
            FROM appeals a WHERE {where}
            ORDER BY a.received_at DESC, a.id DESC LIMIT {MAX_RESULTS}""",
        *args,
    )
    return [dict(row) for row in rows]
