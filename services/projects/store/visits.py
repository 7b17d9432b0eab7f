"""SQL of community work days (社区工作日): the pairings as the service knows them, their
history, the missed-visit timers, and a pairing's journal (events, state and timer in
one transaction; the state replayed from its history)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from minsheng.aggregate import Sequenced
from minsheng.db import Conn, columns
from minsheng.events import WORKDAY_EVENTS, EventData
from minsheng.history import EventTables
from minsheng.reference import Pairing
from minsheng.timers import TimerTable
from projects import visits
from projects.store.journal import publish
from projects.visits import PairingState

TIMERS = TimerTable(
    table="workday_timers",
    rows="pairings",
    key="pairing_id",
    what=(("kind", "text"), ("month", "date")),
    due="fires_at",
)
_MODELS: dict[str, type[EventData]] = {m.event_type(): m for m in WORKDAY_EVENTS}
_TABLES = EventTables(rows="pairings", events="pairing_events", key="pairing_id")
history = _TABLES.history


async def know(conn: Conn, known: Iterable[Pairing], now: datetime) -> int:
    """Adds the pairings the service does not know yet, watched from the month after
    `now` (`visits.watched_from`), each with its first timer; returns how many were new."""
    rows = [
        (p.id, p.unit, p.community.district, p.community.name, visits.watched_from(now), now)
        for p in known
    ]
    async with conn.transaction():
        added = await conn.fetch(
            """INSERT INTO pairings (id, unit, district, community, watched_from, updated_at)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                    $5::date[], $6::timestamptz[])
               ON CONFLICT (id) DO NOTHING
               RETURNING id, unit, district, community, watched_from""",
            *columns(rows, 6),
        )
        fresh = [PairingState(**dict(row)) for row in added]
        await TIMERS.schedule(conn, {s.id: visits.rows(s) for s in fresh})
    return len(fresh)


async def record(conn: Conn, state: PairingState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends the pairing's events, saves its state and keeps its timer in step."""
    await publish(conn, state.id, emitted, now, _TABLES.append)
    await conn.execute(
        "UPDATE pairings SET sequence = $2, visits = $3, updated_at = $4 WHERE id = $1",
        state.id,
        state.sequence,
        state.visits,
        now,
    )
    await TIMERS.schedule(conn, {state.id: visits.rows(state)})


async def _state(conn: Conn, pairing_id: str, lock: str) -> PairingState | None:
    row = await conn.fetchrow(
        f"""SELECT id, unit, district, community, watched_from FROM pairings
            WHERE id = $1 {lock}""",
        pairing_id,
    )
    if row is None:
        return None
    events = (_MODELS[e["type"]].model_validate(e["data"]) for e in await history(conn, pairing_id))
    return visits.replay(PairingState(**dict(row)), events)


async def load_state(conn: Conn, pairing_id: str) -> PairingState | None:
    """Locks the pairing for the transaction and rebuilds its state; None if unknown."""
    return await _state(conn, pairing_id, "FOR UPDATE")


async def view(conn: Conn, pairing_id: str) -> dict[str, Any] | None:
    """The pairing as the API shows it: its place, the months visited and reported
    missed, and its history."""
    state = await _state(conn, pairing_id, "")
    if state is None:
        return None
    return {
        "id": state.id,
        "unit": state.unit,
        "district": state.district,
        "community": state.community,
        "watched_from": visits.month_of(state.watched_from),
        "visits": state.visits,
        "months_visited": sorted(state.visited),
        "months_missed": sorted(state.missed),
        "history": await history(conn, pairing_id),
    }
