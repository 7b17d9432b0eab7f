"""The accountability job: every few seconds, fire the project timers that fell due.

Each timer is handled in one transaction: claim it (FOR UPDATE SKIP LOCKED, so two
instances never take the same one), replay the project, emit ProjectMilestone(missed) or
ProjectFlagged(notice) through the journal (outbox, history, next sequence) and stamp the
timer fired. A crash before the commit leaves the timer due for the next tick, of this
instance or another; after it, the timer is fired and the state no longer wants it.
"Now" comes from the app's injectable clock, read at each tick.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from minsheng.clock import Clock
from minsheng.jobs import periodic
from minsheng.service import Job
from projects import journal, lifecycle, timer_store


def accountability_job(clock: Clock, interval: float) -> Job:
    """The job for `Runtime.jobs`: a tick every `interval` seconds, "now" from `clock`."""
    return periodic("project-timers", interval, lambda runtime: tick(runtime.db(), clock()))


async def tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired."""
    count = 0
    async with pool.acquire() as conn:
        while True:
            async with conn.transaction():
                claimed = await timer_store.claim_due(conn, now)
                if claimed is None:
                    return count
                project_id, due = claimed
                state = await journal.load_state(conn, project_id)
                assert state is not None  # the timer's foreign key
                outcome = lifecycle.fire(state, due, now)
                if outcome is None:
                    await timer_store.drop(conn, project_id, due)
                    continue
                await journal.record(conn, *outcome, now)
                await timer_store.mark_fired(conn, project_id, due, now)
                count += 1
