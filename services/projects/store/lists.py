"""SQL of the four lists (四项清单), and an item's journal: its events (outbox and
history) and state in one transaction, and its state replayed from its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from minsheng.aggregate import Sequenced
from minsheng.db import Conn
from minsheng.events import LIST_EVENTS, EventData, ListItemPosted, SatisfactionRecorded
from minsheng.history import EventTables
from projects.lists import ItemState, allowed_actions, replay
from projects.store.journal import publish

ITEM_COLUMNS = (
    "id, year, district, street, community, kind, source, appeal_id, title, description,"
    " status, matched_item_id, claimed_by, due, completed_on, on_time, ratings, posted_at,"
    " updated_at"
)
_KINDS: tuple[type[EventData], ...] = (*LIST_EVENTS, SatisfactionRecorded)
_MODELS: dict[str, type[EventData]] = {m.event_type(): m for m in _KINDS}
_TABLES = EventTables(rows="list_items", events="list_item_events", key="list_item_id")
lock_item = _TABLES.lock
history = _TABLES.history


async def next_serial(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('list_item_number')"))


async def insert_item(conn: Conn, posted: ListItemPosted, now: datetime) -> None:
    p = posted
    await conn.execute(
        """INSERT INTO list_items (id, year, district, street, community, kind, source,
               appeal_id, title, description, status, sequence, posted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'posted', 1, $11, $11)""",
        p.list_item_id,
        p.year,
        p.district,
        p.street,
        p.community,
        p.kind,
        p.source,
        p.appeal_id,
        p.title,
        p.description,
        now,
    )


async def record(conn: Conn, state: ItemState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends the item's events (outbox and history) and saves its state."""
    await publish(conn, state.id, emitted, now, _TABLES.append)
    await conn.execute(
        """UPDATE list_items SET status = $2, sequence = $3, matched_item_id = $4,
                  claimed_by = $5, due = $6, completed_on = $7, on_time = $8, ratings = $9,
                  updated_at = $10
           WHERE id = $1""",
        state.id,
        state.status,
        state.sequence,
        state.matched_item_id,
        state.claimed_by,
        state.due,
        state.completed_on,
        state.on_time,
        list(state.ratings),
        now,
    )


def state_of(entries: list[dict[str, Any]]) -> ItemState:
    return replay(_MODELS[e["type"]].model_validate(e["data"]) for e in entries)


async def load_state(conn: Conn, item_id: str) -> ItemState | None:
    """Locks the item for the transaction and rebuilds its state; None if unknown."""
    if not await lock_item(conn, item_id):
        return None
    return state_of(await history(conn, item_id))


async def view(conn: Conn, item_id: str) -> dict[str, Any] | None:
    """The item as the API shows it: its columns, history and allowed actions."""
    row = await conn.fetchrow(f"SELECT {ITEM_COLUMNS} FROM list_items WHERE id = $1", item_id)
    if row is None:
        return None
    entries = await history(conn, item_id)
    return {**dict(row), "history": entries, "allowed_actions": allowed_actions(state_of(entries))}


async def listing(conn: Conn | asyncpg.Pool, community: str, year: int) -> list[dict[str, Any]]:
    """A community's items of a year, in the order they were posted (上墙公示)."""
    rows = await conn.fetch(
        f"""SELECT {ITEM_COLUMNS} FROM list_items WHERE community = $1 AND year = $2
            ORDER BY posted_at, id""",
        community,
        year,
    )
    return [dict(r) for r in rows]
