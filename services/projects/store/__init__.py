"""All SQL of the projects service; this module holds the `projects` table, its history,
its lists and the year's ledgers.

    journal    an action's outcome: events to outbox and history, state, timers
    timers     the milestone and notice timers and the job's claims on them
    intake     what other systems sent (intake_seen)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import asyncpg

from minsheng.auth import Principal
from minsheng.db import Conn
from minsheng.events import ProjectClaimed
from minsheng.history import EventTables
from minsheng.querying import Keyset, Where, maybe_not
from projects.columns import ProjectSummary
from projects.lifecycle import ProjectState

PROJECT_COLUMNS = ", ".join(ProjectSummary.model_fields)


async def next_serial(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('project_number')"))


async def insert_project(conn: Conn, claimed: ProjectClaimed, now: datetime) -> None:
    c = claimed
    await conn.execute(
        """INSERT INTO projects (id, status, sequence, year, title, category, level,
               secretary_name, secretary_organisation, district, street, community, unit,
               planned_start, planned_end, claimed_at, updated_at)
           VALUES ($1, 'claimed', 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                   $14)""",
        c.project_id,
        c.year,
        c.title,
        c.category,
        c.level,
        c.secretary_name,
        c.secretary_organisation,
        c.district,
        c.street,
        c.community,
        c.unit,
        c.planned_start,
        c.planned_end,
        now,
    )


def decoded(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "milestones": json.loads(row["milestones"])}


async def get_project(conn: Conn | asyncpg.Pool, project_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1", project_id)
    return None if row is None else decoded(row)


_TABLES = EventTables(rows="projects", events="project_events", key="project_id")
lock_project = _TABLES.lock
history = _TABLES.history
append_history = _TABLES.append


async def save_state(conn: Conn, state: ProjectState, now: datetime) -> None:
    """Projects the lifecycle state onto the project's columns."""
    milestones = [{**asdict(m), "due": m.due.isoformat()} for m in state.milestones]
    await conn.execute(
        """UPDATE projects SET status = $2, sequence = $3, progress = $4, milestones = $5,
                  completed_on = $6, on_time = $7, flags = $8, ratings = $9, updated_at = $10
           WHERE id = $1""",
        state.id,
        state.status,
        state.sequence,
        state.progress,
        json.dumps(milestones, ensure_ascii=False),
        state.completed_on,
        state.on_time,
        list(state.flags),
        list(state.ratings),
        now,
    )


OPEN_PAST_END = "status IN ('claimed', 'in_progress') AND planned_end < $1"
_PAGES = Keyset("projects", PROJECT_COLUMNS, "claimed_at")


async def list_projects(
    conn: Conn | asyncpg.Pool,
    *,
    year: int | None,
    status: Sequence[str],
    district: str | None,
    level: str | None,
    category: str | None,
    unit: str | None,
    flagged: bool | None,
    overdue_on: tuple[bool, date] | None,
    seen_by: Principal,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of projects, newest claims first, and the next page's cursor. `flagged`:
    named or talked to, or not; `overdue_on` is (wanted, the city's today): still open
    past the planned end, or not. A unit key (`seen_by`) sees only its unit's projects."""
    where = Where()
    where.equal(year=year, district=district, level=level, category=category, unit=unit)
    where.any_of("status", status)
    if flagged is not None:
        where.add(maybe_not("cardinality(flags) > 0", flagged))
    if overdue_on is not None:
        where.add(maybe_not(OPEN_PAST_END, overdue_on[0]), overdue_on[1])
    if seen_by.role == "unit":
        where.add("unit = $1", seen_by.unit)
    return await _PAGES.page(conn, where, cursor, limit, row=decoded)


async def ledger_closed(conn: Conn | asyncpg.Pool, year: int) -> dict[str, Any] | None:
    """Who closed the year's ledger and when; None while it is open."""
    row = await conn.fetchrow(
        "SELECT closed_by, closed_at FROM ledgers WHERE year = $1 AND closed_at IS NOT NULL", year
    )
    return None if row is None else dict(row)


async def set_ledger(conn: Conn, year: int, closed_by: str | None, at: datetime | None) -> None:
    await conn.execute(
        """INSERT INTO ledgers (year, closed_by, closed_at) VALUES ($1, $2, $3)
           ON CONFLICT (year) DO UPDATE SET closed_by = $2, closed_at = $3""",
        year,
        closed_by,
        at,
    )


LEDGER_SQL = """
SELECT GROUPING(level) AS by_level_row, GROUPING(district) AS by_district_row,
       level, district,
       count(*) AS claimed,
       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status IN ('completed', 'verified')) AS completed,
       count(*) FILTER (WHERE status IN ('completed', 'verified') AND on_time) AS completed_on_time,
       count(*) FILTER (WHERE status = 'verified') AS verified,
       count(*) FILTER (WHERE cardinality(flags) > 0) AS flagged
FROM projects WHERE year = $1
GROUP BY GROUPING SETS ((), (level), (district))
ORDER BY level NULLS FIRST, district NULLS FIRST
"""


async def ledger_rows(conn: Conn | asyncpg.Pool, year: int) -> list[dict[str, Any]]:
    """Counts of the year's projects: all, per level, per district (see `ledger`)."""
    return [dict(row) for row in await conn.fetch(LEDGER_SQL, year)]
