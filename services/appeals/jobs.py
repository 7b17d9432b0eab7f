"""The supervision job (督办): every few seconds, fire the timers that fell due.

Each timer is handled in one transaction (`minsheng.timers.fire_due`): claim it (FOR
UPDATE SKIP LOCKED, so two instances never take the same one), replay the appeal, emit
AppealEscalated through the journal (outbox, history, next sequence) and stamp the timer
fired. A crash before the commit leaves the timer due for the next tick, of this
instance or another; after it, the timer is fired and the lifecycle refuses the level
twice anyway. "Now" comes from the app's injectable clock, read at each tick.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from appeals import timing
from appeals.store import journal
from appeals.store.timers import TIMERS, unscheduled
from minsheng.clock import Clock
from minsheng.service import Job, Runtime
from minsheng.timers import fire_due, timer_job


def supervision_job(clock: Clock, interval: float) -> Job:
    """The job for `Runtime.jobs`: backfills missing timers once, then ticks forever."""
    ticks = timer_job("supervision", clock, interval, TIMERS, journal, timing.fire)

    async def supervise(runtime: Runtime) -> None:
        await _backfill(runtime.db())
        await ticks(runtime)

    return supervise


async def tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired."""
    return await fire_due(pool, now, TIMERS, journal, timing.fire)


async def _backfill(pool: asyncpg.Pool) -> None:
    """Schedules timers for appeals dispatched before timers existed (idempotent)."""
    async with pool.acquire() as conn:
        for appeal_id in await unscheduled(conn):
            async with conn.transaction():
                state = await journal.load_state(conn, appeal_id)
                if state is not None:
                    await TIMERS.schedule(conn, {state.id: timing.timers(state)})
