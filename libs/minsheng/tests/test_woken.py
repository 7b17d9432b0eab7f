"""`woken`: the wait of the loops that sleep until an event or a timeout."""

from __future__ import annotations

import asyncio

import pytest

from minsheng.resilience import woken


async def test_it_says_whether_the_event_came_or_the_time_ran_out() -> None:
    event = asyncio.Event()
    assert await woken(event, 0.01) is False
    event.set()
    assert await woken(event, 10) is True


async def test_a_cancellation_that_arrives_with_the_event_still_cancels() -> None:
    """The race `asyncio.wait_for` loses on Python 3.11: the event set and the task
    cancelled in the same turn of the loop; the waiter must end cancelled."""
    event = asyncio.Event()
    waiter = asyncio.create_task(woken(event, 10))
    await asyncio.sleep(0)  # waiting now
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
