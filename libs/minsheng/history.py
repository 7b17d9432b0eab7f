"""An event-sourced aggregate's tables: its rows (one per aggregate, with an `id`) and
its history (`sequence, type, data, time, event_id` per event, keyed by the aggregate).

Appeals and projects keep both alike, so locking a row and reading or appending its
history is one piece of SQL; only the table and column names differ. `Histories` reads
an aggregate back: its state, replayed from the history, and the API's view of it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from pydantic import BaseModel

from minsheng.db import Conn
from minsheng.events import CloudEvent, EventData

S = TypeVar("S")


class HistoryEntry(BaseModel):
    """One event of an aggregate's history, as it went to the aggregate's topic."""

    sequence: int
    type: str
    time: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class EventTables:
    rows: str  # "appeals"
    events: str  # "appeal_events"
    key: str  # the events' column naming the aggregate: "appeal_id"

    async def lock(self, conn: Conn, aggregate_id: str) -> bool:
        """Locks the aggregate's row for the transaction, so commands on one aggregate run
        one by one; False if there is none."""
        found = await conn.fetchval(
            f"SELECT true FROM {self.rows} WHERE id = $1 FOR UPDATE", aggregate_id
        )
        return bool(found)

    async def history(self, conn: Conn | asyncpg.Pool, aggregate_id: str) -> list[dict[str, Any]]:
        """The aggregate's events in order: sequence, type, data (decoded), time."""
        rows = await conn.fetch(
            f"""SELECT sequence, type, data, time FROM {self.events}
                WHERE {self.key} = $1 ORDER BY sequence""",
            aggregate_id,
        )
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    async def append(self, conn: Conn, events: Sequence[CloudEvent]) -> None:
        """Appends events to their aggregates' histories (the subject names the aggregate)."""
        await conn.executemany(
            f"""INSERT INTO {self.events} ({self.key}, sequence, type, data, time, event_id)
                VALUES ($1, $2, $3, $4, $5, $6)""",
            [
                (
                    e.subject,
                    e.sequence,
                    e.type,
                    json.dumps(e.data, ensure_ascii=False),
                    e.time,
                    e.id,
                )
                for e in events
            ],
        )


@dataclass(frozen=True)
class Histories(Generic[S]):
    """An aggregate kind read back from its tables: `models` are its event types,
    `replay` its lifecycle's, `offered` the actions a client may ask for in a state,
    and `row` reads the aggregate's columns (None if there is no such aggregate)."""

    tables: EventTables
    models: Sequence[type[EventData]]
    replay: Callable[[Iterable[EventData]], S]
    offered: Callable[[S], Sequence[str]]
    row: Callable[[Conn, str], Awaitable[dict[str, Any] | None]]

    def state_of(self, entries: list[dict[str, Any]]) -> S:
        """Replays history entries (as `EventTables.history` returns them) into the state."""
        models = {model.event_type(): model for model in self.models}
        return self.replay(models[e["type"]].model_validate(e["data"]) for e in entries)

    async def load_state(self, conn: Conn, aggregate_id: str) -> S | None:
        """Locks the aggregate for the transaction and rebuilds its state; None if unknown."""
        if not await self.tables.lock(conn, aggregate_id):
            return None
        return self.state_of(await self.tables.history(conn, aggregate_id))

    async def view(self, conn: Conn, aggregate_id: str) -> dict[str, Any] | None:
        """The aggregate as the API shows it: its columns, history and offered actions."""
        row = await self.row(conn, aggregate_id)
        if row is None:
            return None
        entries = await self.tables.history(conn, aggregate_id)
        offered = list(self.offered(self.state_of(entries))) if entries else []
        return {**row, "history": entries, "allowed_actions": offered}
