"""An appeal's history as events: what a command writes, and how its state comes back.

`record` writes one action's outcome (the events to the outbox and the history, the
state's columns) in the caller's transaction: state and events never disagree
(the outbox rule). `load_state` replays the history, so commands act on exactly the state
the emitted events describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from appeals import store, timer_store
from appeals.domain import Appeal
from appeals.lifecycle import Action, AppealState, allowed_actions, replay
from minsheng import outbox
from minsheng.aggregate import Sequenced
from minsheng.db import Conn
from minsheng.events import APPEAL_EVENTS, CloudEvent, EventData, new_event
from minsheng.topics import APPEALS

SOURCE = "minsheng/appeals"
AUTOMATIC: set[Action] = {"escalate"}  # supervision timers do it; no route offers it
_MODELS: dict[str, type[EventData]] = {model.event_type(): model for model in APPEAL_EVENTS}


async def record(conn: Conn, state: AppealState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends each event (outbox and history), saves the state it led to, and keeps its
    supervision timers in step (`timer_store.schedule`)."""
    await record_many(conn, [(state, emitted, now)])


async def record_many(
    conn: Conn, outcomes: Sequence[tuple[AppealState, list[Sequenced], datetime]]
) -> dict[str, list[CloudEvent]]:
    """`record` for several appeals, one statement per table; returns each one's events.
    (New appeals are written by `store.insert_received`, all in one statement.)"""
    events = new_events(outcomes)
    written = [event for mine in events.values() for event in mine]
    await outbox.append_many(conn, APPEALS, written)
    await store.append_history(conn, written)
    await store.save_states(conn, [(state, now) for state, _, now in outcomes])
    await timer_store.schedule(conn, [state for state, _, _ in outcomes])
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


def state_of(entries: list[dict[str, Any]]) -> AppealState:
    """Replays history entries (as `store.history` returns them) into the state."""
    return replay(_MODELS[e["type"]].model_validate(e["data"]) for e in entries)


async def load_state(conn: Conn, appeal_id: str) -> AppealState | None:
    """Locks the appeal for the transaction and rebuilds its state; None if unknown."""
    if not await store.lock_appeal(conn, appeal_id):
        return None
    return state_of(await store.history(conn, appeal_id))


async def view(conn: Conn, appeal_id: str) -> dict[str, Any] | None:
    """The appeal as the API shows it: its columns, history and allowed actions."""
    row = await store.get_appeal(conn, appeal_id)
    if row is None:
        return None
    entries = await store.history(conn, appeal_id)
    allowed = offered_actions(state_of(entries)) if entries else []
    return {**row, "history": entries, "allowed_actions": allowed}


def offered_actions(state: AppealState) -> list[Action]:
    """The allowed actions a client can ask for over HTTP."""
    return [action for action in allowed_actions(state) if action not in AUTOMATIC]


def fresh_view(
    appeal: Appeal, state: AppealState, events: list[CloudEvent], now: datetime
) -> dict[str, Any]:
    """What `view` reads back right after the appeal was received, built from memory."""
    c = appeal.command
    return {
        "id": appeal.id,
        "status": state.status,
        "sequence": state.sequence,
        "title": c.title,
        "description": c.description,
        "category": c.category,
        "district": c.district,
        "street": c.street,
        "community": c.community,
        "channel": c.channel,
        "contact_ref": appeal.contact_ref,
        "received_at": _utc(appeal.received_at),
        "deadline": _utc(state.deadline),
        "unit": state.unit,
        "assisting_units": list(state.assisting_units),
        "resolved_at": _utc(state.resolved_at),
        "on_time": state.on_time,
        "rating": state.rating,
        "outcome": state.outcome,
        "updated_at": _utc(now),
        "history": [
            {"sequence": e.sequence, "type": e.type, "data": e.data, "time": _utc(e.time)}
            for e in events
        ],
        "allowed_actions": offered_actions(state),
    }


def _utc(moment: datetime | None) -> datetime | None:
    """As PostgreSQL gives timestamptz back: in UTC."""
    return None if moment is None else moment.astimezone(UTC)
