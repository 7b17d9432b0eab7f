"""The attempts' recorder and the worker's loop: an answer handed over is written through
a database outage and through the cancellation of the attempt that got it (a stop), and
an outage never cuts off an attempt under way, so nothing is sent again for want of its
record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from asyncpg.exceptions import AdminShutdownError

from notifications.delivery import Policy
from notifications.jobs import Recorder, Worker
from notifications.store.deliveries import AttemptRecord, Due

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
SENT = AttemptRecord(1, NOW, "delivered", 200, None, 3, "delivered", None)


def due(i: int) -> Due:
    return Due(
        f"ntf_{i}", None, NOW, "r", "unit-a", "unit", "webhook", "http://x", "appeal",
        "t", "b", "{}", 0, 0, 0, False,
    )  # fmt: skip


@dataclass
class Flaky(Recorder):
    """A recorder whose first `outages` writes find the database away, and whose writes
    wait for `gate` when it is given; it keeps what it wrote."""

    outages: int = 0
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    written: list[str] = field(default_factory=list)

    async def _write(self, batch: list[Any]) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.outages:
            self.outages -= 1
            raise ConnectionRefusedError("the database is restarting")
        self.written += [d.id for d, *_ in batch]


async def test_an_outage_holds_the_write_until_the_database_is_back() -> None:
    recorder = Flaky(pool=None, outages=2)  # type: ignore[arg-type]
    running = asyncio.create_task(recorder.run())
    try:
        async with asyncio.timeout(10):
            await recorder.record(due(1), SENT, None)
        assert recorder.written == ["ntf_1"]
        assert recorder.outages == 0  # it was refused twice and tried again
    finally:
        running.cancel()


async def test_an_error_that_is_no_outage_fails_the_record() -> None:
    class Broken(Recorder):
        async def _write(self, batch: list[Any]) -> None:
            raise ValueError("a bug")

    recorder = Broken(pool=None)  # type: ignore[arg-type]
    running = asyncio.create_task(recorder.run())
    try:
        with pytest.raises(ValueError, match="a bug"):
            await recorder.record(due(1), SENT, None)
    finally:
        running.cancel()


async def test_an_attempt_cancelled_after_its_answer_is_still_written_and_drained() -> None:
    gate = asyncio.Event()
    recorder = Flaky(pool=None, gate=gate)  # type: ignore[arg-type]
    running = asyncio.create_task(recorder.run())
    attempts = [asyncio.create_task(recorder.record(due(i), SENT, None)) for i in (1, 2)]

    async def stop() -> None:  # the worker stops while the write waits at the gate
        await recorder.entered.wait()
        for attempt in attempts:
            attempt.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)
        gate.set()

    stopping = asyncio.create_task(stop())
    try:
        async with asyncio.timeout(10):
            await recorder.entered.wait()
            await recorder.drain()
        assert sorted(recorder.written) == ["ntf_1", "ntf_2"]
        assert all(a.cancelled() for a in attempts)
    finally:
        running.cancel()
        stopping.cancel()


@dataclass
class Paused(Worker):
    """A worker whose first claim gives one delivery, whose second finds the database
    restarting, and whose attempt waits for `gate`; it keeps what happened."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    claims: int = 0
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: list[str] = field(default_factory=list)
    over: asyncio.Event = field(default_factory=asyncio.Event)

    async def claim(self, pool: Any, room: int) -> list[Due]:
        self.claims += 1
        if self.claims == 2:
            raise AdminShutdownError("terminating connection due to administrator command")
        if self.claims > 2:
            self.resumed.set()
        return [due(1)] if self.claims == 1 else []

    async def attempt(self, pool: Any, d: Due, recorder: Recorder) -> None:
        try:
            await self.gate.wait()
            self.ended.append("answered")
        except asyncio.CancelledError:
            self.ended.append("cut off")
            raise
        finally:
            self.over.set()


@dataclass
class Offline:
    """What the worker reads of its runtime, with no database behind it."""

    dsn: str = "postgresql://nobody@127.0.0.1:1/none"

    def db(self) -> Any:
        return None

    def current_pool(self) -> Any:
        return None


async def test_a_database_restart_while_an_attempt_is_in_flight_does_not_cut_it_off() -> None:
    """Cut off, the attempt's message may have reached its receiver: it would be sent
    again when its lease ran out. The claiming waits the outage out instead."""
    worker = Paused(clock=lambda: NOW, channels={}, policy=Policy(), attempt_timeout=10.0)
    running = asyncio.create_task(worker.run(Offline()))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(20):
            await worker.resumed.wait()  # claiming again after the outage, the attempt on
            worker.gate.set()
            await worker.over.wait()
        assert worker.ended == ["answered"]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
