"""An appeal's history as events: what a command writes, and how its state comes back.

`record` writes one action's outcome (the events to the outbox and the history, the
state's columns) in the caller's transaction: state and events never disagree
(invariant 2). `load_state` replays the history, so commands act on exactly the state
the emitted events describe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from appeals import store, timer_store
from appeals.lifecycle import Action, AppealState, Sequenced, allowed_actions, replay
from minsheng import outbox
from minsheng.db import Conn
from minsheng.events import APPEAL_EVENTS, EventData, new_event
from minsheng.topics import APPEALS

SOURCE = "minsheng/appeals"
AUTOMATIC: set[Action] = {"escalate"}  # supervision timers do it; no route offers it
_MODELS: dict[str, type[EventData]] = {model.event_type(): model for model in APPEAL_EVENTS}


async def record(conn: Conn, state: AppealState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends each event (outbox and history), saves the state it led to, and keeps its
    supervision timers in step (`timer_store.schedule`)."""
    for item in emitted:
        event = new_event(
            item.data, subject=state.id, sequence=item.sequence, source=SOURCE, time=now
        )
        await outbox.append(conn, APPEALS, event)
        await store.append_history(conn, event)
    await store.save_state(conn, state, now)
    await timer_store.schedule(conn, state)


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
