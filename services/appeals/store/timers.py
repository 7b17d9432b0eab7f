"""SQL of the supervision timers (督办): one row per level and deadline.

Every transaction that changes an appeal makes its unfired rows those `timing.timers`
wants for the new state (`journal.record`, through `minsheng.timers`); the job claims
the due ones. Fired rows are kept, as the record of what was sent.
"""

from __future__ import annotations

from minsheng.db import Conn
from minsheng.timers import TimerTable

TIMERS = TimerTable(
    table="supervision_timers",
    rows="appeals",
    key="appeal_id",
    what=(("level", "text"), ("deadline", "timestamptz")),
    due="due_at",
)


async def unscheduled(conn: Conn) -> list[str]:
    """Appeals with a unit but no timers for their deadline (received before timers)."""
    rows = await conn.fetch(
        """SELECT id FROM appeals a
           WHERE status IN ('dispatched', 'accepted') AND deadline IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM supervision_timers t
                             WHERE t.appeal_id = a.id AND t.deadline = a.deadline)"""
    )
    return [row["id"] for row in rows]
