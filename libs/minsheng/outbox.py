"""Transactional outbox: `append` writes an event in the caller's transaction.

The event becomes visible to the relay only if the state change commits with it, so
state and events can never disagree (the outbox rule). NOTIFY is transactional too: the
relay is woken at commit, not before.
"""

from __future__ import annotations

from collections.abc import Sequence

from minsheng.db import Conn
from minsheng.events import CloudEvent

CHANNEL = "minsheng_outbox"
NOTIFY = f"pg_notify('{CHANNEL}', '')"  # SQL: wakes the relay when the statement commits


def insert_from(rows: str, *, topic: str) -> str:
    """SQL appending the events that `rows` (a CTE or table with the columns
    aggregate_id, sequence, event_id, type, payload) yields, on `topic` (an SQL
    expression): for a statement that writes the state and its events at once (a
    data-modifying CTE), which is one transaction by itself. Add `NOTIFY` to it."""
    return f"""INSERT INTO outbox (topic, aggregate_id, sequence, event_id, event_type, payload)
        SELECT {topic}, aggregate_id, sequence, event_id, type, payload FROM {rows}"""


async def append(conn: Conn, topic: str, event: CloudEvent) -> None:
    """Must be called inside the transaction that changes the aggregate's state."""
    await append_many(conn, topic, [event])


async def append_many(conn: Conn, topic: str, events: Sequence[CloudEvent]) -> None:
    """`append` for several events in one round trip (group commit of a batch)."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.append must run inside the caller's transaction")
    if not events:
        return
    await conn.executemany(
        """INSERT INTO outbox (topic, aggregate_id, sequence, event_id, event_type, payload)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(topic, e.subject, e.sequence, e.id, e.type, e.to_json().decode()) for e in events],
    )
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
