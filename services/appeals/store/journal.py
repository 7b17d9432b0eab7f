"""An appeal's history as events: what a command writes, and how its state comes back.

`record` writes one action's outcome (the events to the outbox and the history, the
state's columns, the supervision timers the state now wants) in the caller's
transaction: state and events never disagree. `load_state` replays the history, so
commands act on exactly the state the emitted events describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from appeals import store, timing
from appeals.lifecycle import AppealState, offered_actions, replay
from appeals.receiving import Appeal
from appeals.store.timers import TIMERS
from minsheng import outbox
from minsheng.aggregate import Sequenced
from minsheng.db import Conn
from minsheng.events import APPEAL_EVENTS, CloudEvent, new_event
from minsheng.history import Histories
from minsheng.topics import APPEALS, OWNERS

SOURCE = OWNERS[APPEALS]


async def record(conn: Conn, state: AppealState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends each event (outbox and history), saves the state it led to, and keeps its
    supervision timers in step (`timing.timers`)."""
    await record_many(conn, [(state, emitted, now)])


async def record_many(
    conn: Conn, outcomes: Sequence[tuple[AppealState, list[Sequenced], datetime]]
) -> dict[str, list[CloudEvent]]:
    """`record` for several appeals, one statement per table; returns each one's events.
    (New appeals are written by `receipts.insert_received`, all in one statement.)"""
    events = new_events(outcomes)
    written = [event for mine in events.values() for event in mine]
    await outbox.append_many(conn, APPEALS, written)
    await store.append_history(conn, written)
    await store.save_states(conn, [(state, now) for state, _, now in outcomes])
    await TIMERS.schedule(conn, {state.id: timing.timers(state) for state, _, _ in outcomes})
    return events


def new_events(
    outcomes: Sequence[tuple[AppealState, list[Sequenced], datetime]],
) -> dict[str, list[CloudEvent]]:
    """Each appeal's emitted payloads in their envelopes, as `record_many` writes them."""
    events: dict[str, list[CloudEvent]] = {}
    for state, emitted, now in outcomes:
        events.setdefault(state.id, []).extend(
            new_event(item.data, subject=state.id, sequence=item.sequence, source=SOURCE, time=now)
            for item in emitted
        )
    return events


_READ = Histories(store.TABLES, APPEAL_EVENTS, replay, offered_actions, store.get_appeal)
state_of = _READ.state_of  # replays history entries into the state
load_state = _READ.load_state  # locks the appeal and rebuilds its state; None if unknown
view = _READ.view  # the appeal as the API shows it: columns, history, allowed actions


def fresh_view(
    appeal: Appeal, state: AppealState, events: list[CloudEvent], now: datetime
) -> dict[str, Any]:
    """What `view` reads back right after the appeal was received, built from memory."""
    return {
        **{c: _utc(store.value(c, appeal, state, now)) for c in store.SHOWN},
        "history": [
            {"sequence": e.sequence, "type": e.type, "data": e.data, "time": _utc(e.time)}
            for e in events
        ],
        "allowed_actions": offered_actions(state),
    }


def _utc(column: Any) -> Any:
    """As PostgreSQL gives timestamptz back: in UTC."""
    return column.astimezone(UTC) if isinstance(column, datetime) else column
