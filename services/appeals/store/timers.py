"""SQL of the supervision timers (督办): schedule them with the state, claim the due ones.

`schedule` runs in every transaction that changes an appeal (`journal.record`), so the
timers always match the state: while a unit holds the appeal (dispatched or accepted)
each level not yet sent for the current deadline has a row due when `supervision` says;
otherwise, or for an older deadline, the unfired rows are gone. Fired rows are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from appeals.lifecycle import AppealState, allowed_actions
from appeals.supervision import DEFAULT_RULES, SupervisionRules, escalation_times
from minsheng.db import Conn
from minsheng.events.appeals import EscalationLevel


@dataclass(frozen=True)
class Timer:
    appeal_id: str
    level: EscalationLevel
    deadline: datetime


async def schedule(
    conn: Conn,
    states: Sequence[AppealState],
    rules: SupervisionRules = DEFAULT_RULES,
) -> None:
    """Makes each appeal's unfired timers those of its current state (same transaction);
    a new appeal's come with it (`store.insert_received`, rows by `timer_rows`)."""
    await conn.executemany(
        """DELETE FROM supervision_timers
           WHERE appeal_id = $1 AND fired_at IS NULL AND deadline IS DISTINCT FROM $2""",
        [(s.id, _live_deadline(s)) for s in states],
    )
    await conn.executemany(
        """INSERT INTO supervision_timers (appeal_id, level, deadline, due_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        timer_rows(states, rules),
    )


def timer_rows(
    states: Sequence[AppealState], rules: SupervisionRules = DEFAULT_RULES
) -> list[tuple[str, EscalationLevel, datetime, datetime]]:
    """(appeal id, level, deadline, due at) of each unfired timer the states call for."""
    return [
        (state.id, level, deadline, due)
        for state in states
        if (deadline := _live_deadline(state)) is not None
        for level, due in escalation_times(state.clock_start, deadline, rules).items()
        if level not in state.escalations
    ]


def _live_deadline(state: AppealState) -> datetime | None:
    """The deadline its timers run against; None while no unit holds the appeal."""
    return state.deadline if "escalate" in allowed_actions(state) else None


async def claim_due(conn: Conn, now: datetime) -> Timer | None:
    """Locks the earliest due timer and its appeal, skipping those another instance holds.

    Never waiting on a lock, the job cannot deadlock with a command (which locks the
    appeal, then its timers)."""
    row = await conn.fetchrow(
        """SELECT t.appeal_id, t.level, t.deadline
           FROM supervision_timers t JOIN appeals a ON a.id = t.appeal_id
           WHERE t.fired_at IS NULL AND t.due_at <= $1
           ORDER BY t.due_at
           LIMIT 1
           FOR UPDATE OF t, a SKIP LOCKED""",
        now,
    )
    return None if row is None else Timer(row["appeal_id"], row["level"], row["deadline"])


async def fired(conn: Conn, timer: Timer, now: datetime) -> None:
    await conn.execute(
        """UPDATE supervision_timers SET fired_at = $4
           WHERE appeal_id = $1 AND level = $2 AND deadline = $3""",
        timer.appeal_id,
        timer.level,
        timer.deadline,
        now,
    )


async def drop(conn: Conn, timer: Timer) -> None:
    """Removes a timer whose level is no longer due (a reminder after the deadline)."""
    await conn.execute(
        """DELETE FROM supervision_timers
           WHERE appeal_id = $1 AND level = $2 AND deadline = $3""",
        timer.appeal_id,
        timer.level,
        timer.deadline,
    )


async def unscheduled(conn: Conn) -> list[str]:
    """Appeals with a unit but no timers for their deadline (received before timers)."""
    rows = await conn.fetch(
        """SELECT id FROM appeals a
           WHERE status IN ('dispatched', 'accepted') AND deadline IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM supervision_timers t
                             WHERE t.appeal_id = a.id AND t.deadline = a.deadline)"""
    )
    return [row["id"] for row in rows]
