"""A project's history as events: what a command writes, and how its state comes back.

`record` writes one action's outcome (events to the outbox and the history, the state's
columns, the timers it now needs) in the caller's transaction: state and events never
disagree (the outbox rule). `load_state` replays the history, so commands act on exactly the
state the emitted events describe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from minsheng import outbox
from minsheng.aggregate import Sequenced
from minsheng.db import Conn
from minsheng.events import PROJECT_EVENTS, CloudEvent, EventData, new_event
from minsheng.topics import OWNERS, PROJECTS
from projects import store, timing
from projects.lifecycle import ProjectState, allowed_actions, replay
from projects.store.timers import TIMERS

SOURCE = OWNERS[PROJECTS]
_MODELS: dict[str, type[EventData]] = {model.event_type(): model for model in PROJECT_EVENTS}


async def record(conn: Conn, state: ProjectState, emitted: list[Sequenced], now: datetime) -> None:
    """Appends each event (outbox and history), saves the state, and keeps its timers in
    step (`timing.timers`)."""
    await publish(conn, state.id, emitted, now, store.append_history)
    await store.save_state(conn, state, now)
    await TIMERS.schedule(conn, {state.id: timing.rows(state)})


async def publish(
    conn: Conn,
    subject: str,
    emitted: list[Sequenced],
    now: datetime,
    append_history: Callable[[Conn, Sequence[CloudEvent]], Awaitable[None]],
) -> None:
    """Appends each event of the aggregate `subject` to the outbox and to its history
    (projects, list items and pairings alike: all go on the projects topic)."""
    for item in emitted:
        event = new_event(
            item.data, subject=subject, sequence=item.sequence, source=SOURCE, time=now
        )
        await outbox.append(conn, PROJECTS, event)
        await append_history(conn, [event])


def state_of(entries: list[dict[str, Any]]) -> ProjectState:
    """Replays history entries (as `store.history` returns them) into the state."""
    return replay(_MODELS[e["type"]].model_validate(e["data"]) for e in entries)


async def load_state(conn: Conn, project_id: str) -> ProjectState | None:
    """Locks the project for the transaction and rebuilds its state; None if unknown."""
    if not await store.lock_project(conn, project_id):
        return None
    return state_of(await store.history(conn, project_id))


async def view(conn: Conn, project_id: str) -> dict[str, Any] | None:
    """The project as the API shows it: its columns, history and allowed actions."""
    row = await store.get_project(conn, project_id)
    if row is None:
        return None
    entries = await store.history(conn, project_id)
    allowed = allowed_actions(state_of(entries)) if entries else []
    return {**row, "history": entries, "allowed_actions": allowed}
