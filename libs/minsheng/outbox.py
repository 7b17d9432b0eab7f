"""Transactional outbox: `append` writes an event in the caller's transaction.

The event becomes visible to the relay only if the state change commits with it, so
state and events can never disagree (invariant 2). NOTIFY is transactional too: the
relay is woken at commit, not before.
"""

from __future__ import annotations

from minsheng.db import Conn
from minsheng.events import CloudEvent

CHANNEL = "minsheng_outbox"


async def append(conn: Conn, topic: str, event: CloudEvent) -> None:
    """Must be called inside the transaction that changes the aggregate's state."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.append must run inside the caller's transaction")
    await conn.execute(
        """INSERT INTO outbox (topic, aggregate_id, sequence, event_id, event_type, payload)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        topic,
        event.subject,
        event.sequence,
        event.id,
        event.type,
        event.to_json().decode(),
    )
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
