"""Background jobs: the delivery worker, the escalation of unacknowledged pages, and the
pending gauge.

The worker claims due deliveries with FOR UPDATE SKIP LOCKED and leases them for the
length of an attempt, so any number of instances share the work without making the same
attempt; a killed instance's deliveries come due again when their lease runs out, a
stopped one's at once.
Each attempt is recorded, with the delivery's new state and (when it is finished) its
outcome event in the outbox, in one transaction, shared by all the attempts that ended
while the previous one was being written (a group commit: one write when idle, a few
per second under load). An attempt counts as done only once it is recorded. The backoff
lives in the row (`next_attempt_at`), so a restart resumes where the last run stopped.
The worker wakes on NOTIFY when deliveries are inserted, and polls besides; it claims
in lumps (once a quarter of its room is free), not one row per finished attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import asyncpg

from minsheng import outbox
from minsheng.clock import Clock
from minsheng.jobs import periodic
from minsheng.resilience import OUTAGES, run_forever, until_done, woken
from minsheng.service import Job, Runtime
from minsheng.topics import NOTIFICATIONS
from notifications import alerting, metrics, pager
from notifications.channels import Channel, Outgoing
from notifications.delivery import Answer, Finished, Policy, decide, outcome_event, shown_as
from notifications.directory import Directory
from notifications.fanout import Target
from notifications.quiet import QuietHours, send_after
from notifications.store import deliveries, pages
from notifications.store.deliveries import AttemptRecord, Due

log = logging.getLogger(__name__)

STOP_GRACE = 3.0  # seconds the attempts under way get to end when the worker stops


@dataclass
class Worker:
    clock: Clock
    channels: dict[str, Channel]
    policy: Policy
    attempt_timeout: float
    batch: int = 50
    interval: float = 1.0
    quiet: QuietHours = field(default_factory=QuietHours)
    rnd: random.Random = field(default_factory=random.Random)

    async def run(self, runtime: Runtime) -> None:
        """Works until cancelled; a database outage only pauses it."""
        await run_forever(lambda: self._work(runtime), what="delivery worker", delay=1.0)

    async def _work(self, runtime: Runtime) -> None:
        """Keeps up to `batch` attempts in flight: a slow endpoint holds only its own
        deliveries back, and finished attempts make room for the next due ones. A
        database outage pauses the claiming and the recording, never the attempts under
        way: cut off after the receiver took the message, an attempt would be sent again."""
        wake = asyncio.Event()
        in_flight: dict[asyncio.Task[None], Due] = {}
        recorder = Recorder(runtime.db())
        recording = asyncio.create_task(recorder.run())
        lump = max(1, self.batch // 4)
        listener = Listener(runtime.dsn, wake)

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.pop(task, None)
            wake.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("delivery attempt failed", exc_info=task.exception())

        try:
            while True:
                await listener.ensure()
                wake.clear()
                room = self.batch - len(in_flight)
                claimed = (
                    await until_done(partial(self.claim, runtime.db(), room), what="claiming")
                    if room >= lump
                    else []
                )
                for due in claimed:
                    task = asyncio.create_task(self.attempt(runtime.db(), due, recorder))
                    in_flight[task] = due
                    task.add_done_callback(finished)
                if not claimed:
                    await woken(wake, self.interval)
        finally:
            try:
                await asyncio.shield(self._release(runtime, in_flight, recorder))
            finally:  # even when a second cancellation cuts the release short
                recording.cancel()
                await asyncio.shield(listener.close())

    async def _release(
        self, runtime: Runtime, in_flight: dict[asyncio.Task[None], Due], recorder: Recorder
    ) -> None:
        """Stopping: the attempts under way get `STOP_GRACE` seconds to end (most take
        milliseconds; one cut off after the receiver took it would be sent again), the
        rest are abandoned and their deliveries made due at once, for the next instance
        (after a kill, their leases run out instead). An attempt that has its answer is
        written first: released unwritten, it would be sent again."""
        if in_flight:
            await asyncio.wait(in_flight, timeout=min(STOP_GRACE, self.attempt_timeout))
        abandoned = list(in_flight.values())
        for task in list(in_flight):
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.attempt_timeout):
                await recorder.drain()
        pool = runtime.current_pool()
        if abandoned and pool is not None:
            with contextlib.suppress(Exception):
                await deliveries.release(pool, abandoned, self.clock())

    async def claim(self, pool: asyncpg.Pool, room: int) -> list[Due]:
        """Takes up to `room` due deliveries, each leased for one attempt."""
        lease = self.attempt_timeout * 2 + 5  # seconds of real time, whatever the clock
        return await deliveries.claim_due(pool, self.clock(), room, lease)

    async def attempt(self, pool: asyncpg.Pool, due: Due, recorder: Recorder) -> None:
        held = send_after(self.quiet, due.recipient_kind, self.clock())
        if held > self.clock():  # a retry or an operator's resend come due at night
            await deliveries.postpone(pool, due.id, held)
            return
        started = time.perf_counter()
        answer = await self._send(due)
        duration_ms = int((time.perf_counter() - started) * 1000)
        now = self.clock()
        number = due.attempts + 1
        decision = decide(number - due.budget_start, answer, now, self.policy, self.rnd)
        record = AttemptRecord(
            number=number,
            at=now,
            result=decision.verdict,
            response_code=answer.code,
            error=decision.error,
            duration_ms=duration_ms,
            status=decision.status,
            next_attempt_at=decision.next_attempt_at,
        )
        outcome = None
        if decision.status != "pending":
            outcome = Finished(
                delivery_id=due.id,
                channel=due.channel,
                recipient=shown_as(due.recipient_kind, due.recipient),
                rule=due.rule,
                subject_event_id=None if due.subject_kind == "alert" else due.event_id,
                attempts=number,
                sequence=due.outcome_sequence + 1,
                error=None if decision.status == "delivered" else decision.error or "failed",
            )
        await recorder.record(due, record, outcome)
        if decision.status == "failed":
            log.warning(  # the recipient as events show it: never a number
                "delivery %s by %s to %s failed after %d attempts: %s",
                due.id,
                due.channel,
                shown_as(due.recipient_kind, due.recipient),
                number,
                decision.error,
            )
        metrics.ATTEMPTS.labels(due.channel, record.result).inc()
        if decision.status != "pending":
            metrics.NOTIFICATIONS.labels(due.channel, decision.status).inc()
        if decision.status == "delivered":
            age = (now - due.event_time).total_seconds()
            metrics.DELIVERY_SECONDS.labels(due.channel).observe(max(age, 0.0))

    async def _send(self, due: Due) -> Answer:
        if due.disabled:
            return Answer(410, error="endpoint disabled after an earlier 410 Gone")
        channel = self.channels.get(due.channel)
        if channel is None:
            return Answer(400, error=f"channel {due.channel} is not configured")
        message = Outgoing(due.id, due.recipient, due.address, due.title, due.body, due.payload)
        if getattr(channel, "bounded", False):  # it keeps to the attempt timeout itself
            return await channel.send(message)
        try:
            async with asyncio.timeout(self.attempt_timeout):  # not wait_for: see `woken`
                return await channel.send(message)
        except TimeoutError:
            return Answer.silence(f"no answer within {self.attempt_timeout:.0f}s")


@dataclass
class Listener:
    """The worker's LISTEN connection, opened again after a database outage closed it;
    while it is away the worker only polls."""

    dsn: str
    wake: asyncio.Event
    conn: asyncpg.Connection | None = None

    async def ensure(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            return
        with contextlib.suppress(*OUTAGES):
            conn = await asyncpg.connect(self.dsn, timeout=5)
            await conn.add_listener(deliveries.WAKE, lambda *_: self.wake.set())
            self.conn = conn

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close(timeout=2)


@dataclass
class Recorder:
    """Writes ended attempts in batches: whatever ended while the last write ran goes
    into the next transaction. `record` returns once its attempt is durable.

    An attempt handed over is written even if its caller is cancelled (a stop), and a
    database outage holds the write until the database is back: an answer that was got
    and not written would be sent again when its lease ran out."""

    pool: asyncpg.Pool
    _waiting: list[tuple[Due, AttemptRecord, Finished | None, asyncio.Future[None]]] = field(
        default_factory=list
    )
    _woken: asyncio.Event = field(default_factory=asyncio.Event)
    _handed: int = 0  # attempts handed over so far
    _settled: int = 0  # of those, written (or failed for good)
    _progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def record(self, due: Due, record: AttemptRecord, outcome: Finished | None) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((due, record, outcome, done))
        self._handed += 1
        self._woken.set()
        await done

    async def drain(self) -> None:
        """Returns once every attempt handed over before the call is settled."""
        target = self._handed
        while self._settled < target:
            self._progress.clear()
            await self._progress.wait()

    async def run(self) -> None:
        try:
            while True:
                await self._woken.wait()
                self._woken.clear()
                batch, self._waiting = self._waiting, []
                try:
                    await until_done(partial(self._write, batch), what="recording attempts")
                except Exception as exc:  # the deliveries come due again with their leases
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for *_, done in batch:
                        if not done.done():
                            done.set_result(None)
                finally:
                    self._settled += len(batch)
                    self._progress.set()
        finally:
            for *_, done in self._waiting:
                done.cancel()

    async def _write(
        self, batch: list[tuple[Due, AttemptRecord, Finished | None, asyncio.Future[None]]]
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            recorded = await deliveries.record_attempts(
                conn, [(due, record) for due, record, *_ in batch]
            )
            outcomes = [
                (outcome, record.at)
                for due, record, outcome, _ in batch
                if outcome and due.id in recorded
            ]
            await outbox.append_many(
                conn, NOTIFICATIONS, [outcome_event(o, at) for o, at in outcomes]
            )


def escalation_job(
    clock: Clock, directory: Directory, *, ack_timeout: float, interval: float
) -> Job:
    """Pages the next person of the chain when a critical page waited `ack_timeout`
    seconds without an acknowledgement; claims the pages with SKIP LOCKED."""

    async def escalate(runtime: Runtime) -> int:
        now = clock()
        async with runtime.db().acquire() as conn, conn.transaction():
            due = await pages.claim_escalations(conn, now)
            for page in due:
                step = page.step + 1
                if step >= len(page.chain):
                    await pages.escalated(conn, page.id, page.step, None)
                    continue
                target = _oncall(directory, page.chain[step])
                planned = (
                    []
                    if target is None
                    else pager.notify(
                        page.alert,
                        [target],
                        rule="page-escalation",
                        now=now,
                        page=page.id,
                        escalated=True,
                    )
                )
                await deliveries.insert_deliveries(conn, planned, now)
                last = step + 1 >= len(page.chain)
                next_at = None if last else now + timedelta(seconds=ack_timeout)
                await pages.escalated(conn, page.id, step, next_at)
        return len(due)

    return periodic("page-escalation", interval, escalate)


def _oncall(directory: Directory, person_id: str) -> Target | None:
    try:
        return alerting.oncall(directory, person_id)
    except StopIteration:
        log.warning("%s is in a page's chain but no longer in the directory", person_id)
        return None


def pending_gauge(interval: float = 5.0) -> Job:
    """Keeps `minsheng_notifications_pending{channel}` in step with the table."""

    async def count(runtime: Runtime) -> int:
        found = await deliveries.pending_by_channel(runtime.db())
        for channel in metrics.CHANNELS:
            metrics.PENDING.labels(channel).set(found.get(channel, 0))
        return 0

    return periodic("pending-gauge", interval, count)
