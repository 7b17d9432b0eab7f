"""Group commit for request handlers: concurrent callers share one transaction.

A POST that writes an appeal, its events, history and timers costs a dozen round trips
to PostgreSQL and a WAL flush; under load most of that is per-statement overhead, not
work. `Batcher` queues what concurrent callers submit and hands it to `flush` in lists,
so one transaction of a few multi-row statements serves them all. An idle batcher
flushes at once (no added latency); a busy one collects while the previous flushes run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Flush = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class Batcher(Generic[T, R]):
    """`submit` returns what `flush` answers for the item, or raises what it answered.

    `flush` gets at most `max_batch` items and answers each, in order, with a result or
    an exception of that item alone; an exception it raises fails every item of the
    batch. At most `parallel` flushes run at once (each on its own connection).
    """

    def __init__(self, flush: Flush[T, R], *, max_batch: int = 64, parallel: int = 2) -> None:
        if max_batch < 1 or parallel < 1:
            raise ValueError("max_batch and parallel must be at least 1")
        self._flush = flush
        self._max_batch = max_batch
        self._parallel = parallel
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._running: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Items submitted and not yet taken by a flush."""
        return len(self._queue)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if len(self._running) < self._parallel:
            task = asyncio.create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def _drain(self) -> None:
        while self._queue:
            taken = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            try:
                answers = await self._flush([item for item, _ in taken])
                if len(answers) != len(taken):
                    raise RuntimeError(f"flush answered {len(answers)} of {len(taken)} items")
            except BaseException as exc:  # the whole batch failed: every caller hears it
                cancelled = isinstance(exc, asyncio.CancelledError)
                for _, future in taken:
                    if future.done():
                        continue
                    if cancelled:
                        future.cancel()
                    else:
                        future.set_exception(exc)
                if cancelled:
                    raise
                continue
            for (_, future), answer in zip(taken, answers, strict=True):
                if future.done():  # the caller went away; the work is done regardless
                    continue
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)
