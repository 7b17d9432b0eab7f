"""The accountability job: every few seconds, fire the project timers that fell due.

Each timer is handled in one transaction (`minsheng.timers.fire_due`): claim it (FOR
UPDATE SKIP LOCKED, so two instances never take the same one), replay the project, emit
ProjectMilestone(missed) or ProjectFlagged(notice) through the journal (outbox, history,
next sequence) and stamp the timer fired. A crash before the commit leaves the timer due
for the next tick, of this instance or another; after it, the timer is fired and the
state no longer wants it. "Now" comes from the app's injectable clock, read at each tick.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from minsheng.clock import Clock
from minsheng.service import Job
from minsheng.timers import fire_due, timer_job
from projects import timing
from projects.store import journal
from projects.store.timers import TIMERS


def accountability_job(clock: Clock, interval: float) -> Job:
    """The job for `Runtime.jobs`: a tick every `interval` seconds, "now" from `clock`."""
    return timer_job("project-timers", clock, interval, TIMERS, journal, timing.fire_row)


async def tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired."""
    return await fire_due(pool, now, TIMERS, journal, timing.fire_row)
