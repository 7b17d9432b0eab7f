"""SQL of the intake from other systems: which of their appeals became which of ours."""

from __future__ import annotations

from minsheng.db import Conn

_MAPPED = "SELECT appeal_id FROM intake_appeals WHERE source = $1 AND subject = $2"
_REMEMBER = "INSERT INTO intake_appeals (source, subject, appeal_id) VALUES ($1, $2, $3)"
_SEEN_FOR = "UPDATE intake_seen SET appeal_id = $3 WHERE source = $1 AND event_id = $2"


async def mapped(conn: Conn, source: str, subject: str) -> str | None:
    """Our appeal for the sender's (source, subject), if it sent one."""
    found = await conn.fetchval(_MAPPED, source, subject)
    return None if found is None else str(found)


async def remember(conn: Conn, source: str, subject: str, appeal_id: str) -> None:
    """Records that the sender's (source, subject) became our appeal `appeal_id`."""
    await conn.execute(_REMEMBER, source, subject, appeal_id)


async def seen_for(conn: Conn, source: str, event_id: str, appeal_id: str) -> None:
    """Notes which appeal an intake event (source, id) applied to."""
    await conn.execute(_SEEN_FOR, source, event_id, appeal_id)
