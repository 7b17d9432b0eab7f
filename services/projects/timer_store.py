"""SQL of the durable timers: schedule them with the state, claim the due ones.

`schedule` runs in every transaction that changes a project (`journal.record`), so the
unfired timers are always exactly those `lifecycle.timers` wants for the current state:
a reschedule replaces a milestone's timer, completion removes them all.
"""

from __future__ import annotations

from datetime import datetime, time

from minsheng.clock import CITY_TZ
from minsheng.db import Conn
from projects.lifecycle import Due, ProjectState, timers


def fires_at(due: Due) -> datetime:
    """The start of the city's day after the due day."""
    return datetime.combine(due.fires_on, time.min, CITY_TZ)


async def schedule(conn: Conn, state: ProjectState) -> None:
    """Makes the project's unfired timers those of its current state (same transaction)."""
    wanted = timers(state)
    await conn.execute(
        """DELETE FROM project_timers t
           WHERE project_id = $1 AND fired_at IS NULL
             AND (kind, milestone_id, due_on) NOT IN
                 (SELECT * FROM unnest($2::text[], $3::text[], $4::date[]))""",
        state.id,
        [d.kind for d in wanted],
        [d.milestone_id for d in wanted],
        [d.due_on for d in wanted],
    )
    await conn.executemany(
        """INSERT INTO project_timers (project_id, kind, milestone_id, due_on, fires_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        [(state.id, d.kind, d.milestone_id, d.due_on, fires_at(d)) for d in wanted],
    )


async def claim_due(conn: Conn, now: datetime) -> tuple[str, Due] | None:
    """Locks the earliest due timer and its project, skipping those another instance
    holds; never waiting on a lock, the job cannot deadlock with a command."""
    row = await conn.fetchrow(
        """SELECT t.project_id, t.kind, t.milestone_id, t.due_on
           FROM project_timers t JOIN projects p ON p.id = t.project_id
           WHERE t.fired_at IS NULL AND t.fires_at <= $1
           ORDER BY t.fires_at
           LIMIT 1
           FOR UPDATE OF t, p SKIP LOCKED""",
        now,
    )
    if row is None:
        return None
    return row["project_id"], Due(row["kind"], row["milestone_id"], row["due_on"])


async def drop(conn: Conn, project_id: str, due: Due) -> None:
    """Removes a timer the state no longer wants (reached, completed in the meantime)."""
    await conn.execute(
        """DELETE FROM project_timers
           WHERE project_id = $1 AND kind = $2 AND milestone_id = $3 AND due_on = $4""",
        project_id,
        due.kind,
        due.milestone_id,
        due.due_on,
    )


async def mark_fired(conn: Conn, project_id: str, due: Due, at: datetime) -> None:
    """Keeps the timer as fired (after `schedule` dropped it as no longer wanted)."""
    await conn.execute(
        """INSERT INTO project_timers (project_id, kind, milestone_id, due_on, fires_at, fired_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (project_id, kind, milestone_id, due_on) DO UPDATE SET fired_at = $6""",
        project_id,
        due.kind,
        due.milestone_id,
        due.due_on,
        fires_at(due),
        at,
    )
