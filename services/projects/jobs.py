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
from minsheng.jobs import periodic
from minsheng.reference import pairings
from minsheng.service import Job, Runtime
from minsheng.timers import fire_due, timer_job
from projects import timing, visits
from projects.store import journal
from projects.store import visits as pairing_store
from projects.store.timers import TIMERS


def accountability_job(clock: Clock, interval: float) -> Job:
    """The job for `Runtime.jobs`: a tick every `interval` seconds, "now" from `clock`."""
    return timer_job("project-timers", clock, interval, TIMERS, journal, timing.fire_row)


async def tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired."""
    return await fire_due(pool, now, TIMERS, journal, timing.fire_row)


def workday_job(clock: Clock, interval: float) -> Job:
    """社区工作日: first makes the reference data's pairings known (each watched from the
    month after), then every `interval` seconds reports the months that ended without a
    visit: WorkDayVisitMissed, once each (`visits.fire`)."""
    known = False

    async def step(runtime: Runtime) -> int:
        nonlocal known
        added = 0
        if not known:
            async with runtime.db().acquire() as conn:
                added = await pairing_store.know(conn, pairings().values(), clock())
            known = True
        return added + await workday_tick(runtime.db(), clock())

    return periodic("workday-timers", interval, step)


async def workday_tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Reports every month that ended without a visit by `now`; returns how many."""
    return await fire_due(pool, now, pairing_store.TIMERS, pairing_store, visits.fire_row)
