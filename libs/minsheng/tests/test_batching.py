"""The group-commit batcher: batches form under concurrency, answers go to their callers."""

from __future__ import annotations

import asyncio

import pytest

from minsheng.batching import Batcher
from testkit.integration.helpers import eventually


async def holds(condition: bool) -> bool:
    return condition


class Gate:
    """A flush that records its batches and waits until the test opens it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.opened = asyncio.Event()

    async def flush(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(items)
        await self.opened.wait()
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


async def test_an_idle_batcher_flushes_a_lone_item_at_once() -> None:
    gate = Gate()
    gate.opened.set()
    batcher = Batcher(gate.flush)
    assert await batcher.submit(4) == 40
    assert gate.batches == [[4]]


async def test_callers_waiting_behind_a_flush_share_the_next_ones() -> None:
    gate = Gate()
    batcher = Batcher(gate.flush, max_batch=4, parallel=1)
    first = asyncio.ensure_future(batcher.submit(0))
    await eventually(lambda: holds(len(gate.batches) == 1), bool, interval=0.001)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(2, 20, 2)]
    await eventually(lambda: holds(batcher.pending == 9), bool, interval=0.001)
    gate.opened.set()
    assert await first == 0
    assert [await r for r in rest] == [i * 10 for i in range(2, 20, 2)]
    assert gate.batches == [[0], [2, 4, 6, 8], [10, 12, 14, 16], [18]]


async def test_an_item_answered_with_an_exception_raises_it_for_that_caller_only() -> None:
    gate = Gate()
    gate.opened.set()
    batcher = Batcher(gate.flush)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(4)), return_exceptions=True)
    assert [results[0], results[2]] == [0, 20]
    assert [str(results[1]), str(results[3])] == ["odd 1", "odd 3"]
    assert isinstance(results[1], ValueError)


async def test_a_failing_flush_fails_every_caller_of_its_batch_and_the_batcher_goes_on() -> None:
    calls = 0

    async def flush(items: list[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush)
    with pytest.raises(ConnectionError):
        await batcher.submit(1)
    assert await batcher.submit(2) == 2


async def test_a_flush_answering_the_wrong_number_of_items_is_an_error() -> None:
    async def flush(items: list[int]) -> list[int | BaseException]:
        return []

    with pytest.raises(RuntimeError, match="answered 0 of 1"):
        await Batcher(flush).submit(1)


async def test_parallel_flushes_are_bounded() -> None:
    running = peak = 0
    release = asyncio.Event()

    async def flush(items: list[int]) -> list[int | BaseException]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush, max_batch=1, parallel=3)
    calls = [asyncio.ensure_future(batcher.submit(i)) for i in range(10)]
    await eventually(lambda: holds(running == 3 and batcher.pending == 7), bool, interval=0.001)
    release.set()
    assert [await c for c in calls] == list(range(10))
    assert peak == 3


def test_nonsense_limits_are_refused() -> None:
    async def flush(items: list[int]) -> list[int | BaseException]:
        return list(items)

    with pytest.raises(ValueError, match="at least 1"):
        Batcher(flush, max_batch=0)
